#include "train/train_log.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/fs.h"

namespace srlab::train {
namespace fs = std::filesystem;

namespace {

std::string opt_num(double v, const char* f = "{:.4f}") { return std::isnan(v) ? "" : fmt::format(fmt::runtime(f), v); }

}  // namespace

CsvLog::CsvLog(const fs::path& path, const std::vector<std::string>& loss_terms, const std::vector<std::string>& extra,
               int64_t resume_iter, bool resume) {
  std::string header = "iteration,lr,loss";
  for (const auto& t : loss_terms) header += ",loss_" + t;
  for (const auto& e : extra) header += "," + e;
  header += ",samples_per_s,val_psnr,val_ssim\n";
  if (resume && fs::exists(path)) {
    std::ifstream in(path);
    std::string line, kept;
    bool first = true;
    while (std::getline(in, line)) {
      if (first) {
        kept += line + "\n";
        first = false;
        continue;
      }
      const auto comma = line.find(',');
      if (comma != std::string::npos && std::stoll(line.substr(0, comma)) <= resume_iter) kept += line + "\n";
    }
    core::write_file_atomic(path, kept);
  } else {
    core::write_file_atomic(path, header);
  }
  out_.open(path, std::ios::app);
}

void CsvLog::row(const std::string& r) { out_ << r << '\n' << std::flush; }

void LogWindow::add(double loss, const std::vector<std::pair<std::string, double>>& terms, const DiscriminatorStats& d,
                    int64_t samples) {
  loss_ += loss;
  for (size_t i = 0; i < terms.size() && i < terms_.size(); ++i) terms_[i] += terms[i].second;
  ++n_;
  if (d.steps > 0) {
    d_loss_ += d.loss;
    d_real_ += d.real;
    d_fake_ += d.fake;
    ++d_n_;
  }
  samples_ += samples;
}

double LogWindow::samples_per_s() const {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return secs > 0 ? samples_ / secs : 0.0;
}

std::string LogWindow::line(int64_t it, int64_t iters, double lr, double sps, const std::string& eta, const ValidationScore& val,
                            const std::string& val_name, const std::string& best_text) const {
  std::string terms_text;
  if (names_.size() > 1 || gan_) {
    for (size_t i = 0; i < names_.size(); ++i)
      terms_text += fmt::format("{}{} {:.5f}", i ? ", " : " (", names_[i], mean(terms_[i], n_));
    terms_text += ")";
  }
  std::string line = fmt::format("iter {}/{} | loss {:.5f}{}", it, iters, mean(loss_, n_), terms_text);
  if (gan_)
    line += fmt::format(" | D loss {:.5f} (real logit {:.3f}, fake logit {:.3f})", mean(d_loss_, d_n_),
                        mean(d_real_, d_n_), mean(d_fake_, d_n_));
  line += fmt::format(" | lr {:.2e} | {:.0f} samples/s | ETA {}", lr, sps, eta);
  if (val.done)
    line += fmt::format(" | val {} {:.3f} dB / {:.4f} ({})", val_name, val.psnr, val.ssim, best_text);
  return line;
}

std::string LogWindow::csv_row(int64_t it, double lr, double d_lr, double sps, const ValidationScore& val) const {
  std::string row = fmt::format("{},{:.6e},{}", it, lr, opt_num(mean(loss_, n_), "{:.6f}"));
  for (double t : terms_) row += "," + opt_num(mean(t, n_), "{:.6f}");
  if (gan_)
    row += fmt::format(",{:.6e},{},{},{}", d_lr, opt_num(mean(d_loss_, d_n_), "{:.6f}"),
                       opt_num(mean(d_real_, d_n_), "{:.6f}"), opt_num(mean(d_fake_, d_n_), "{:.6f}"));
  row += fmt::format(",{:.1f},{},{}", sps, opt_num(val.psnr), opt_num(val.ssim, "{:.5f}"));
  return row;
}

std::vector<std::pair<std::string, double>> LogWindow::means() const {
  std::vector<std::pair<std::string, double>> out{{"loss", mean(loss_, n_)}};
  for (size_t i = 0; i < names_.size(); ++i) out.emplace_back("loss_" + names_[i], mean(terms_[i], n_));
  if (gan_) {
    out.emplace_back("d_loss", mean(d_loss_, d_n_));
    out.emplace_back("d_real", mean(d_real_, d_n_));
    out.emplace_back("d_fake", mean(d_fake_, d_n_));
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& kv) { return std::isnan(kv.second); }), out.end());
  return out;
}

void LogWindow::reset() {
  loss_ = 0.0;
  std::fill(terms_.begin(), terms_.end(), 0.0);
  n_ = 0;
  d_loss_ = d_real_ = d_fake_ = 0.0;
  d_n_ = 0;
  samples_ = 0;
  start_ = std::chrono::steady_clock::now();
}

std::string format_duration(double seconds) {
  const int s = static_cast<int>(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace srlab::train
