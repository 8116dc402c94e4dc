// Benchmarks for the degradation pipelines and `srlab prepare`.
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter='Degrad|Prepare'
#include <benchmark/benchmark.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "core/paths.h"
#include "core/runtime.h"
#include "data/degrade/degradation.h"
#include "data/degrade/tensor_jpeg.h"
#include "data/degrade/tensor_pipeline.h"
#include "data/image/image_io.h"
#include "data/datasets/prepare.h"

namespace bench_degradation {

namespace fs = std::filesystem;

// Degraded LR/HR pairs per second for 256x256 HR patches (x4 -> 64x64 LR), one sample per task on a
// thread pool of Arg threads (0 = all hardware threads): what `srlab prepare` and the on-the-fly loader do.
void run_pipeline(benchmark::State& state, const char* yaml) {
  const int threads = state.range(0) > 0 ? static_cast<int>(state.range(0)) : srlab::core::hardware_threads();
  const srlab::data::Degradation d = srlab::data::Degradation::parse(yaml);
  torch::manual_seed(0);
  // A natural-image-like patch: a real image crop when the shared data is there, else smooth noise.
  torch::Tensor hr;
  const fs::path img = srlab::core::find_shared_data_dir() / "benchmarks/Set14/x4/HR/img_005.png";
  if (fs::exists(img)) hr = srlab::data::read_image(img).pixels.slice(1, 0, 256).slice(2, 0, 256).contiguous();
  if (!hr.defined() || hr.size(1) != 256 || hr.size(2) != 256) hr = srlab::data::quantize(torch::rand({3, 256, 256}));
  constexpr int kBatch = 32;
  int64_t index = 0;
  for (auto _ : state) {
    boost::asio::thread_pool pool(static_cast<size_t>(threads));
    for (int j = 0; j < kBatch; ++j)
      boost::asio::post(pool, [&, i = index + j] { benchmark::DoNotOptimize(d.apply(hr, 4, 0, i).lr.data_ptr()); });
    pool.join();
    index += kBatch;
  }
  state.counters["threads"] = threads;
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(index), benchmark::Counter::kIsRate);
}

void BM_DegradeSecondOrder256(benchmark::State& state) { run_pipeline(state, "type: second_order"); }
void BM_DegradeFirstOrder256(benchmark::State& state) { run_pipeline(state, "type: first_order"); }
void BM_DegradeBicubic256(benchmark::State& state) { run_pipeline(state, "type: bicubic"); }
BENCHMARK(BM_DegradeSecondOrder256)->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DegradeFirstOrder256)->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DegradeBicubic256)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);

// second_order pairs/s at 256x256 HR (x4), batch 16, 2 threads, both paths in the same run (issue 18).
// Arg 0: OpenCV path, one sample per task on a 2-thread pool. Arg 1: tensor path on the CPU, the whole
// batch through degrade_batch() with torch at 2 intra-op threads (parameters drawn as the OpenCV path).
void BM_DegradeSecondOrderBatch16(benchmark::State& state) {
  constexpr int kBatch = 16, kThreads = 2;
  const srlab::data::Degradation d = srlab::data::Degradation::parse("type: second_order");
  torch::Tensor hr;
  const fs::path img = srlab::core::find_shared_data_dir() / "benchmarks/Set14/x4/HR/img_001.png";
  if (fs::exists(img)) hr = srlab::data::read_image(img).pixels.slice(1, 0, 256).slice(2, 0, 256).contiguous();
  if (!hr.defined() || hr.size(1) != 256 || hr.size(2) != 256) hr = srlab::data::quantize(torch::rand({3, 256, 256}));
  const torch::Tensor batch = hr.unsqueeze(0).expand({kBatch, 3, 256, 256}).contiguous();
  const int saved = at::get_num_threads();
  at::set_num_threads(state.range(0) == 1 ? kThreads : 1);
  int64_t index = 0;
  for (auto _ : state) {
    if (state.range(0) == 1) {
      std::vector<int64_t> idx;
      for (int j = 0; j < kBatch; ++j) idx.push_back(index + j);
      benchmark::DoNotOptimize(srlab::data::degrade_batch(d, batch, 4, 0, idx).data_ptr());
    } else {
      boost::asio::thread_pool pool(kThreads);
      for (int j = 0; j < kBatch; ++j)
        boost::asio::post(pool, [&, i = index + j] { benchmark::DoNotOptimize(d.apply(hr, 4, 0, i).lr.data_ptr()); });
      pool.join();
    }
    index += kBatch;
  }
  at::set_num_threads(saved);
  state.SetLabel(state.range(0) == 1 ? "tensor (CPU)" : "opencv");
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(index), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DegradeSecondOrderBatch16)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);

// The tensor JPEG round trip (data/degrade/tensor_jpeg.h) on a batch of 16 RGB images of Arg x Arg
// pixels, quality 50, torch at 2 intra-op threads: the step that dominated the tensor pipeline before
// its fixed-point arithmetic moved from int64 floor divisions to int32 shifts.
void BM_TensorJpegBatch16(benchmark::State& state) {
  const int64_t side = state.range(0);
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({16, 3, side, side});
  const std::vector<int> q(16, 50);
  const int saved = at::get_num_threads();
  at::set_num_threads(2);
  for (auto _ : state) benchmark::DoNotOptimize(srlab::data::jpeg_batch(x, q).data_ptr());
  at::set_num_threads(saved);
  state.counters["images/s"] = benchmark::Counter(16.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TensorJpegBatch16)->Arg(64)->Arg(128)->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);

// `srlab prepare` on T91 (91 images): Arg 0 = whole images with bicubic LR, Arg 1 = 128-px HR patches
// (stride 64) with second-order LR. Counters: source images/s and pairs/s, all cores.
void BM_PrepareT91(benchmark::State& state) {
  const fs::path data = srlab::core::find_shared_data_dir();
  if (data.empty()) {
    state.SkipWithError("shared data not found (set SRLAB_DATA)");
    return;
  }
  srlab::data::PrepareOptions o;
  o.inputs = {data / "train/T91"};
  o.output = fs::temp_directory_path() / ("srlab_bench_prepare_" + std::to_string(::getpid()) + ".h5");
  o.scale = 4;
  o.layout = state.range(0) == 0 ? "images" : "patches";
  o.patch_size = 128;
  o.stride = 64;
  if (state.range(0) == 1) o.degradation = srlab::data::Degradation::parse("type: second_order");
  int64_t images = 0, samples = 0;
  for (auto _ : state) {
    const srlab::data::PrepareStats s = srlab::data::prepare_pairs(o);
    images += s.images + s.skipped;
    samples += s.samples;
  }
  fs::remove(o.output);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PrepareT91)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace bench_degradation
