// srlab — the SRLab command-line tool: one binary, subcommands.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "deploy/onnx_ort.h"
#include "cli/commands.h"
#include "core/version.h"
#include "core/error.h"

namespace srlab::cli {

bool parse_args(const boost::program_options::options_description& opts, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace srlab::cli

namespace {

const char* kUsage =
    "srlab — single-image super-resolution: train, evaluate, compare.\n"
    "\n"
    "usage: srlab <command> [options]     (srlab <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  train    train a generator from a YAML experiment config (or resume a run)\n"
    "  eval     score methods (bicubic, sharpened, checkpoints) on benchmark folders: Y-PSNR/SSIM\n"
    "  prepare  build an HDF5 dataset of LR/HR pairs from HR images with a degradation pipeline\n"
    "  degrade  preview a degradation config: a captioned grid of degraded samples of one image\n"
    "  export   export a checkpoint's generator as an ONNX model (--verify: compare with ONNX Runtime)\n"
    "  interpolate  blend two checkpoints of one architecture: (1 - alpha) A + alpha B (network interpolation)\n"
    "  compare  crisp vs creative report: baselines, interpolations, PSNR/SSIM/LPIPS, P-D plots, crop grids\n"
    "  upscale  upscale images with a checkpoint or ONNX model (tiled; alpha, gray, 16-bit; --outscale, --sharpen)\n"
    "  bench-runtimes  time one inference in LibTorch, ONNX Runtime and OpenCV DNN per architecture\n"
    "  bench-train     time training steps of one generator (samples/s; cpu or cuda, fp32/tf32/bf16/fp16)\n"
    "  bench-degrade   time the batched tensor degradation of training (pairs/s; cpu or cuda)\n"
    "  models   list the registered generator architectures and degradations; models inspect FILE\n"
    "  version  print the SRLab version\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "train") return srlab::cli::cmd_train(args);
    if (cmd == "eval") return srlab::cli::cmd_eval(args);
    if (cmd == "models") return srlab::cli::cmd_models(args);
    if (cmd == "degrade") return srlab::cli::cmd_degrade(args);
    if (cmd == "prepare") return srlab::cli::cmd_prepare(args);
    if (cmd == "export") return srlab::cli::cmd_export(args);
    if (cmd == "interpolate") return srlab::cli::cmd_interpolate(args);
    if (cmd == "compare") return srlab::cli::cmd_compare(args);
    if (cmd == "upscale") return srlab::cli::cmd_upscale(args);
    if (cmd == "bench-runtimes") return srlab::cli::cmd_bench_runtimes(args);
    if (cmd == "bench-train") return srlab::cli::cmd_bench_train(args);
    if (cmd == "bench-degrade") return srlab::cli::cmd_bench_degrade(args);
    if (cmd == "version" || cmd == "--version") {
      std::cout << "srlab " SRLAB_VERSION " (LibTorch " << TORCH_VERSION << ")\n"
                << ".onnx files: " << srlab::models::onnxruntime_description() << "\n";
      return 0;
    }
    std::cerr << "srlab: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
  } catch (const srlab::Error& e) {
    std::cerr << "srlab " << cmd << ": error: " << e.what() << "\n";
    return 1;
  } catch (const boost::program_options::error& e) {
    std::cerr << "srlab " << cmd << ": " << e.what() << " (see srlab " << cmd << " --help)\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "srlab " << cmd << ": internal LibTorch error: " << e.what_without_backtrace() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "srlab " << cmd << ": error: " << e.what() << "\n";
    return 3;
  }
}
