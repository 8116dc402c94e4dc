// Issue 27: the GPU speed settings (train.channels_last, tf32, cudnn_tf32, cudnn_benchmark; train/speed_settings.h).
// On the CPU, channels_last training must give the losses of contiguous training (<= 1e-5 after 20 steps), and
// the other keys are accepted and logged as having no effect.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/test_device.h"
#include "tests/train/helpers.h"
#include "train/speed_settings.h"
#include "train/train_config.h"

namespace test_speed_settings_test {
using srlab::testing::run_train;
using srlab::testing::tiny_train_config;

/// The `loss` column of each metrics.csv row.
std::vector<double> losses_of(const std::filesystem::path& run_dir) {
  std::ifstream csv(run_dir / "metrics.csv");
  std::string line;
  std::getline(csv, line);  // header: iteration,lr,loss,...
  std::vector<double> out;
  while (std::getline(csv, line)) {
    std::stringstream row(line);
    std::string cell;
    for (int col = 0; col < 3 && std::getline(row, cell, ','); ++col)
      if (col == 2) out.push_back(std::stod(cell));
  }
  return out;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

/// tiny_train_config for 20 iterations, a metrics.csv row per iteration.
srlab::core::Config twenty_steps(const std::string& name, const std::string& train_extra) {
  auto c = tiny_train_config(name, train_extra);
  c.set_override("train.iters=20");
  c.set_override("train.log_every=1");
  return c;
}

TEST(SpeedSettings, ChannelsLastTrainsLikeContiguousOnCpu) {
  const auto plain = run_train(twenty_steps("cl_off", ", channels_last: false"));
  const auto nhwc = run_train(twenty_steps("cl_on", ", channels_last: true"));
  const auto a = losses_of(plain.run_dir), b = losses_of(nhwc.run_dir);
  ASSERT_EQ(a.size(), 20u);
  ASSERT_EQ(b.size(), a.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LE(worst, 1e-5);
  const auto wa = srlab::testing::generator_weights(plain.run_dir / "checkpoints/latest.pt", false);
  const auto wb = srlab::testing::generator_weights(nhwc.run_dir / "checkpoints/latest.pt", false);
  ASSERT_EQ(wa.size(), wb.size());
  double dw = 0;
  for (size_t i = 0; i < wa.size(); ++i) dw = std::max(dw, (wa[i] - wb[i]).abs().max().item<double>());
  EXPECT_LE(dw, 1e-5);
  std::cout << "channels_last vs contiguous, 20 steps on the CPU: max |dloss| = " << worst << ", max |dw| = " << dw << "\n";
  EXPECT_NE(read_all(nhwc.run_dir / "train.log").find("channels_last on"), std::string::npos);
}

// The CUDA side (runs with SRLAB_TEST_DEVICE=cuda, tests/test_device.h; skipped on the CPU): autocast fp16 and bf16
// with the CUDA default channels_last train 20 steps with finite losses, and their first loss (same initial
// weights, same batch) is within 1% of the float32 run's: fp16/bf16 keep 11/8 significant bits, so single ops
// err by <= 0.05% / 0.4%, and the mean over the batch averages that down; later steps are not compared (the
// weights drift apart with the rounding of every update).
TEST(SpeedSettings, AutocastWithChannelsLastTrainsOnCuda) {
  if (!srlab::testing::test_on_cuda()) GTEST_SKIP() << "runs with SRLAB_TEST_DEVICE=cuda (tests/test_device.h)";
  auto run_twenty = [](const std::string& name, const std::string& train_extra) {
    auto c = tiny_train_config(name, train_extra, "", srlab::testing::test_device());
    c.set_override("train.iters=20");
    c.set_override("train.log_every=1");
    return run_train(c);
  };
  const auto fp32 = losses_of(run_twenty("cuda_fp32", "").run_dir);
  ASSERT_EQ(fp32.size(), 20u);
  for (const std::string amp : {"fp16", "bf16"}) {
    const auto s = run_twenty("cuda_" + amp, ", amp: " + amp);
    const auto l = losses_of(s.run_dir);
    ASSERT_EQ(l.size(), 20u) << amp;
    for (double v : l) EXPECT_TRUE(std::isfinite(v)) << amp;
    EXPECT_LE(std::abs(l[0] - fp32[0]), 0.01 * fp32[0]) << amp << ": " << l[0] << " vs float32 " << fp32[0];
    EXPECT_NE(read_all(s.run_dir / "train.log").find("channels_last on"), std::string::npos) << amp;
  }
}

TEST(SpeedSettings, GpuKeysAreAcceptedAndLoggedAsNoEffectOnCpu) {
  auto c = tiny_train_config("gpu_keys", ", tf32: true, cudnn_tf32: false, cudnn_benchmark: false");
  c.set_override("train.iters=2");
  const auto s = run_train(c);
  const std::string log = read_all(s.run_dir / "train.log");
  EXPECT_NE(log.find("channels_last off (default off on the CPU); tf32, cudnn_tf32 and cudnn_benchmark have no effect on cpu"),
            std::string::npos)
      << log;
}

TEST(SpeedSettings, DefaultsFollowTheAnchors) {
  using srlab::train::AmpMode;
  const auto c = srlab::train::TrainConfig::from_config(tiny_train_config("defaults"));
  EXPECT_FALSE(c.speed.tf32);
  EXPECT_TRUE(c.speed.cudnn_tf32);
  EXPECT_TRUE(c.speed.cudnn_benchmark);
  EXPECT_FALSE(c.speed.channels_last.has_value());
  EXPECT_FALSE(srlab::train::resolve_channels_last(c.speed, AmpMode::off, torch::Device("cpu")));
  EXPECT_FALSE(srlab::train::resolve_channels_last(c.speed, AmpMode::bf16, torch::Device("cpu")));
  EXPECT_TRUE(srlab::train::resolve_channels_last(c.speed, AmpMode::bf16, torch::Device(torch::kCUDA, 0)));
  EXPECT_FALSE(srlab::train::resolve_channels_last(c.speed, AmpMode::off, torch::Device(torch::kCUDA, 0)));
}

TEST(SpeedSettings, WrongTypesNameTheKey) {
  for (const std::string key : {"channels_last", "tf32", "cudnn_tf32", "cudnn_benchmark"}) {
    try {
      srlab::train::TrainConfig::from_config(tiny_train_config("bad_" + key, ", " + key + ": sometimes"));
      ADD_FAILURE() << key << " accepted 'sometimes'";
    } catch (const srlab::Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(SpeedSettings, ToChannelsLastKeepsValuesAndIdentity) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3));
  const torch::Tensor before = conv->weight.detach().clone();
  const auto* impl = conv->weight.unsafeGetTensorImpl();
  srlab::train::to_channels_last(*conv);
  EXPECT_TRUE(conv->weight.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(conv->weight, before));
  EXPECT_EQ(conv->weight.unsafeGetTensorImpl(), impl);
}

}  // namespace test_speed_settings_test
