// GAN training throughput: one full iteration of the trainer's GAN mode (train/gan_step.h) on random
// data, all CPU threads: generator forward, generator loss (pixel + optional perceptual + adversarial
// through the frozen discriminator), backward, Adam step and EMA update, then one discriminator update
// (D(hr), D(sr.detach()), backward, Adam step). Sized as the shipped CPU configs
// configs/gan/creative_x4.yaml and creative_noperc_x4.yaml: SRVGGNetCompact 32/8 x4, U-Net
// discriminator with spectral norm (16 features), batch 8, LR patch 24 (HR 96).
// Counters: samples/s (LR/HR patch pairs per second of wall time), HR MP/s.
// The perceptual case needs the LPIPS weights of ../shared/data (SRLAB_DATA); it is skipped without.
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=GanStep --benchmark_min_time=5
#include <benchmark/benchmark.h>

#include "core/config.h"
#include "core/error.h"
#include "core/runtime.h"
#include "models/arch/registry.h"
#include "train/ema.h"
#include "train/gan_step.h"
#include "train/train_config.h"

namespace bench_gan_step {

void BM_GanStep(benchmark::State& state, const std::string& losses_yaml) {
  const int threads = srlab::core::configure_threads();
  constexpr int64_t kBatch = 8, kPatch = 24, kScale = 4;
  const std::string yaml = R"(name: bench_gan_step
seed: 0
device: cpu
scale: 4
model: {type: srvgg_compact, num_feat: 32, num_conv: 8, act_type: prelu}
discriminator: {type: unet_sn, num_feat: 16, skip_connection: true}
d_optimizer: {type: adam, lr: 1.0e-4, betas: [0.9, 0.99]}
data:
  train: {hr_dirs: ["${data}/train/T91"], batch_size: 8, lr_patch: 24}
losses: )" + losses_yaml + R"(
optimizer: {type: adam, lr: 1.0e-4, betas: [0.9, 0.99]}
train: {iters: 100, ema_decay: 0.999}
)";
  srlab::train::TrainConfig c;
  try {
    c = srlab::train::TrainConfig::from_config(srlab::core::Config::parse(yaml, "bench_gan_step"));
  } catch (const srlab::Error& e) {
    state.SkipWithError(e.what());  // e.g. ../shared/data (training images, LPIPS weights) not found
    return;
  }
  torch::manual_seed(0);
  auto g = srlab::models::make_generator(c.model, kScale);
  auto ema = srlab::models::make_generator(c.model, kScale);
  srlab::train::copy_weights(*ema, *g);
  g->train();
  torch::optim::Adam opt(g->parameters(), torch::optim::AdamOptions(1e-4).betas({0.9, 0.99}));
  const auto loss = srlab::losses::WeightedLoss::from_config(c.losses);
  srlab::train::GanStep gan(c, loss, c.built->discriminator, torch::kCPU);
  const auto lr = torch::rand({kBatch, 3, kPatch, kPatch});
  const auto hr = torch::rand({kBatch, 3, kPatch * kScale, kPatch * kScale});
  int64_t it = 0;
  auto step = [&] {
    srlab::losses::LossInputs in;
    in.sr = g->forward(lr);
    in.hr = hr;
    in.lr = lr;
    auto res = gan.generator_loss(in, it);
    opt.zero_grad();
    res.total.backward();
    opt.step();
    srlab::train::ema_update(*ema, *g, c.ema_decay);
    const auto d = gan.discriminator_step(in.sr, hr, it);
    ++it;
    return d.loss;
  };
  step();  // warm-up: allocator, oneDNN primitive caches, Adam state
  for (auto _ : state) benchmark::DoNotOptimize(step());
  const double samples = static_cast<double>(state.iterations()) * kBatch;
  state.counters["samples/s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["HR_MP/s"] =
      benchmark::Counter(samples * kPatch * kScale * kPatch * kScale / 1e6, benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
}

// Wall-clock time (UseRealTime): LibTorch runs each op on all intra-op threads.
BENCHMARK_CAPTURE(BM_GanStep, creative_x4,
                  std::string("[{type: l1, weight: 0.01}, {type: perceptual, weight: 0.2}, "
                              "{type: gan, gan_type: vanilla, weight: 0.1}]"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_GanStep, creative_noperc_x4,
                  std::string("[{type: l1, weight: 0.01}, {type: gan, gan_type: vanilla, weight: 0.1}]"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace bench_gan_step
