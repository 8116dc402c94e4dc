// Data-parallel gradient averaging (train/distributed.h): one DataParallel::average_gradients call
// (bucketed flatten -> Gloo all-reduce over loopback TCP -> / world size -> copy back) on the
// gradients of EDSR-baseline x4 (1.5 M parameters) and RRDBNet x4 (16.7 M), 2 ranks. The two ranks
// are two threads of this process, each with its own TCPStore client and ProcessGroupGloo (the same
// transport as two processes); the time is rank 0's wall time per call. Counters: MB per call
// (float32 gradient bytes) and the algorithm bandwidth MB/s.
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=AllReduce
#include <benchmark/benchmark.h>

#include <thread>

#include "core/config.h"
#include "models/arch/registry.h"
#include "train/distributed.h"
#include "train/launch.h"

namespace bench_allreduce {

// Tensors with the generator's parameter shapes and random gradients.
std::vector<torch::Tensor> gradients_like(const std::string& model_yaml) {
  const auto cfg = srlab::core::Config::parse("model: " + model_yaml, "bench_allreduce");
  auto g = srlab::models::make_generator(cfg.at("model"), 4);
  std::vector<torch::Tensor> out;
  for (const auto& p : g->parameters()) {
    auto t = torch::zeros_like(p).requires_grad_();
    t.mutable_grad() = torch::randn_like(p);
    out.push_back(t);
  }
  return out;
}

void BM_AllReduce(benchmark::State& state, const std::string& model_yaml) {
  constexpr int kIters = 20;
  const int port = srlab::train::free_tcp_port();
  auto g0 = gradients_like(model_yaml), g1 = gradients_like(model_yaml);
  std::thread peer([&] {
    srlab::train::DistEnv e{1, 2, 1, "127.0.0.1", port};
    srlab::train::DataParallel dp(e, torch::kCPU);
    for (int i = 0; i < kIters + 1; ++i) dp.average_gradients(g1);
  });
  srlab::train::DistEnv e{0, 2, 0, "127.0.0.1", port};
  srlab::train::DataParallel dp(e, torch::kCPU);
  dp.average_gradients(g0);  // warm-up (connections, buffers)
  for (auto _ : state) dp.average_gradients(g0);
  peer.join();
  double bytes = 0;
  for (const auto& t : g0) bytes += static_cast<double>(t.numel()) * 4.0;
  state.counters["MB"] = bytes / 1e6;
  state.counters["MB/s"] = benchmark::Counter(bytes / 1e6 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_AllReduce, edsr_baseline_x4, std::string("{type: edsr_baseline}"))
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_AllReduce, rrdbnet_x4, std::string("{type: rrdbnet}"))
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace bench_allreduce
