// Training-step throughput of the built-in generators: forward + L1 loss + backward + Adam step on
// random data (batch 16, LR patch 32x32, scale 4), all CPU threads. Counters: samples/s (LR/HR patch
// pairs per second of wall time) and HR MP/s (output megapixels per second).
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=TrainStep --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include "core/config.h"
#include "core/runtime.h"
#include "losses/pixel_losses.h"
#include "models/arch/registry.h"

namespace {

void BM_TrainStep(benchmark::State& state, const std::string& model_yaml) {
  const int threads = srlab::core::configure_threads();
  constexpr int64_t kBatch = 16, kPatch = 32, kScale = 4;
  torch::manual_seed(0);
  const auto cfg = srlab::core::Config::parse("model: " + model_yaml, "bench_train_step");
  auto g = srlab::models::make_generator(cfg.at("model"), kScale);
  g->train();
  torch::optim::Adam opt(g->parameters(), torch::optim::AdamOptions(1e-4));
  const auto lr = torch::rand({kBatch, 3, kPatch, kPatch});
  const auto hr = torch::rand({kBatch, 3, kPatch * kScale, kPatch * kScale});
  auto step = [&] {
    opt.zero_grad();
    auto loss = srlab::losses::l1_loss(g->forward(lr), hr);
    loss.backward();
    opt.step();
    return loss;
  };
  step();  // warm-up: allocator, oneDNN primitive caches, Adam state
  for (auto _ : state) benchmark::DoNotOptimize(step().data_ptr());
  const double samples = static_cast<double>(state.iterations()) * kBatch;
  state.counters["samples/s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["HR_MP/s"] =
      benchmark::Counter(samples * kPatch * kScale * kPatch * kScale / 1e6, benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
  state.counters["params"] = static_cast<double>(srlab::models::count_parameters(*g));
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

}  // namespace
