// Throughput of the evaluation metrics and baselines (eval/): PSNR and SSIM on a 512x512 RGB pair scored
// on MATLAB luma (8-bit quantisation + Y conversion included), SSIM on RGB, the unsharp mask alone (512x512 RGB), and the bicubic / sharpened
// baselines upscaling 128x128 -> 512x512 (x4). Counter MP/s = megapixels (512x512 per pair / per SR
// output) per second of wall time. NIQE (eval/niqe.h) on the 512x512 noisy image (25 blocks of 96 px at
// two scales; luma conversion included), with the pristine model of ../shared/data/weights/niqe.
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter='Psnr|Ssim|Unsharp|Baseline|Niqe' --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include "core/runtime.h"
#include "eval/methods.h"
#include "eval/metrics.h"
#include "eval/niqe.h"

namespace bench_metrics {

constexpr int64_t kSize = 512;

// A smooth random RGB image in [0,1] and a noisy copy (an "SR result").
std::pair<torch::Tensor, torch::Tensor> make_pair() {
  torch::manual_seed(0);
  const auto hr = torch::nn::functional::interpolate(
                      torch::rand({1, 3, kSize / 8, kSize / 8}),
                      torch::nn::functional::InterpolateFuncOptions()
                          .size(std::vector<int64_t>{kSize, kSize})
                          .mode(torch::kBilinear)
                          .align_corners(false))
                      .squeeze(0);
  const auto sr = (hr + 0.02 * torch::randn_like(hr)).clamp(0, 1);
  return {hr.contiguous(), sr.contiguous()};
}

void set_mp(benchmark::State& state, double pixels_per_iter) {
  state.counters["MP/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * pixels_per_iter / 1e6,
                                              benchmark::Counter::kIsRate);
}

void BM_Psnr_Y(benchmark::State& state) {
  srlab::core::configure_threads();
  const auto [hr, sr] = make_pair();
  for (auto _ : state) benchmark::DoNotOptimize(srlab::eval::psnr(sr, hr, {4, true}));
  set_mp(state, kSize * kSize);
}
BENCHMARK(BM_Psnr_Y)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Ssim_Y(benchmark::State& state) {
  srlab::core::configure_threads();
  const auto [hr, sr] = make_pair();
  for (auto _ : state) benchmark::DoNotOptimize(srlab::eval::ssim(sr, hr, {4, true}));
  set_mp(state, kSize * kSize);
}
BENCHMARK(BM_Ssim_Y)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Ssim_RGB(benchmark::State& state) {
  srlab::core::configure_threads();
  const auto [hr, sr] = make_pair();
  for (auto _ : state) benchmark::DoNotOptimize(srlab::eval::ssim(sr, hr, {4, false}));
  set_mp(state, kSize * kSize);
}
BENCHMARK(BM_Ssim_RGB)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_UnsharpMask(benchmark::State& state) {
  srlab::core::configure_threads();
  const auto [hr, sr] = make_pair();
  (void)sr;
  for (auto _ : state) benchmark::DoNotOptimize(srlab::eval::unsharp_mask(hr, {}).data_ptr());
  set_mp(state, kSize * kSize);
}
BENCHMARK(BM_UnsharpMask)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Baseline(benchmark::State& state, const std::string& spec) {
  srlab::core::configure_threads();
  const auto [hr, sr] = make_pair();
  (void)sr;
  const auto lr = hr.slice(1, 0, kSize, 4).slice(2, 0, kSize, 4).contiguous();  // 128x128
  const auto m = srlab::eval::make_method(spec, 4, torch::kCPU, {});
  for (auto _ : state) benchmark::DoNotOptimize(m.upscale(lr).data_ptr());
  set_mp(state, kSize * kSize);
}
BENCHMARK_CAPTURE(BM_Baseline, bicubic_x4, std::string("bicubic"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Baseline, sharpened_x4, std::string("sharpened"))->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Niqe(benchmark::State& state) {
  srlab::core::configure_threads();
  const auto [hr, sr] = make_pair();
  (void)hr;
  const srlab::eval::NiqeModel model = srlab::eval::load_niqe_model(srlab::eval::resolve_niqe_model(""));
  for (auto _ : state) benchmark::DoNotOptimize(srlab::eval::niqe(sr, model, 0));
  set_mp(state, kSize * kSize);
}
BENCHMARK(BM_Niqe)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace bench_metrics
