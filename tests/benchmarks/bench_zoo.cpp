// Throughput of the model-zoo architectures (issue 29) in their smallest official configurations, x4, all
// CPU threads, wall clock, beside the existing families (bench_train_step.cpp, bench_inference.cpp,
// bench_swinir.cpp measure SPAN, PLKSR, SwinIR-light the same way):
//   - ZooTrainStep/<model>: forward + L1 + backward + Adam step on random data, batch 16, LR patch 32, or
//     the smallest multiple of the model's window that is >= 32 (DAT-light: split_size [8, 32] -> 32;
//     ATD-light, HAT-S, DRCT: window 16 -> 32); one untimed warm-up step (train_step_bench.h).
//   - ZooInference/<model>/<size>: one random (1,3,size,size) LR image, eval mode, 128 and 512.
// Configurations (paper / official option files): DAT-light (Chen et al. 2023: embed 60, depth [18], heads
// [6], split [8,32], expansion 2, 3conv, pixelshuffledirect), ATD-light (Zhang et al. 2024: embed 48,
// depths/heads [6]*4/[4]*4, window 16, category 128, 64 tokens, reducted_dim 10, ConvFFN k 7, mlp 1,
// pixelshuffledirect), OmniSR (Wang et al. 2023: 64 features, 5 OSAGs, window 8), HAT-S (Chen et al. 2023:
// embed 144, [6]*6, window 16, compress/squeeze 24, mlp 2), DRCT (Hsu et al. 2024: embed 180, [6]*6,
// window 16), RGT-S (Chen et al. 2024: embed 180, depth [6]*6, heads [6]*6, split [8,32], mlp 2), MoSR
// (traiNNer-redux default: 24 blocks, 64 dims, ps), RCAN (Zhang et al. 2018: 10 groups x 20 blocks, 64
// features), Real-CUGAN x4 (UpCunet4x).
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter='Zoo' --benchmark_min_time=0.01
#include <benchmark/benchmark.h>

#include "core/config.h"
#include "models/arch/registry.h"
#include "tests/benchmarks/inference_bench.h"
#include "tests/benchmarks/train_step_bench.h"

namespace bench_zoo {

srlab::models::Generator make(const std::string& yaml) {
  torch::manual_seed(0);  // the same initial weights in every run
  const auto cfg = srlab::core::Config::parse("model: " + yaml, "bench_zoo");
  return srlab::models::make_generator(cfg.at("model"), 4);
}

void BM_ZooTrainStep(benchmark::State& state, const std::string& yaml) {
  srlab::bench::time_train_steps(state, make(yaml), 16, state.range(0), 4);
}

void BM_ZooInference(benchmark::State& state, const std::string& yaml) {
  srlab::bench::time_inference(state, make(yaml), state.range(0));
}

#define SRLAB_ZOO(name, patch, yaml)                                                                                     \
  BENCHMARK_CAPTURE(BM_ZooTrainStep, name, std::string(yaml))->Arg(patch)->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_CAPTURE(BM_ZooInference, name, std::string(yaml))->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime()

SRLAB_ZOO(realcugan_x4, 32, "{type: realcugan}");
SRLAB_ZOO(mosr_b24_d64, 32, "{type: mosr}");
SRLAB_ZOO(omnisr_f64_r5, 32, "{type: omnisr, num_feat: 64, res_num: 5, block_num: 1, window_size: 8}");
SRLAB_ZOO(rcan_g10_b20, 32, "{type: rcan}");
SRLAB_ZOO(dat_light, 32,
          "{type: dat, upsampler: pixelshuffledirect, embed_dim: 60, depth: [18], num_heads: [6], split_size: [8, 32], "
          "expansion_factor: 2.0, resi_connection: 3conv}");
SRLAB_ZOO(atd_light, 32,
          "{type: atd, upsampler: pixelshuffledirect, embed_dim: 48, depths: [6, 6, 6, 6], num_heads: [4, 4, 4, 4], "
          "window_size: 16, category_size: 128, num_tokens: 64, reducted_dim: 10, convffn_kernel_size: 7, mlp_ratio: 1.0}");
SRLAB_ZOO(hat_s, 32,
          "{type: hat, embed_dim: 144, depths: [6, 6, 6, 6, 6, 6], num_heads: [6, 6, 6, 6, 6, 6], window_size: 16, "
          "compress_ratio: 24, squeeze_factor: 24, mlp_ratio: 2.0}");
SRLAB_ZOO(rgt_s, 32,
          "{type: rgt, embed_dim: 180, depth: [6, 6, 6, 6, 6, 6], num_heads: [6, 6, 6, 6, 6, 6], split_size: [8, 32], "
          "mlp_ratio: 2.0}");
SRLAB_ZOO(drct, 32, "{type: drct}");

}  // namespace bench_zoo
