// End-to-end trainer tests on a tiny synthetic data set (no shared data needed): reproducibility,
// exact resume, config validation, non-finite-loss handling and run-folder contents.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <cmath>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "data/image/image_io.h"
#include "models/weights/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/trainer.h"
#include "tests/test_util.h"
#include "tests/train/helpers.h"

namespace fs = std::filesystem;
using srlab::core::Config;

namespace test_trainer_test {

fs::path make_dataset() { return srlab::testing::make_train_dataset(); }

Config tiny_config(const std::string& name, const std::string& extra = "") {
  const std::string d = make_dataset().string();
  return srlab::testing::tiny_train_config(name, ", save_every: 4",
                                           "eval: {datasets: [\"" + d + "\"], methods: [bicubic, sharpened]}\n" + extra,
                                           srlab::testing::test_device());
}

fs::path runs_dir() { return srlab::testing::train_runs_dir(); }

std::vector<torch::Tensor> weights_of(const fs::path& ckpt, bool ema) { return srlab::testing::generator_weights(ckpt, ema); }

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) { return srlab::testing::same_tensors(a, b); }

srlab::train::TrainSummary run(const Config& c, const fs::path& resume = {}, int64_t stop_after = 0, bool final_eval = false) {
  return srlab::testing::run_train(c, resume, stop_after, final_eval);
}

TEST(Trainer, RunFolderHoldsEverything) {
  auto s = run(tiny_config("full"), {}, 0, /*final_eval=*/true);
  EXPECT_EQ(s.iterations, 8);
  EXPECT_FALSE(s.interrupted);
  for (const char* f : {"config.yaml", "meta.json", "train.log", "metrics.csv", "checkpoints/latest.pt",
                        "checkpoints/best.pt", "report.md", "report.json", "curves.png", "curves.gp"})
    EXPECT_TRUE(fs::exists(s.run_dir / f)) << f;
  EXPECT_TRUE(std::isfinite(s.best_psnr));
  EXPECT_GT(s.best_iter, 0);
  // report.json: bicubic, sharpened and the trained model on the evaluation folder.
  const auto report = nlohmann::json::parse(std::ifstream(s.run_dir / "report.json"));
  ASSERT_EQ(report.size(), 3u);
  EXPECT_EQ(report[0]["method"], "bicubic");
  EXPECT_EQ(report[1]["method"], "sharpened");
  EXPECT_EQ(report[2]["method"], "full");
  EXPECT_EQ(report[2]["images"].size(), 4u);
  // metrics.csv: header + one row per log step (2,4,6,8) plus the validation-only rows (3).
  std::ifstream csv(s.run_dir / "metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "iteration,lr,loss,loss_l1,loss_mse,samples_per_s,val_psnr,val_ssim");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_EQ(rows, 5);  // iterations 2, 3 (val), 4, 6 (log+val), 8 (log+val)
}

TEST(Trainer, SameSeedSameWeights) {
  auto a = run(tiny_config("seed_a"));
  auto b = run(tiny_config("seed_b"));
  EXPECT_TRUE(same(weights_of(a.run_dir / "checkpoints/latest.pt", false), weights_of(b.run_dir / "checkpoints/latest.pt", false)));
  Config other = tiny_config("seed_d");
  other.set_override("seed=8");
  auto d = run(other);
  EXPECT_FALSE(same(weights_of(a.run_dir / "checkpoints/latest.pt", false), weights_of(d.run_dir / "checkpoints/latest.pt", false)));
}

TEST(Trainer, ResumeContinuesExactly) {
  auto straight = run(tiny_config("straight"));
  auto first = run(tiny_config("resumed"), {}, /*stop_after=*/5);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.iterations, 5);
  auto second = run(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 8);
  EXPECT_TRUE(same(weights_of(straight.run_dir / "checkpoints/latest.pt", false),
                   weights_of(second.run_dir / "checkpoints/latest.pt", false)));
  EXPECT_TRUE(same(weights_of(straight.run_dir / "checkpoints/latest.pt", true),
                   weights_of(second.run_dir / "checkpoints/latest.pt", true)));
  EXPECT_DOUBLE_EQ(straight.best_psnr, second.best_psnr);
}

TEST(Trainer, UnknownOrBadKeysAreErrors) {
  try {
    run(tiny_config("bad_key", "trian: {iters: 3}\n"));
    FAIL() << "expected an error";
  } catch (const srlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("trian"), std::string::npos) << e.what();
  }
  Config c = tiny_config("bad_type");
  c.set_override("optimizer.lr=fast");
  try {
    run(c);
    FAIL() << "expected an error";
  } catch (const srlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer.lr"), std::string::npos) << e.what();
  }
  Config m = tiny_config("bad_model");
  m.set_override("model.num_fet=8");
  EXPECT_THROW(run(m), srlab::Error);
}

TEST(Trainer, NonFiniteLossStopsWithClearError) {
  Config c = tiny_config("nan_run", "");
  c.set_override("optimizer.lr=1.0e+30");
  c.set_override("scheduler.warmup_iters=0");
  c.set_override("train.max_bad_steps=2");
  c.set_override("train.iters=50");
  try {
    run(c);
    FAIL() << "expected an error";
  } catch (const srlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
  }
}

TEST(LrSchedule, WarmupCosineMultistep) {
  srlab::train::LrSchedule s;
  s.base_lr = 1.0;
  s.total_iters = 110;
  s.warmup_iters = 10;
  s.eta_min = 0.0;
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(9), 1.0);
  EXPECT_DOUBLE_EQ(s.at(10), 1.0);
  EXPECT_NEAR(s.at(60), 0.5, 1e-12);
  EXPECT_NEAR(s.at(110), 0.0, 1e-12);
  s.type = "multistep";
  s.milestones = {50, 80};
  s.gamma = 0.1;
  EXPECT_DOUBLE_EQ(s.at(49), 1.0);
  EXPECT_NEAR(s.at(50), 0.1, 1e-15);
  EXPECT_NEAR(s.at(80), 0.01, 1e-15);
}

TEST(Trainer, LpipsInFinalReportAndMissingWeightsFailBeforeTraining) {
  Config c = tiny_config("lpips_run");
  c.set_override("eval.metrics=[psnr, ssim, lpips]");
  auto s = run(c, {}, 0, /*final_eval=*/true);
  const auto report = nlohmann::json::parse(std::ifstream(s.run_dir / "report.json"));
  ASSERT_EQ(report.size(), 3u);
  for (const auto& r : report) {
    ASSERT_TRUE(r["mean"].contains("lpips")) << r.dump();
    EXPECT_GE(r["mean"]["lpips"].get<double>(), 0.0);
  }
  Config bad = tiny_config("lpips_bad");
  bad.set_override("eval.metrics=[psnr, lpips]");
  bad.set_override("eval.lpips_weights=/no/such/lpips.pt");
  const std::string msg = srlab::testing::error_of([&] { run(bad); });
  EXPECT_NE(msg.find("/no/such/lpips.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("eval.metrics"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(runs_dir() / "lpips_bad"));  // nothing was started
}

}  // namespace test_trainer_test
