// Issue 16 regressions in train/: run-folder locks, diverged runs, config paths and types checked before
// the first step, the metrics window after a stop.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "train/finite_check.h"
#include "train/run_dir.h"
#include "train/trainer.h"
#include "tests/test_util.h"
#include "tests/train/helpers.h"

namespace fs = std::filesystem;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_reliability_test {

Config small_config(const std::string& name, const std::string& extra = "") {
  const std::string d = srlab::testing::make_train_dataset().string();
  return Config::parse("name: " + name + R"(
seed: 3
device: cpu
threads: 1
scale: 2
model: {type: espcn, num_feat: 8}
data:
  train: {hr_dirs: [")" + d + R"("], batch_size: 2, lr_patch: 8, workers: 1}
losses: [{type: l1, weight: 1.0}]
optimizer: {type: adam, lr: 1.0e-3}
train: {iters: 6, ema_decay: 0.9, log_every: 2, save_every: 2}
)" + extra, name + ".yaml");
}

std::vector<std::string> csv_iterations(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> out;
  while (std::getline(in, line)) out.push_back(line.substr(0, line.find(',')));
  return out;
}

TEST(RunFolderLock, ASecondRunOfTheSameNameIsRefusedWithThePid) {
  const fs::path runs = srlab::testing::train_runs_dir();
  srlab::train::LockedRunDir first = srlab::train::create_run_dir(runs, "locked");
  const std::string msg = error_of([&] { srlab::train::create_run_dir(runs, "locked"); });
  EXPECT_NE(msg.find("run folder '" + (runs / "locked").string() + "' is in use by another srlab process (PID " +
                     std::to_string(::getpid()) + ")"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(fs::is_directory(runs / "locked/checkpoints"));  // not archived away under the live run
  const std::string resume = error_of([&] { srlab::train::lock_run_dir(first.path); });
  EXPECT_NE(resume.find("in use by another srlab process"), std::string::npos) << resume;
  first.lock.release();
  EXPECT_TRUE(srlab::train::lock_run_dir(first.path).lock.held());
}

TEST(DivergedRun, FailsNonZeroAndNeverSavesNonFiniteWeights) {
  Config c = small_config("diverged");
  c.set_override("optimizer.lr=1.0e+37");
  c.set_override("train.iters=10");
  c.set_override("scheduler.warmup_iters=0");  // a 1e37 step overflows the output (tanh bounds a 1e30 one)
  c.set_override("train.save_every=1");
  const std::string msg = error_of([&] { srlab::testing::run_train(c); });
  EXPECT_NE(msg.find("training diverged"), std::string::npos) << msg;
  const fs::path ckpts = srlab::testing::train_runs_dir() / "diverged" / "checkpoints";
  for (const char* f : {"best.pt", "latest.pt"})
    if (fs::exists(ckpts / f)) {
      auto g = srlab::models::load_generator(ckpts / f, torch::kCPU, false);
      EXPECT_EQ(srlab::train::first_non_finite(*g), "") << f << " holds non-finite weights";
    }
}

TEST(FiniteCheck, NamesTheFirstNonFiniteTensor) {
  torch::nn::Linear lin(2, 2);
  EXPECT_EQ(srlab::train::first_non_finite(*lin), "");
  {
    torch::NoGradGuard ng;
    lin->bias[1] = std::numeric_limits<float>::infinity();
  }
  EXPECT_EQ(srlab::train::first_non_finite(*lin), "bias");
}

TEST(TrainConfigPaths, MissingEvalDatasetFailsBeforeTheRunStarts) {
  Config c = small_config("bad_eval", "eval: {datasets: [\"/no/such/benchmark\"]}\n");
  const std::string msg = error_of([&] { srlab::testing::run_train(c); });
  EXPECT_NE(msg.find("at 'eval.datasets': '/no/such/benchmark' does not exist"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(srlab::testing::train_runs_dir() / "bad_eval")) << "no run folder for a refused config";
}

TEST(TrainConfigPaths, NumberAsFolderListAndNegativeThreadsAreTypeErrors) {
  Config c = small_config("bad_dirs");
  c.set_override("data.train.hr_dirs=5");
  const std::string msg = error_of([&] { srlab::testing::run_train(c); });
  EXPECT_NE(msg.find("at 'data.train.hr_dirs': expected a list of paths (strings)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got the number 5"), std::string::npos) << msg;
  Config t = small_config("bad_threads");
  t.set_override("threads=-4");
  EXPECT_NE(error_of([&] { srlab::testing::run_train(t); }).find("at 'threads': must be >= 0"), std::string::npos);
}

TEST(MetricsWindow, AStopLogsItsPartialWindowSoTheResumedRunStartsAFreshOne) {
  auto first = srlab::testing::run_train(small_config("window"), {}, /*stop_after=*/3);
  ASSERT_TRUE(first.interrupted);
  EXPECT_EQ(csv_iterations(first.run_dir / "metrics.csv"), (std::vector<std::string>{"2", "3"}));
  auto second = srlab::testing::run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 6);
  EXPECT_EQ(csv_iterations(first.run_dir / "metrics.csv"), (std::vector<std::string>{"2", "3", "4", "6"}));
}

}  // namespace test_reliability_test
