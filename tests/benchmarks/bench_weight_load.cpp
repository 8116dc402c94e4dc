// Loading an ESRGAN-size RRDBNet (rrdbnet x4 defaults: 64 features, 23 blocks, 16,697,987 parameters,
// 67 MB of float32) through models::load_generator, from a community .pth (torch.save zip with
// {'params_ema': state_dict}, as BasicSR writes it; made in the setup by Debian's python3-torch,
// /usr/bin/python3) and from SRLab's own checkpoint of the same shapes. Both include building the
// network; the .pth path adds unpickling and architecture detection. Target: pth <= 1.5x checkpoint.
//
//   ./build/tests/benchmarks/srlab_benchmarks --benchmark_filter=LoadRrdbnet
#include <benchmark/benchmark.h>
#include <caffe2/serialize/inline_container.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/config.h"
#include "core/runtime.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"

namespace bench_weight_load {
namespace fs = std::filesystem;
using namespace srlab::models;

/// This process's folder of weight files (129 MB), removed at exit.
const fs::path& bench_dir() {
  struct Dir {
    fs::path path = fs::temp_directory_path() / ("srlab_bench_load_" + std::to_string(::getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Dir d;
  return d.path;
}

/// Writes the SRLab checkpoint and, with python3-torch, the .pth; returns the .pth path or "" when
/// python3-torch is unavailable.
fs::path make_files() {
  static const fs::path pth = [] {
    torch::manual_seed(0);
    Generator g = make_generator(srlab::core::Config::parse("type: rrdbnet", "bench"), 4);
    torch::serialize::OutputArchive ar;
    write_generator_entries(ar, {"type: rrdbnet\n", 4, "bench", 0, false}, g);  // one copy: 67 MB
    ar.save_to((bench_dir() / "ckpt.pt").string());
    std::ofstream shapes(bench_dir() / "shapes.txt");
    for (const auto& p : g->named_parameters(true)) {
      shapes << p.key();
      for (int64_t s : p.value().sizes()) shapes << " " << s;
      shapes << "\n";
    }
    shapes.close();
    const fs::path out = bench_dir() / "rrdbnet.pth";
    const std::string cmd =
        "/usr/bin/python3 -c \"import sys, torch, collections\n"
        "sd = collections.OrderedDict()\n"
        "for line in open(sys.argv[1]):\n"
        "    k, *s = line.split()\n"
        "    sd[k] = torch.randn(*[int(x) for x in s])\n"
        "torch.save({'params_ema': sd}, sys.argv[2])\" '" +
        (bench_dir() / "shapes.txt").string() + "' '" + out.string() + "' 2>/dev/null";
    return std::system(cmd.c_str()) == 0 && fs::exists(out) ? out : fs::path();
  }();
  return pth;
}

/// The .pth of make_files(), or "" after marking the benchmark skipped (no python3-torch).
fs::path pth_or_skip(benchmark::State& state) {
  const fs::path pth = make_files();
  if (pth.empty()) state.SkipWithError("/usr/bin/python3 with torch is needed to write the .pth (apt install python3-torch)");
  return pth;
}

void BM_LoadRrdbnet_SrlabCheckpoint(benchmark::State& state) {
  srlab::core::configure_threads();
  make_files();
  for (auto _ : state) benchmark::DoNotOptimize(load_generator(bench_dir() / "ckpt.pt").get());
}
BENCHMARK(BM_LoadRrdbnet_SrlabCheckpoint)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LoadRrdbnet_Pth(benchmark::State& state) {
  srlab::core::configure_threads();
  const fs::path pth = pth_or_skip(state);
  if (pth.empty()) return;
  for (auto _ : state) benchmark::DoNotOptimize(load_generator(pth).get());
}
BENCHMARK(BM_LoadRrdbnet_Pth)->Unit(benchmark::kMillisecond)->UseRealTime();

// What the checks of issue 28 cost, same run: the file's records read by LibTorch's PyTorchStreamReader
// (what SRLab used before: no CRC-32 check) vs read_weight_file (libzip, every record checked against
// its CRC-32, the bounded unpickler, every tensor checked for NaN/Inf); no network built.
void BM_ReadPthRecords_PyTorchStreamReaderNoCrc(benchmark::State& state) {
  const fs::path pth = pth_or_skip(state);
  if (pth.empty()) return;
  for (auto _ : state) {
    caffe2::serialize::PyTorchStreamReader reader(pth.string());
    size_t bytes = 0;
    for (const std::string& r : reader.getAllRecords()) bytes += std::get<1>(reader.getRecord(r));
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_ReadPthRecords_PyTorchStreamReaderNoCrc)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadPthWeightFile_CrcChecked(benchmark::State& state) {
  srlab::core::configure_threads();
  const fs::path pth = pth_or_skip(state);
  if (pth.empty()) return;
  for (auto _ : state) benchmark::DoNotOptimize(read_weight_file(pth).state_dict.size());
}
BENCHMARK(BM_ReadPthWeightFile_CrcChecked)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace bench_weight_load
