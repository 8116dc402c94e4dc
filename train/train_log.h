#pragma once
// Logging of a training run: metrics.csv and the meters of one logging window (means of the loss terms
// and, in GAN runs, of the discriminator's loss and logits, samples/s), formatted as the train.log line
// and the metrics.csv row of a log step.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "train/objective.h"

namespace srlab::train {

/// metrics.csv: header "iteration,lr,loss,loss_<term>...,<extra>...,samples_per_s,val_psnr,val_ssim";
/// rows are appended and flushed. On resume, rows after `resume_iter` are dropped (atomically rewritten)
/// so the log matches the resumed trajectory. Throws srlab::Error when the file cannot be written.
class CsvLog {
 public:
  /// `extra`: more columns after the loss terms (the discriminator's, in GAN runs).
  CsvLog(const std::filesystem::path& path, const std::vector<std::string>& loss_terms,
         const std::vector<std::string>& extra, int64_t resume_iter, bool resume);
  void row(const std::string& r);

 private:
  std::ofstream out_;
};

/// The validation result of a log step.
struct ValidationScore {
  bool done = false;  ///< validated at this step
  double psnr = NAN;  ///< dB (NaN when not validated)
  double ssim = NAN;
};

/// The meters of one logging window.
class LogWindow {
 public:
  explicit LogWindow(std::vector<std::string> term_names, bool gan)
      : names_(std::move(term_names)), gan_(gan), terms_(names_.size(), 0.0) {}

  /// Adds one finished iteration: total loss, (name, value) terms, the D stats (steps 0: no D update)
  /// and the number of samples it consumed (all ranks).
  void add(double loss, const std::vector<std::pair<std::string, double>>& terms, const DiscriminatorStats& d,
           int64_t samples);

  /// Samples per second of wall time since the window started.
  double samples_per_s() const;

  /// The train.log line of iteration `it` of `iters` (loss, terms, D loss and logits, lr, samples/s `sps`
  /// (taken before validation), ETA `eta`, and when validated the score `val` on `val_name` with the
  /// best-so-far `best_text`).
  std::string line(int64_t it, int64_t iters, double lr, double sps, const std::string& eta, const ValidationScore& val,
                   const std::string& val_name, const std::string& best_text) const;

  /// The metrics.csv row of iteration `it` (D columns in GAN runs: d_lr, d_loss, d_real, d_fake).
  std::string csv_row(int64_t it, double lr, double d_lr, double sps, const ValidationScore& val) const;

  /// The window's (tag, value) means for scalar sinks, e.g. ("loss", ..), ("loss_l1", ..), ("d_loss", ..);
  /// NaN entries (nothing to average) are left out.
  std::vector<std::pair<std::string, double>> means() const;

  /// Starts a new window (zeroes the meters and restarts the clock).
  void reset();

 private:
  double mean(double sum, int n) const { return n ? sum / n : NAN; }
  std::vector<std::string> names_;
  bool gan_ = false;
  double loss_ = 0.0;
  std::vector<double> terms_;
  int n_ = 0;
  double d_loss_ = 0.0, d_real_ = 0.0, d_fake_ = 0.0;
  int d_n_ = 0;
  int64_t samples_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

}  // namespace srlab::train
