// Inference time of the generators on one LR image, eval mode (SPAN through its folded eval_conv), all
// CPU threads, wall clock: 128x128 -> 512x512 and 512x512 -> 2048x2048 at x4 (the README's table).
// Counters: LR MP/s (input megapixels per second). Architectures: SPAN (Wan et al., CVPRW 2024; 48 and
// 28 features), RealPLKSR (default: 64 dims, 28 blocks, 17x17 kernel), PLKSR-tiny (64/12/13) and
// SwinIR-light x4 (Liang et al., ICCVW 2021: embed_dim 60, depths/heads [6,6,6,6], window 8,
// pixelshuffledirect; 897K parameters).
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=Inference --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include "core/config.h"
#include "models/arch/registry.h"
#include "tests/benchmarks/inference_bench.h"

namespace bench_inference {

void BM_Inference(benchmark::State& state, const std::string& model_yaml) {
  torch::manual_seed(0);
  const auto cfg = srlab::core::Config::parse("model: " + model_yaml, "bench_inference");
  srlab::bench::time_inference(state, srlab::models::make_generator(cfg.at("model"), 4), state.range(0));
}

#define SRLAB_INFERENCE(name, yaml) \
  BENCHMARK_CAPTURE(BM_Inference, name, std::string(yaml))->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime()

SRLAB_INFERENCE(span_f48_x4, "{type: span}");
SRLAB_INFERENCE(span_f28_x4, "{type: span, feature_channels: 28}");
SRLAB_INFERENCE(realplksr_d64_b28_x4, "{type: realplksr}");
SRLAB_INFERENCE(plksr_tiny_x4, "{type: plksr, dim: 64, n_blocks: 12, kernel_size: 13}");
SRLAB_INFERENCE(swinir_light_x4,
                "{type: swinir, upsampler: pixelshuffledirect, embed_dim: 60, depths: [6, 6, 6, 6], "
                "num_heads: [6, 6, 6, 6], window_size: 8, mlp_ratio: 2, img_size: 64}");

}  // namespace bench_inference
