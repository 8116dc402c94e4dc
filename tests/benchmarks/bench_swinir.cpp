// SwinIR (models/arch/swinir.h) throughput, official lightweight configuration (SwinIR-light x4:
// embed_dim 60, depths/num_heads [6,6,6,6], window 8, mlp_ratio 2, pixelshuffledirect, 897K parameters):
//   - SwinIRTrainStep: forward + L1 + backward + Adam step, batch 16, LR patch 48x48 (the paper's
//     training patch for SwinIR), random data, drop_path_rate 0.1 as the official default.
// Its inference time is BM_Inference/swinir_light_x4 (bench_inference.cpp).
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=SwinIR --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include "core/config.h"
#include "models/arch/registry.h"
#include "tests/benchmarks/train_step_bench.h"

namespace bench_swinir {

const std::string kLight =
    "{type: swinir, upsampler: pixelshuffledirect, embed_dim: 60, depths: [6, 6, 6, 6], num_heads: [6, 6, 6, 6], "
    "window_size: 8, mlp_ratio: 2, img_size: 64}";

srlab::models::Generator light_x4() {
  const auto cfg = srlab::core::Config::parse("model: " + kLight, "bench_swinir");
  return srlab::models::make_generator(cfg.at("model"), 4);
}

void BM_SwinIRTrainStep(benchmark::State& state) {
  torch::manual_seed(0);  // the same initial weights in every run
  srlab::bench::time_train_steps(state, light_x4(), state.range(0), state.range(1), 4);
}

BENCHMARK(BM_SwinIRTrainStep)->Args({16, 48})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace bench_swinir
