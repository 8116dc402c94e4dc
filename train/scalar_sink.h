#pragma once
// Where the trainer sends the numbers of each metrics.csv row besides the CSV itself: an interface, so
// that the trainer does not depend on any file format. The CLI installs a TensorBoard event-file writer
// (cli/tensorboard/tensorboard_sink.h; protobuf stays out of the training library, issue 15).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace srlab::train {

/// Receives the scalars of one log step, e.g. {"train/loss", 0.0123}, {"val/psnr", 31.2}.
class ScalarSink {
 public:
  virtual ~ScalarSink() = default;
  /// The values (tag, value) of log step `step` (iterations completed). NaN values are never passed.
  /// May throw (any std::exception) when the destination cannot be written.
  virtual void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) = 0;
  /// Makes everything passed so far durable (called after each log step). May throw like scalars().
  virtual void flush() {}
};

/// Makes the sink of a run: `run_dir` exists; `start_step` is the iteration the session starts from
/// (0, or the checkpoint's iteration on resume, `resume` true). Called on rank 0 only.
using ScalarSinkFactory =
    std::function<std::unique_ptr<ScalarSink>(const std::filesystem::path& run_dir, int64_t start_step, bool resume)>;

/// The trainer's handle on its (optional) sink: NaN values are dropped, and a sink that fails (factory,
/// scalars() or flush() throws) logs one warning naming `what` and is dropped, so that training never
/// stops for it (like curves.png).
class ScalarLog {
 public:
  ScalarLog() = default;
  /// Calls `factory` (when set) for the run; a failure logs the warning and leaves the log inactive.
  ScalarLog(const ScalarSinkFactory& factory, const std::filesystem::path& run_dir, int64_t start_step, bool resume,
            std::string what);
  /// Passes the non-NaN `values` of log step `step` to the sink and flushes it.
  void write(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  bool active() const { return sink_ != nullptr; }

 private:
  void fail(const std::string& message);
  std::unique_ptr<ScalarSink> sink_;
  std::string what_;
};

}  // namespace srlab::train
