// SPAN, PLKSR and RealPLKSR train end to end on the tiny synthetic data set (tests/train/helpers.h):
// a few iterations without a non-finite loss (the trainer throws on one), finite validation PSNR and
// weights, and an exact resume (SPAN's eval_conv is re-folded at every validation).
#include <gtest/gtest.h>

#include <cmath>

#include "core/config.h"
#include "tests/train/helpers.h"

using srlab::core::Config;

namespace {

Config arch_config(const std::string& name, const std::string& model) {
  const std::string d = srlab::testing::make_train_dataset().string();
  return Config::parse("name: " + name + R"(
seed: 11
device: cpu
threads: 1
scale: 2
model: )" + model + R"(
data:
  train: {hr_dirs: [")" + d + R"("], batch_size: 2, lr_patch: 8, workers: 1}
  val: {dir: ")" + d + R"(", every: 3}
losses: [{type: l1, weight: 1.0}]
optimizer: {type: adam, lr: 5.0e-4}
train: {iters: 6, ema_decay: 0.9, log_every: 2, save_every: 3}
)",
                       name + ".yaml");
}

void expect_trains_and_resumes(const std::string& tag, const std::string& model) {
  auto straight = srlab::testing::run_train(arch_config(tag + "_straight", model));
  EXPECT_EQ(straight.iterations, 6) << model;
  EXPECT_TRUE(std::isfinite(straight.best_psnr)) << model;
  const auto w = srlab::testing::generator_weights(straight.run_dir / "checkpoints/latest.pt", false);
  for (const auto& t : w) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << model;
  auto first = srlab::testing::run_train(arch_config(tag + "_resumed", model), {}, /*stop_after=*/4);
  ASSERT_TRUE(first.interrupted);
  auto second = srlab::testing::run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 6);
  for (bool ema : {false, true})
    EXPECT_TRUE(srlab::testing::same_tensors(
        srlab::testing::generator_weights(straight.run_dir / "checkpoints/latest.pt", ema),
        srlab::testing::generator_weights(second.run_dir / "checkpoints/latest.pt", ema)))
        << model << " ema " << ema;
}

}  // namespace

TEST(ArchTraining, SpanTrainsWithoutNaNAndResumesExactly) {
  expect_trains_and_resumes("span", "{type: span, feature_channels: 6}");
}

TEST(ArchTraining, RealPlksrTrainsWithoutNaNAndResumesExactly) {
  expect_trains_and_resumes("realplksr", "{type: realplksr, dim: 8, n_blocks: 1, kernel_size: 5, dysample: true}");
}

TEST(ArchTraining, PlksrTrainsWithoutNaNAndResumesExactly) {
  expect_trains_and_resumes("plksr", "{type: plksr, dim: 8, n_blocks: 1, kernel_size: 5}");
}
