// data.train.degradation_device: train — the loader hands HR patches and drawn parameters, the train
// step degrades the batch with the tensor pipeline. Runs are reproducible and resume exactly, like the
// loader path; bad values are config errors.
#include <gtest/gtest.h>

#include <string>

#include "core/config.h"
#include "core/error.h"
#include "tests/test_device.h"
#include "tests/test_util.h"
#include "tests/train/helpers.h"
#include "train/device_degradation.h"

namespace fs = std::filesystem;
using srlab::core::Config;

namespace test_degradation_device_test {

Config degraded_config(const std::string& name, const std::string& device_key) {
  const std::string d = srlab::testing::make_train_dataset().string();
  return Config::parse("name: " + name + R"(
seed: 5
device: )" + srlab::testing::test_device_yaml() + R"(
threads: 1
scale: 2
model: {type: espcn, num_feat: 8}
data:
  train:
    hr_dirs: [")" + d + R"("]
    batch_size: 3
    lr_patch: 16
    workers: 2
    degradation: {type: first_order}
)" + device_key + R"(
losses: [{type: l1, weight: 1.0}]
optimizer: {type: adam, lr: 1.0e-3}
train: {iters: 6, ema_decay: 0, log_every: 2, save_every: 3)" + srlab::testing::test_device_train_keys() + R"(}
)", name + ".yaml");
}

std::vector<torch::Tensor> final_weights(const srlab::train::TrainSummary& s) {
  return srlab::testing::generator_weights(s.run_dir / "checkpoints/latest.pt", false);
}

TEST(DegradationDevice, TrainStepDegradationIsReproducibleAndResumesExactly) {
  const std::string key = "    degradation_device: train";
  const auto a = srlab::testing::run_train(degraded_config("dd_train_a", key));
  const auto b = srlab::testing::run_train(degraded_config("dd_train_b", key));
  EXPECT_TRUE(srlab::testing::same_tensors(final_weights(a), final_weights(b)));
  const auto first = srlab::testing::run_train(degraded_config("dd_train_resumed", key), {}, /*stop_after=*/3);
  ASSERT_TRUE(first.interrupted);
  const auto second = srlab::testing::run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 6);
  EXPECT_TRUE(srlab::testing::same_tensors(final_weights(a), final_weights(second)));
  // The loader path draws the same parameters but degrades in OpenCV: close, not bit-identical LR.
  const auto on_loader = srlab::testing::run_train(degraded_config("dd_loader", "    degradation_device: loader"));
  EXPECT_FALSE(srlab::testing::same_tensors(final_weights(a), final_weights(on_loader)));
}

TEST(DegradationDevice, AutoPicksTheTrainStepOnCudaOnly) {
  using srlab::train::DegradationDevice;
  EXPECT_EQ(srlab::train::resolve_degradation_device("auto", torch::kCPU), DegradationDevice::loader);
  EXPECT_EQ(srlab::train::resolve_degradation_device("auto", torch::Device("cuda:0")), DegradationDevice::train);
  EXPECT_EQ(srlab::train::resolve_degradation_device("train", torch::kCPU), DegradationDevice::train);
  EXPECT_EQ(srlab::train::resolve_degradation_device("loader", torch::Device("cuda:0")), DegradationDevice::loader);
}

TEST(DegradationDevice, BadValuesAreConfigErrors) {
  const std::string bad = srlab::testing::error_of(
      [] { srlab::testing::run_train(degraded_config("dd_bad", "    degradation_device: gpu")); });
  EXPECT_NE(bad.find("degradation_device"), std::string::npos) << bad;
  EXPECT_NE(bad.find("gpu"), std::string::npos) << bad;
  Config no_degradation = degraded_config("dd_none", "    degradation_device: train");
  YAML::Node(no_degradation.at("data").at("train").node()).remove("degradation");
  const std::string none = srlab::testing::error_of([&] { srlab::testing::run_train(no_degradation); });
  EXPECT_NE(none.find("only applies to on-the-fly LR"), std::string::npos) << none;
}

}  // namespace test_degradation_device_test
