// Training-step throughput of the built-in generators: forward + L1 loss + backward + Adam step on
// random data (batch 16, LR patch 32x32, scale 4), all CPU threads. Counters: samples/s (LR/HR patch
// pairs per second of wall time) and HR MP/s (output megapixels per second).
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=TrainStep --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include "core/config.h"
#include "models/arch/registry.h"
#include "tests/benchmarks/train_step_bench.h"

namespace bench_train_step {

void BM_TrainStep(benchmark::State& state, const std::string& model_yaml) {
  constexpr int64_t kBatch = 16, kPatch = 32, kScale = 4;
  torch::manual_seed(0);  // the same initial weights in every run
  const auto cfg = srlab::core::Config::parse("model: " + model_yaml, "bench_train_step");
  srlab::bench::time_train_steps(state, srlab::models::make_generator(cfg.at("model"), kScale), kBatch, kPatch, kScale);
}

// Wall-clock time (UseRealTime): LibTorch runs each op on all intra-op threads.
BENCHMARK_CAPTURE(BM_TrainStep, espcn_f64_x4, std::string("{type: espcn, num_feat: 64}"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, edsr_baseline_x4, std::string("{type: edsr_baseline}"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// SPAN trains through the Conv3XC branches (about 5x the folded network's convolution work).
BENCHMARK_CAPTURE(BM_TrainStep, span_f48_x4, std::string("{type: span}"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, span_f28_x4, std::string("{type: span, feature_channels: 28}"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, realplksr_d64_b28_x4, std::string("{type: realplksr}"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, plksr_tiny_x4, std::string("{type: plksr, dim: 64, n_blocks: 12, kernel_size: 13}"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace bench_train_step
