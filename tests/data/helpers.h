#pragma once
// Shared helpers for the data/ tests.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "tests/test_util.h"

namespace srlab::data::testing {

/// A fresh, empty temporary folder removed at scope exit.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "srlab";
    path_ = std::filesystem::temp_directory_path() / ("srlab_data_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

/// PSNR in dB between two [0,1] tensors over all elements, peak 1, in double.
inline double psnr01(const torch::Tensor& a, const torch::Tensor& b) {
  const double mse = (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).pow(2).mean().item<double>();
  return mse == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(1.0 / mse);
}

/// Expects `f` to throw srlab::Error whose message contains `needle` (via srlab::testing::error_of).
template <typename F>
void expect_error_containing(F&& f, const std::string& needle) {
  const std::string msg = srlab::testing::error_of(std::forward<F>(f));
  EXPECT_NE(msg.find(needle), std::string::npos) << "expected an srlab::Error containing '" << needle
                                                 << "', message: " << msg;
}

}  // namespace srlab::data::testing
