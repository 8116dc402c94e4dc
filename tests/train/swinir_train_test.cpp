// SwinIR (models/arch/swinir.h) in the trainer: a few iterations on the tiny synthetic data set with
// finite losses and weights, stochastic depth on (drop_path_rate 0.1, the official default), and an exact
// resume (the DropPath draws come from the CPU generator, whose state checkpoints store).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "tests/test_device.h"
#include "tests/train/helpers.h"

namespace fs = std::filesystem;
using srlab::core::Config;

namespace test_swinir_train_test {

Config swinir_config(const std::string& name) {
  const std::string d = srlab::testing::make_train_dataset().string();
  return Config::parse("name: " + name + R"(
seed: 11
device: )" + srlab::testing::test_device_yaml() + R"(
threads: 1
scale: 2
model: {type: swinir, upsampler: pixelshuffledirect, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4,
        img_size: 8, mlp_ratio: 2, drop_path_rate: 0.1}
data:
  train: {hr_dirs: [")" + d + R"("], batch_size: 2, lr_patch: 8, workers: 1}
  val: {dir: ")" + d + R"(", every: 4}
losses: [{type: l1, weight: 1.0}]
optimizer: {type: adam, lr: 2.0e-4}
train: {iters: 8, ema_decay: 0.9, log_every: 1, save_every: 4)" + srlab::testing::test_device_train_keys() + R"(}
)", name + ".yaml");
}

TEST(SwinIrTraining, FewIterationsFiniteAndResumeExact) {
  using srlab::testing::generator_weights;
  const auto straight = srlab::testing::run_train(swinir_config("swinir_straight"));
  EXPECT_EQ(straight.iterations, 8);
  // Every logged loss is finite (the trainer skips non-finite steps, so check the log, not only the end).
  std::ifstream csv(straight.run_dir / "metrics.csv");
  ASSERT_TRUE(csv.good());
  std::string line;
  std::getline(csv, line);  // header
  int rows = 0;
  while (std::getline(csv, line)) {
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ','))
      if (!cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) || cell[0] == '-' || cell == "nan" || cell == "inf"))
        EXPECT_TRUE(std::isfinite(std::stod(cell))) << line;
    ++rows;
  }
  EXPECT_GE(rows, 8);
  const auto w = generator_weights(straight.run_dir / "checkpoints/latest.pt", false);
  for (const auto& t : w) EXPECT_TRUE(torch::isfinite(t).all().item<bool>());

  const auto first = srlab::testing::run_train(swinir_config("swinir_resumed"), {}, /*stop_after=*/3);
  EXPECT_TRUE(first.interrupted);
  const auto second = srlab::testing::run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 8);
  EXPECT_TRUE(srlab::testing::same_tensors(w, generator_weights(second.run_dir / "checkpoints/latest.pt", false)));
  EXPECT_TRUE(srlab::testing::same_tensors(generator_weights(straight.run_dir / "checkpoints/latest.pt", true),
                                           generator_weights(second.run_dir / "checkpoints/latest.pt", true)));
}

}  // namespace test_swinir_train_test
