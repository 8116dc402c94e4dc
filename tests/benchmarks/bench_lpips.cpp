// LPIPS v0.1 / SqueezeNet (models/features/lpips.h) on one 512x512 RGB pair, inference under NoGradGuard, all CPU
// threads (2 on the CI machine). Counters: MP/s = megapixels of one image of the pair per second;
// ms/pair via the reported time.
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=Lpips --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include "core/runtime.h"
#include "models/features/lpips.h"

namespace bench_lpips {

void BM_Lpips_512(benchmark::State& state) {
  srlab::core::configure_threads();
  auto model = srlab::models::load_lpips(srlab::models::resolve_lpips_weights(""));
  torch::manual_seed(0);
  const torch::Tensor a = torch::rand({1, 3, 512, 512});
  const torch::Tensor b = (a + 0.05 * torch::randn_like(a)).clamp(0, 1);
  torch::NoGradGuard ng;
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(a, b).item<float>());
  state.counters["MP/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 512.0 * 512.0 / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Lpips_512)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace bench_lpips
