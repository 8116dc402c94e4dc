#pragma once
// The timed inference shared by the inference benchmarks (bench_inference.cpp, bench_zoo.cpp): `g` in eval
// mode, no autograd, on one random (1,3,size,size) LR image in [0,1], all CPU threads
// (core::configure_threads). Counters: LR_MP/s (input megapixels per second of wall time with
// UseRealTime), threads, params.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "models/arch/generator.h"

namespace srlab::bench {

inline void time_inference(benchmark::State& state, models::Generator g, int64_t size) {
  const int threads = core::configure_threads();
  g->eval();
  torch::NoGradGuard ng;
  const auto lr = torch::rand({1, 3, size, size});
  for (auto _ : state) benchmark::DoNotOptimize(g->forward(lr).data_ptr());
  state.counters["LR_MP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * size * size / 1e6, benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
  state.counters["params"] = static_cast<double>(models::count_parameters(*g));
}

}  // namespace srlab::bench
