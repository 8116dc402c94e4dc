// SPAN, PLKSR, RealPLKSR and the nine zoo architectures (issue 29) train end to end on the tiny synthetic data set (tests/train/helpers.h):
// a few iterations without a non-finite loss (the trainer throws on one), finite validation PSNR and
// weights, and an exact resume (SPAN's eval_conv is re-folded at every validation); GAN mode with each.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "tests/test_device.h"
#include "tests/train/helpers.h"

using srlab::core::Config;

namespace test_arch_training_test {

std::string arch_yaml(const std::string& name, const std::string& model,
                      const std::string& losses = "[{type: l1, weight: 1.0}]", int lr_patch = 8) {
  const std::string d = srlab::testing::make_train_dataset().string();
  return "name: " + name + R"(
seed: 11
device: )" + srlab::testing::test_device_yaml() + R"(
threads: 1
scale: 2
model: )" + model + R"(
data:
  train: {hr_dirs: [")" + d + R"("], batch_size: 2, lr_patch: )" + std::to_string(lr_patch) + R"(, workers: 1}
  val: {dir: ")" + d + R"(", every: 3}
losses: )" + losses + R"(
optimizer: {type: adam, lr: 5.0e-4}
train: {iters: 6, ema_decay: 0.9, log_every: 2, save_every: 3)" + srlab::testing::test_device_train_keys() + R"(}
)";
}

Config arch_config(const std::string& name, const std::string& model, int lr_patch = 8) {
  return Config::parse(arch_yaml(name, model, "[{type: l1, weight: 1.0}]", lr_patch), name + ".yaml");
}

void expect_trains_and_resumes(const std::string& tag, const std::string& model, int lr_patch = 8) {
  auto straight = srlab::testing::run_train(arch_config(tag + "_straight", model, lr_patch));
  EXPECT_EQ(straight.iterations, 6) << model;
  EXPECT_TRUE(std::isfinite(straight.best_psnr)) << model;
  const auto w = srlab::testing::generator_weights(straight.run_dir / "checkpoints/latest.pt", false);
  for (const auto& t : w) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << model;
  auto first = srlab::testing::run_train(arch_config(tag + "_resumed", model, lr_patch), {}, /*stop_after=*/4);
  ASSERT_TRUE(first.interrupted);
  auto second = srlab::testing::run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 6);
  for (bool ema : {false, true})
    EXPECT_TRUE(srlab::testing::same_tensors(
        srlab::testing::generator_weights(straight.run_dir / "checkpoints/latest.pt", ema),
        srlab::testing::generator_weights(second.run_dir / "checkpoints/latest.pt", ema)))
        << model << " ema " << ema;
}

TEST(ArchTraining, SpanTrainsWithoutNaNAndResumesExactly) {
  expect_trains_and_resumes("span", "{type: span, feature_channels: 6}");
}

TEST(ArchTraining, RealPlksrTrainsWithoutNaNAndResumesExactly) {
  expect_trains_and_resumes("realplksr", "{type: realplksr, dim: 8, n_blocks: 1, kernel_size: 5, dysample: true}");
}

TEST(ArchTraining, PlksrTrainsWithoutNaNAndResumesExactly) {
  expect_trains_and_resumes("plksr", "{type: plksr, dim: 8, n_blocks: 1, kernel_size: 5}");
}

// GAN mode (train/gan_step.h) with each new generator against the U-Net discriminator: a few iterations
// without a non-finite loss, the discriminator's columns in metrics.csv, and an exact resume.
TEST(ArchTraining, NewGeneratorsTrainInGanModeAndResumeExactly) {
  const std::string gan = R"(
discriminator: {type: unet_sn, num_feat: 8}
d_optimizer: {type: adam, lr: 1.0e-3, betas: [0.9, 0.99]}
gan: {d_start: 2}
)";
  for (const auto& [tag, model] : std::vector<std::pair<std::string, std::string>>{
           {"gan_span", "{type: span, feature_channels: 6}"},
           {"gan_realplksr", "{type: realplksr, dim: 8, n_blocks: 1, kernel_size: 5}"},
           {"gan_swinir", "{type: swinir, upsampler: nearest+conv, num_feat: 8, embed_dim: 8, depths: [2], num_heads: [2], "
                          "window_size: 4, img_size: 8, mlp_ratio: 2}"}}) {
    auto config = [&](const std::string& name) {
      return Config::parse(
          arch_yaml(name, model, "[{type: l1, weight: 1.0}, {type: gan, gan_type: vanilla, weight: 0.1}]") + gan,
          name + ".yaml");
    };
    auto straight = srlab::testing::run_train(config(tag + "_straight"));
    EXPECT_EQ(straight.iterations, 6) << model;
    std::ifstream csv(straight.run_dir / "metrics.csv");
    std::string header;
    std::getline(csv, header);
    EXPECT_NE(header.find("d_loss"), std::string::npos) << header;
    auto first = srlab::testing::run_train(config(tag + "_resumed"), {}, /*stop_after=*/3);
    ASSERT_TRUE(first.interrupted);
    auto second = srlab::testing::run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
    EXPECT_EQ(second.iterations, 6);
    EXPECT_TRUE(srlab::testing::same_tensors(
        srlab::testing::generator_weights(straight.run_dir / "checkpoints/latest.pt", false),
        srlab::testing::generator_weights(second.run_dir / "checkpoints/latest.pt", false)))
        << model;
  }
}

// Issue 29: the zoo architectures train (pixel loss) without a non-finite loss, validate, and resume exactly
// (small configs; LR patches are padded to the window multiples inside the models).
TEST(ArchTraining, ZooArchitecturesTrainWithoutNaNAndResumeExactly) {
  struct Case {
    std::string tag, model;
    int lr_patch;
  };
  for (const auto& c : std::vector<Case>{
           {"omnisr", "{type: omnisr, num_feat: 8, window_size: 4}", 16},  // ESA needs >= 13 px at window 4
           {"hat", "{type: hat, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, mlp_ratio: 2, "
                   "compress_ratio: 2, squeeze_factor: 2}", 8},
           {"drct", "{type: drct, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, mlp_ratio: 2, gc: 4}", 8},
           {"atd", "{type: atd, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, num_tokens: 6, reducted_dim: 3, "
                   "category_size: 16, convffn_kernel_size: 3}", 8},
           {"rgt", "{type: rgt, embed_dim: 8, depth: [2], num_heads: [2], split_size: [2, 4], img_size: 8, mlp_ratio: 2}", 8},
           {"mosr", "{type: mosr, n_block: 1, dim: 8, kernel_size: 3}", 8},
           {"rcan", "{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 8, reduction: 4}", 8},
           {"realcugan", "{type: realcugan}", 8},
           {"dat", "{type: dat, embed_dim: 16, split_size: [2, 4], depth: [2], num_heads: [2], expansion_factor: 2, img_size: 8}", 8}}) {
    SCOPED_TRACE(c.tag);
    expect_trains_and_resumes("zoo_" + c.tag, c.model, c.lr_patch);
  }
}

// GAN mode with a zoo transformer and a zoo CNN against the U-Net discriminator: no non-finite loss, d_loss logged.
TEST(ArchTraining, ZooArchitecturesTrainInGanMode) {
  const std::string gan = R"(
discriminator: {type: unet_sn, num_feat: 8}
d_optimizer: {type: adam, lr: 1.0e-3, betas: [0.9, 0.99]}
gan: {d_start: 2}
)";
  for (const auto& [tag, model] : std::vector<std::pair<std::string, std::string>>{
           {"gan_dat", "{type: dat, embed_dim: 16, split_size: [2, 4], depth: [2], num_heads: [2], expansion_factor: 2, img_size: 8, drop_path_rate: 0}"},
           {"gan_rcan", "{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 8, reduction: 4}"}}) {
    const auto run = srlab::testing::run_train(Config::parse(
        arch_yaml(tag, model, "[{type: l1, weight: 1.0}, {type: gan, gan_type: vanilla, weight: 0.1}]") + gan, tag + ".yaml"));
    EXPECT_EQ(run.iterations, 6) << model;
    std::ifstream csv(run.run_dir / "metrics.csv");
    std::string header;
    std::getline(csv, header);
    EXPECT_NE(header.find("d_loss"), std::string::npos) << header;
  }
}

}  // namespace test_arch_training_test
