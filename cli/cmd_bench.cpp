// srlab bench-runtimes [--size 512] [--scale 4] [--arch YAML ...] [--repeat 3] [--threads 0]
//
// Inference time of one generator forward pass in three runtimes on the same input and weights:
// LibTorch (this process), ONNX Runtime (onnxruntime-node, timed inside the runtime around
// InferenceSession.run) and OpenCV DNN (this process). Prints a Markdown table (median of --repeat runs
// after one warm-up run each) and the max abs difference of each runtime's output from LibTorch's.
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unistd.h>
#include <opencv2/core.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/runtime.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_opencv.h"
#include "deploy/onnx_verify.h"
#include "models/arch/registry.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace srlab::cli {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

template <typename Fn>
double time_ms(Fn&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string ms_text(double ms) { return ms < 0 ? "-" : fmt::format("{:.0f}", ms); }

}  // namespace

int cmd_bench_runtimes(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab bench-runtimes [--size 512] [--scale 4] [--arch YAML ...] [--repeat 3]\n\n"
      "Times one forward pass (size x size input, fp32, batch 1) of each architecture in LibTorch, ONNX Runtime\n"
      "(in-process where built with libonnxruntime-dev, else tools/onnxruntime; timed around the run) and OpenCV DNN, with the same random weights, and prints a\n"
      "Markdown table (median of --repeat runs after a warm-up) plus each runtime's max abs difference from\n"
      "LibTorch. Default architectures: those of the shipped configs.\n\noptions");
  int64_t size = 512;
  int scale = 4, repeat = 3, threads = 0;
  std::vector<std::string> archs;
  bool no_ort = false, no_opencv = false;
  opts.add_options()("help,h", "show this help")
      ("size", ranged<int64_t>(&size, "size", 1, 16384)->default_value(size), "input height and width (LR pixels)")
      ("scale", ranged(&scale, "scale", 1, 16)->default_value(scale), "upscaling factor")
      ("arch", po::value(&archs)->composing(), "a `model:` section as YAML, e.g. '{type: espcn, num_feat: 64}' (repeatable)")
      ("repeat", ranged(&repeat, "repeat", 1, 10000)->default_value(repeat), "timed runs per runtime (median reported)")
      ("no-onnxruntime", po::bool_switch(&no_ort), "skip ONNX Runtime")
      ("no-opencv", po::bool_switch(&no_opencv), "skip OpenCV DNN")
      ("threads", threads_option(&threads), "CPU threads for every runtime (0 = all cores)");
  if (!parse_args(opts, args)) return 0;
  if (size < 1 || repeat < 1) throw Error("--size and --repeat must be >= 1");
  if (archs.empty())
    archs = {"{type: espcn, num_feat: 64, activation: relu, residual: bicubic}",  // configs/quickstart.yaml
             "{type: edsr_baseline}"};                                           // configs/edsr_baseline_x4.yaml
  const int n_threads = core::configure_threads(threads);
  cv::setNumThreads(n_threads);

  const fs::path tmp = fs::temp_directory_path() / ("srlab_bench_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};

  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({1, 3, size, size});
  std::cout << fmt::format("| architecture | parameters | LibTorch ms | ONNX Runtime ms | OpenCV DNN ms | max diff ORT / OpenCV |\n"
                           "|---|---:|---:|---:|---:|---:|\n");
  for (size_t a = 0; a < archs.size(); ++a) {
    const models::Generator g = models::make_generator(core::Config::parse(archs[a]), scale);
    g->eval();
    // LibTorch
    torch::Tensor ref;
    std::vector<double> lt;
    {
      torch::NoGradGuard ng;
      for (int r = 0; r <= repeat; ++r) {
        const double ms = time_ms([&] { ref = g->forward(x); });
        if (r > 0) lt.push_back(ms);
      }
    }
    models::OnnxExportOptions eo;
    eo.batch = 1;
    eo.height = size;
    eo.width = size;
    const std::string bytes = models::export_onnx(g, eo);
    // ONNX Runtime: repeat+1 jobs in one session; the first is the warm-up.
    double ort_ms = -1, ort_diff = -1;
    if (!no_ort) {
      const fs::path file = tmp / ("m" + std::to_string(a) + ".onnx");
      core::write_file_atomic(file, bytes);
      std::vector<models::OrtJob> jobs(repeat + 1, models::OrtJob{file, x});
      const auto results = models::run_onnx_ort(jobs, threads > 0 ? threads : n_threads);
      std::vector<double> t;
      for (size_t i = 1; i < results.size(); ++i) t.push_back(results[i].time_ms);
      ort_ms = median(t);
      ort_diff = (results.back().output - ref).abs().max().item<double>();
    }
    double cv_ms = -1, cv_diff = -1;
    if (!no_opencv) {
      try {  // a graph OpenCV DNN does not support is a "-" in the table, not the end of the run
        models::OpenCvOnnxModel m(bytes, "bench");
        std::vector<double> t;
        torch::Tensor y;
        for (int r = 0; r <= repeat; ++r) {
          const double ms = time_ms([&] { y = m.forward(x); });
          if (r > 0) t.push_back(ms);
        }
        cv_ms = median(t);
        cv_diff = (y - ref).abs().max().item<double>();
      } catch (const Error& e) {
        std::cerr << "bench-runtimes: " << archs[a] << ": " << e.what() << "\n";
      }
    }
    std::cout << fmt::format("| `{}` x{} | {:.2f} M | {} | {} | {} | {} / {} |\n", archs[a], scale,
                             models::count_parameters(*g) / 1e6, ms_text(median(lt)), ms_text(ort_ms), ms_text(cv_ms),
                             ort_diff < 0 ? "-" : fmt::format("{:.1e}", ort_diff),
                             cv_diff < 0 ? "-" : fmt::format("{:.1e}", cv_diff))
              << std::flush;
  }
  std::cout << fmt::format("\n{}x{} -> {}x{} RGB, fp32, batch 1, {} thread(s), median of {} runs after a warm-up.\n",
                           size, size, size * scale, size * scale, n_threads, repeat);
  return 0;
}

}  // namespace srlab::cli
