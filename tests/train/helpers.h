#pragma once
// Helpers shared by the trainer tests: a tiny synthetic data set, a per-process runs folder, weight
// comparison and a short run_training call.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/image/image_io.h"
#include "models/weights/checkpoint.h"
#include "tests/test_device.h"
#include "train/trainer.h"

namespace srlab::testing {

/// Four smooth random 48x48 RGB images (upsampled noise, so SR is learnable) in a temp folder, made once.
inline std::filesystem::path make_train_dataset() {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "srlab_train_test_data";
  if (std::filesystem::exists(dir / "img_3.png")) return dir;
  std::filesystem::create_directories(dir);
  torch::manual_seed(123);
  for (int i = 0; i < 4; ++i) {
    torch::Tensor low = torch::rand({1, 3, 12, 12});
    torch::Tensor img = torch::nn::functional::interpolate(
        low, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{48, 48}).mode(torch::kBilinear).align_corners(false));
    data::write_image(dir / ("img_" + std::to_string(i) + ".png"), img[0]);
  }
  return dir;
}

/// A tiny ESPCN-8 x2 run on make_train_dataset(): 8 iterations of batch 2 x 8-px LR patches, L1 + MSE,
/// validation every 3 iterations. `train_extra` goes inside the `train:` mapping (", key: value"), `extra`
/// after the document (further top-level keys). `device` is the config's `device:` (tests that take the
/// device pass test_device(); on CUDA the train keys of train_keys_for() are added).
inline core::Config tiny_train_config(const std::string& name, const std::string& train_extra = "",
                                      const std::string& extra = "", const torch::Device& device = torch::kCPU) {
  const std::string d = make_train_dataset().string();
  return core::Config::parse("name: " + name + R"(
seed: 7
device: )" + device.str() + R"(
threads: 1
scale: 2
model: {type: espcn, num_feat: 8}
data:
  train: {hr_dirs: [")" + d + R"("], batch_size: 2, lr_patch: 8, workers: 2}
  val: {dir: ")" + d + R"(", every: 3}
losses: [{type: l1, weight: 1.0}, {type: mse, weight: 0.5}]
optimizer: {type: adam, lr: 1.0e-3}
scheduler: {type: cosine, warmup_iters: 2}
train: {iters: 8, ema_decay: 0.9, log_every: 2)" + train_extra + train_keys_for(device) + "}\n" + extra,
                             name + ".yaml");
}

/// One runs folder per test process (ctest runs tests in parallel processes), removed at exit.
inline std::filesystem::path train_runs_dir() {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("srlab_train_test_runs_" + std::to_string(::getpid()));
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

/// The generator parameters stored in checkpoint `ckpt` (EMA or raw weights), cloned.
inline std::vector<torch::Tensor> generator_weights(const std::filesystem::path& ckpt, bool ema) {
  auto g = models::load_generator(ckpt, torch::kCPU, ema);
  std::vector<torch::Tensor> out;
  for (auto& p : g->parameters()) out.push_back(p.detach().clone());
  return out;
}

/// True when both lists hold tensors of identical shapes and values.
inline bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

/// run_training with the test runs folder; `resume` non-empty continues that run.
inline train::TrainSummary run_train(const core::Config& c, const std::filesystem::path& resume = {}, int64_t stop_after = 0,
                                     bool final_eval = false) {
  train::TrainerOptions o;
  o.runs_dir = train_runs_dir();
  o.resume_dir = resume;
  o.stop_after = stop_after;
  o.final_eval = final_eval;
  return train::run_training(c, o);
}

}  // namespace srlab::testing
