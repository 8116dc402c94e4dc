#include "train/scalar_sink.h"

#include <cmath>
#include <exception>

#include "core/log.h"

namespace srlab::train {

ScalarLog::ScalarLog(const ScalarSinkFactory& factory, const std::filesystem::path& run_dir, int64_t start_step,
                     bool resume, std::string what)
    : what_(std::move(what)) {
  if (!factory) return;
  try {
    sink_ = factory(run_dir, start_step, resume);
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

void ScalarLog::write(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  if (!sink_) return;
  std::vector<std::pair<std::string, double>> kept;
  for (const auto& v : values)
    if (!std::isnan(v.second)) kept.push_back(v);
  try {
    sink_->scalars(step, kept);
    sink_->flush();
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

void ScalarLog::fail(const std::string& message) {
  sink_.reset();
  core::log_line("warning: " + what_ + " disabled for the rest of this session: " + message);
}

}  // namespace srlab::train
