#pragma once
// The timed training step shared by the train-step benchmarks: forward + L1 loss + backward + Adam step
// of `g` on random data, (batch,3,patch,patch) LR in [0,1] -> (batch,3,patch*scale,patch*scale) HR, all
// CPU threads (core::configure_threads), one untimed warm-up step (allocator, oneDNN caches, Adam state).
// Counters: samples/s (LR/HR pairs per second of wall time with UseRealTime), HR_MP/s (output
// megapixels per second), threads, params.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "losses/pixel_losses.h"
#include "models/arch/generator.h"

namespace srlab::bench {

inline void time_train_steps(benchmark::State& state, models::Generator g, int64_t batch, int64_t patch, int64_t scale) {
  const int threads = core::configure_threads();
  torch::manual_seed(0);
  g->train();
  torch::optim::Adam opt(g->parameters(), torch::optim::AdamOptions(1e-4));
  const auto lr = torch::rand({batch, 3, patch, patch});
  const auto hr = torch::rand({batch, 3, patch * scale, patch * scale});
  auto step = [&] {
    opt.zero_grad();
    auto loss = losses::l1_loss(g->forward(lr), hr);
    loss.backward();
    opt.step();
    return loss;
  };
  step();
  for (auto _ : state) benchmark::DoNotOptimize(step().data_ptr());
  const double samples = static_cast<double>(state.iterations()) * static_cast<double>(batch);
  state.counters["samples/s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["HR_MP/s"] = benchmark::Counter(
      samples * static_cast<double>(patch * scale * patch * scale) / 1e6, benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
  state.counters["params"] = static_cast<double>(models::count_parameters(*g));
}

}  // namespace srlab::bench
