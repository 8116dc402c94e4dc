// Data-parallel training over loopback Gloo, gradient accumulation and the fp16 loss scaler.
// Multi-process tests re-run this test binary as workers (DistributedWorker.Train, which runs only
// when the SRLAB_TEST_WORKER_* variables are set) through train/launch.h, on a random free port;
// every wait is bounded, and leftover workers are killed.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>

#include "core/config.h"
#include "core/error.h"
#include "data/datasets/loader.h"
#include "data/datasets/paired_dataset.h"
#include "train/amp.h"
#include "train/distributed.h"
#include "train/launch.h"
#include "tests/test_util.h"
#include "tests/train/helpers.h"

namespace fs = std::filesystem;
using srlab::core::Config;
using namespace std::chrono_literals;

namespace test_distributed_test {

Config dp_config(const std::string& name, int iters, const std::string& train_extra = "") {
  const std::string d = srlab::testing::make_train_dataset().string();
  return Config::parse("name: " + name + R"(
seed: 11
device: cpu
threads: 1
scale: 2
model: {type: espcn, num_feat: 8}
data:
  train: {hr_dirs: [")" + d + R"("], batch_size: 16, lr_patch: 8, workers: 1, prefetch: 2}
losses: [{type: l1, weight: 1.0}]
optimizer: {type: adam, lr: 2.0e-3}
scheduler: {type: constant}
train: {iters: )" + std::to_string(iters) + R"(, ema_decay: 0.9, log_every: 1, save_every: 100000, dist_timeout_s: 60)" +
                           train_extra + "}\n",
                       name + ".yaml");
}

double max_abs_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

// Starts `n` workers of this binary training `cfg` (optionally resuming / stopping early).
struct Workers {
  srlab::train::WorkerGroup group;
  fs::path log_dir;
  std::vector<int> status;

  Workers(const Config& cfg, int n, const fs::path& resume = {}, int64_t stop_after = 0) {
    const fs::path dir = srlab::testing::train_runs_dir() / "workers";
    fs::create_directories(dir);
    const std::string name = cfg.get<std::string>("name", "run");
    const fs::path yaml = dir / (name + ".yaml");
    std::ofstream(yaml) << cfg.dump();
    log_dir = dir / ("logs_" + name + (resume.empty() ? "" : "_resumed"));
    ::setenv("SRLAB_TEST_WORKER_CONFIG", yaml.c_str(), 1);
    ::setenv("SRLAB_TEST_WORKER_RUNS", srlab::testing::train_runs_dir().c_str(), 1);
    ::setenv("SRLAB_TEST_WORKER_RESUME", resume.c_str(), 1);
    ::setenv("SRLAB_TEST_WORKER_STOP_AFTER", std::to_string(stop_after).c_str(), 1);
    group = srlab::train::start_workers(srlab::train::current_executable(),
                                        {"--gtest_filter=DistributedWorker.Train"}, n, 0, log_dir);
    for (const char* v : {"SRLAB_TEST_WORKER_CONFIG", "SRLAB_TEST_WORKER_RUNS", "SRLAB_TEST_WORKER_RESUME",
                          "SRLAB_TEST_WORKER_STOP_AFTER"})
      ::unsetenv(v);
    status.assign(static_cast<size_t>(n), -1);
  }
  ~Workers() {
    for (size_t r = 0; r < status.size(); ++r)
      if (status[r] == -1) {
        ::kill(group.pids[r], SIGKILL);
        ::waitpid(group.pids[r], nullptr, 0);
      }
  }
  // Reaps rank r if it exited; true once it has.
  bool poll(size_t r) {
    int st = 0;
    if (status[r] == -1 && ::waitpid(group.pids[r], &st, WNOHANG) == group.pids[r])
      status[r] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status[r] != -1;
  }
  // Waits up to `limit` for every rank; false on timeout.
  bool wait_all(std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      bool all = true;
      for (size_t r = 0; r < status.size(); ++r) all = poll(r) && all;
      if (all) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::string log(int r) const {
    std::ifstream in(log_dir / ("rank_" + std::to_string(r) + ".log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

// Waits (bounded) until rank 0 has logged `rows` metrics rows, i.e. both ranks are training.
bool wait_for_rows(const fs::path& csv, int rows, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream in(csv);
    int n = -1;  // header
    for (std::string line; std::getline(in, line);) ++n;
    if (n >= rows) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

fs::path run_dir_of(const std::string& name) { return srlab::testing::train_runs_dir() / name; }
fs::path latest_of(const std::string& name) { return run_dir_of(name) / "checkpoints" / "latest.pt"; }

// The worker body of the multi-process tests (skipped unless launched by them).
TEST(DistributedWorker, Train) {
  const char* cfg = std::getenv("SRLAB_TEST_WORKER_CONFIG");
  if (cfg == nullptr) GTEST_SKIP() << "runs only as a worker process of the DataParallel tests";
  srlab::train::TrainerOptions o;
  o.runs_dir = std::getenv("SRLAB_TEST_WORKER_RUNS");
  o.resume_dir = std::getenv("SRLAB_TEST_WORKER_RESUME");
  o.stop_after = std::stoll(std::getenv("SRLAB_TEST_WORKER_STOP_AFTER"));
  o.final_eval = false;
  const Config c = o.resume_dir.empty() ? Config::load_file(cfg) : srlab::train::load_run_config(o.resume_dir);
  srlab::train::run_training(c, o);
}

TEST(DataParallel, ShardsOfTheRanksAreTheGlobalBatch) {
  auto ds = std::make_shared<srlab::data::PairedImageDataset>(
      srlab::data::open_benchmark(srlab::testing::make_train_dataset(), 2, false));
  srlab::data::LoaderOptions whole;
  whole.batch_size = 16;
  whole.lr_patch = 8;
  whole.seed = 5;
  for (int64_t k : {0, 7}) {
    const srlab::data::Batch ref = srlab::data::make_batch(*ds, whole, k);
    std::vector<torch::Tensor> lr, hr;
    for (int r = 0; r < 2; ++r) {
      srlab::data::LoaderOptions o = whole;
      o.global_batch_size = 16;
      o.batch_size = 8;
      o.sample_offset = 8 * r;
      const srlab::data::Batch b = srlab::data::make_batch(*ds, o, k);
      lr.push_back(b.lr);
      hr.push_back(b.hr);
    }
    EXPECT_TRUE(torch::equal(torch::cat(lr), ref.lr)) << "batch " << k;
    EXPECT_TRUE(torch::equal(torch::cat(hr), ref.hr)) << "batch " << k;
    EXPECT_FALSE(torch::equal(lr[0], lr[1]));  // disjoint samples, not copies
  }
}

TEST(DataParallel, EnvironmentIsValidated) {
  auto with_env = [](std::vector<std::pair<const char*, const char*>> vars) {
    for (auto [k, v] : vars) ::setenv(k, v, 1);
    std::string err;
    srlab::train::DistEnv e;
    try {
      e = srlab::train::dist_env_from_environment();
    } catch (const srlab::Error& x) {
      err = x.what();
    }
    for (auto [k, v] : vars) ::unsetenv(k);
    return std::make_pair(e, err);
  };
  auto [e, err] = with_env({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "29400"}});
  EXPECT_EQ(err, "");
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.1");
  EXPECT_EQ(e.master_port, 29400);
  EXPECT_NE(with_env({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}).second.find("RANK"), std::string::npos);
  EXPECT_NE(with_env({{"WORLD_SIZE", "2"}}).second.find("MASTER_PORT"), std::string::npos);
  EXPECT_NE(with_env({{"WORLD_SIZE", "two"}}).second.find("WORLD_SIZE"), std::string::npos);
  EXPECT_EQ(with_env({}).first.world_size, 1);
}

// Acceptance: 2 ranks x 8 samples == 1 rank x 16 after 20 steps; resume of a 2-rank run continues
// exactly; a different world size is refused.
TEST(DataParallel, TwoRanksMatchOneProcessAndResumeExactly) {
  const auto single = srlab::testing::run_train(dp_config("dp_single", 20));
  {
    Workers w(dp_config("dp_two", 20), 2);
    ASSERT_TRUE(w.wait_all(120s)) << "2-rank run did not finish in 120 s";
    EXPECT_EQ(w.status[0], 0) << w.log(0);
    EXPECT_EQ(w.status[1], 0) << w.log(1);
    EXPECT_NE(w.log(0).find("iter 20/20"), std::string::npos) << w.log(0);
    EXPECT_EQ(w.log(1).find("iter 20/20"), std::string::npos) << "only rank 0 logs: " << w.log(1);
  }
  const auto a = srlab::testing::generator_weights(single.run_dir / "checkpoints/latest.pt", false);
  const auto b = srlab::testing::generator_weights(latest_of("dp_two"), false);
  const double diff = max_abs_diff(a, b);
  EXPECT_LE(diff, 1e-5);
  EXPECT_LE(max_abs_diff(srlab::testing::generator_weights(single.run_dir / "checkpoints/latest.pt", true),
                         srlab::testing::generator_weights(latest_of("dp_two"), true)),
            1e-5);
  std::cout << "2 ranks x 8 vs 1 x 16 after 20 steps: max |dw| = " << diff << "\n";

  {  // stop at 10, resume to 20 with 2 ranks: bit-identical to the straight 2-rank run
    Workers w(dp_config("dp_resume", 20), 2, {}, 10);
    ASSERT_TRUE(w.wait_all(120s));
    ASSERT_EQ(w.status[0], 0) << w.log(0);
    Workers w2(dp_config("dp_resume", 20), 2, run_dir_of("dp_resume"));
    ASSERT_TRUE(w2.wait_all(120s));
    ASSERT_EQ(w2.status[0], 0) << w2.log(0);
    EXPECT_EQ(w2.status[1], 0) << w2.log(1);
  }
  EXPECT_TRUE(srlab::testing::same_tensors(b, srlab::testing::generator_weights(latest_of("dp_resume"), false)));
  const std::string err = srlab::testing::error_of([&] {
    srlab::testing::run_train(srlab::train::load_run_config(run_dir_of("dp_resume")), run_dir_of("dp_resume"));
  });
  EXPECT_NE(err.find("written by a run with 2"), std::string::npos) << err;
}

TEST(Accumulation, TwoMicroBatchesMatchOneBatch) {
  const auto one = srlab::testing::run_train(dp_config("acc_one", 20));
  const auto two = srlab::testing::run_train(dp_config("acc_two", 20, ", accum_steps: 2"));
  const double diff = max_abs_diff(srlab::testing::generator_weights(one.run_dir / "checkpoints/latest.pt", false),
                                   srlab::testing::generator_weights(two.run_dir / "checkpoints/latest.pt", false));
  EXPECT_LE(diff, 1e-5);
  std::cout << "accum_steps 2 x 8 vs batch 16 after 20 steps: max |dw| = " << diff << "\n";
  EXPECT_NE(srlab::testing::error_of([] { srlab::testing::run_train(dp_config("acc_bad", 2, ", accum_steps: 3")); })
                .find("accum_steps"),
            std::string::npos);
}

TEST(DataParallel, KilledRankStopsTheOtherWithClearError) {
  Workers w(dp_config("dp_kill", 1000000), 2);
  ASSERT_TRUE(wait_for_rows(run_dir_of("dp_kill") / "metrics.csv", 3, 60s)) << w.log(0);
  ::kill(w.group.pids[1], SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  bool exited = false;
  while (!exited && std::chrono::steady_clock::now() - t0 < 60s) {
    exited = w.poll(0);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(exited) << "rank 0 still running 60 s after rank 1 was killed";
  std::cout << "rank 0 stopped " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s after kill -9 of rank 1\n";
  EXPECT_NE(w.status[0], 0);
  EXPECT_NE(w.log(0).find("data-parallel rank 0 of 2"), std::string::npos) << w.log(0);
}

TEST(DataParallel, SigintToRank0CheckpointsAndStopsBoth) {
  Workers w(dp_config("dp_sigint", 1000000), 2);
  ASSERT_TRUE(wait_for_rows(run_dir_of("dp_sigint") / "metrics.csv", 3, 60s)) << w.log(0);
  ::kill(w.group.pids[0], SIGINT);
  ASSERT_TRUE(w.wait_all(60s)) << "the ranks did not stop within 60 s of SIGINT";
  EXPECT_EQ(w.status[0], 0) << w.log(0);
  EXPECT_EQ(w.status[1], 0) << w.log(1);
  EXPECT_NE(w.log(0).find("interrupted at iteration"), std::string::npos) << w.log(0);
  ASSERT_TRUE(fs::exists(latest_of("dp_sigint")));
}

TEST(DataParallel, NonFiniteLossStopsEveryRank) {
  Config c = dp_config("dp_nan", 50);
  c.set_override("optimizer.lr=1.0e+37");
  c.set_override("train.max_bad_steps=2");
  c.set_override("scheduler.warmup_iters=0");  // a 1e37 step overflows the output (tanh bounds a 1e30 one)
  Workers w(c, 2);
  ASSERT_TRUE(w.wait_all(120s));
  for (int r = 0; r < 2; ++r) {
    EXPECT_NE(w.status[static_cast<size_t>(r)], 0);
    EXPECT_NE(w.log(r).find("non-finite"), std::string::npos) << w.log(r);
  }
}

TEST(LossScaler, BacksOffOnInfAndGrowsAfterInterval) {
  srlab::train::LossScalerOptions o;
  o.init_scale = 1024;
  o.growth_interval = 3;
  srlab::train::LossScaler s(o);
  auto p = torch::ones({2}, torch::requires_grad());
  p.mutable_grad() = torch::tensor({2048.0f, -1024.0f});
  EXPECT_FALSE(s.unscale_and_check({p}));
  EXPECT_TRUE(torch::equal(p.grad(), torch::tensor({2.0f, -1.0f})));
  p.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(s.unscale_and_check({p}));
  s.update(true);
  EXPECT_DOUBLE_EQ(s.scale(), 512);
  s.update(false);
  s.update(false);
  EXPECT_DOUBLE_EQ(s.scale(), 512);
  s.update(false);
  EXPECT_DOUBLE_EQ(s.scale(), 1024);  // grew after 3 good steps
  EXPECT_EQ(s.growth_tracker(), 0);
  s.update(false);
  srlab::train::LossScaler t(o);
  t.load_state(s.state());
  EXPECT_DOUBLE_EQ(t.scale(), 1024);
  EXPECT_EQ(t.growth_tracker(), 1);
  p.mutable_grad() = torch::tensor({NAN, 1.0f});
  EXPECT_TRUE(t.unscale_and_check({p}));
  EXPECT_THROW(t.load_state({-1.0, 0.0}), srlab::Error);
}

TEST(Amp, ConfigIsValidatedAndCpuBf16Trains) {
  EXPECT_NE(srlab::testing::error_of([] { srlab::testing::run_train(dp_config("amp_fp16", 2, ", amp: fp16")); }).find("amp"),
            std::string::npos);
  EXPECT_NE(srlab::testing::error_of([] { srlab::testing::run_train(dp_config("amp_bad", 2, ", amp: fp8")); }).find("amp"),
            std::string::npos);
  const auto s = srlab::testing::run_train(dp_config("amp_bf16", 3, ", amp: bf16"));
  EXPECT_EQ(s.iterations, 3);
  for (const auto& w : srlab::testing::generator_weights(s.run_dir / "checkpoints/latest.pt", false))
    EXPECT_TRUE(torch::isfinite(w).all().item<bool>());
}

}  // namespace test_distributed_test
