// srlab export --checkpoint CKPT --output model.onnx|model.pth|model.safetensors [--format F] [--opset 17] [--fp16]
//              [--static HxW] [--batch N] [--verify]
#include <boost/program_options.hpp>

#include <iostream>
#include <regex>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/memory.h"
#include "core/runtime.h"
#include "models/weights/checkpoint.h"
#include "models/weights/export_weights.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_verify.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace srlab::cli {

int cmd_export(const std::vector<std::string>& args) {
  const auto [opset_lo, opset_hi] = models::onnx_opset_range();
  po::options_description opts(
      "srlab export --checkpoint CKPT --output model.onnx|.pth|.safetensors [--format F] [--opset 17] [--fp16]\n"
      "             [--static HxW] [--verify]\n\n"
      "--format pth writes the generator as BasicSR does: torch.save({'params_ema': EMA weights (raw when the\n"
      "checkpoint has none), 'params': raw weights}), float32, BasicSR state-dict keys; Python opens it with\n"
      "torch.load(f, weights_only=True). --format safetensors writes one float32 state dict (EMA when present)\n"
      "with __metadata__ architecture, scale, model_yaml (all hyperparameters), weights (ema|raw). The default\n"
      "format follows the output extension (.pth/.pt, .safetensors, .onnx).\n\n"
      "ONNX: exports a checkpoint's generator (EMA weights when present) as an ONNX model: input \"input\" float32\n"
      "(N,3,H,W) RGB in [0,1], output \"output\" (N,3,s*H,s*W), not clamped; N, H, W dynamic unless fixed.\n"
      "Weights are initializers named after the state-dict keys; metadata_props record the architecture,\n"
      "scale, input range, colour order, run id and SRLab version. --verify runs the exported model in ONNX\n"
      "Runtime (in-process, or tools/onnxruntime from scripts/setup.sh --tests) and OpenCV DNN on random inputs of a few\n"
      "sizes and compares with LibTorch (max abs diff <= 1e-4, 1e-2 with --fp16); exit status 1 when over.\n\n"
      "options");
  std::string checkpoint, output, static_size, format;
  int opset = 17, threads = 0;
  int64_t batch = 0;
  bool fp16 = false, verify = false, raw_weights = false, overwrite = false;
  models::GeneratorLoadOptions load_options;
  opts.add_options()("help,h", "show this help")
      ("checkpoint,c", po::value(&checkpoint), "SRLab checkpoint (.pt) or community weights (.pth/.safetensors)")
      ("model-option", po::value(&load_options.model_options)->composing(),
       "override a hyperparameter detected from a .pth/.safetensors file, key=value (repeatable)")
      ("output,o", po::value(&output), "file to write (atomically): .onnx, .pth or .safetensors")
      ("format", po::value(&format), "pth | safetensors | onnx (default: from the output extension)")
      ("opset", po::value(&opset)->default_value(opset),
       ("ONNX opset, " + std::to_string(opset_lo) + ".." + std::to_string(opset_hi)).c_str())
      ("fp16", po::bool_switch(&fp16), "float16 weights and arithmetic (float32 input/output)")
      ("static", po::value(&static_size), "fixed input size HxW (default: dynamic H, W)")
      ("batch", ranged<int64_t>(&batch, "batch", 0, 4096)->default_value(0), "fixed batch size N (0: dynamic)")
      ("raw-weights", po::bool_switch(&raw_weights), "export the raw weights even when the checkpoint has EMA weights")
      ("overwrite", po::bool_switch(&overwrite), "replace an existing --output file")
      ("verify", po::bool_switch(&verify), "compare ONNX Runtime and OpenCV DNN outputs with LibTorch")
      ("threads", threads_option(&threads), "CPU threads for LibTorch and ONNX Runtime (0 = all)");
  if (!parse_args(opts, args)) return 0;
  if (checkpoint.empty()) throw Error("--checkpoint CKPT is required (a .pt file written by srlab train)");
  if (output.empty()) throw Error("--output FILE is required (e.g. --output model.onnx or model.pth)");
  core::check_output_free(output, core::existing_policy(overwrite));
  const models::ExportFormat out_format = models::export_format(format, output);
  if (out_format != models::ExportFormat::kOnnx) return export_weight_file(out_format, checkpoint, output, raw_weights, load_options);

  models::OnnxExportOptions eo;
  eo.opset = opset;
  eo.fp16 = fp16;
  eo.batch = batch;
  if (!static_size.empty()) {
    std::smatch m;
    if (!std::regex_match(static_size, m, std::regex(R"((\d+)[xX](\d+))")) || std::stoll(m[1]) < 1 ||
        std::stoll(m[2]) < 1)
      throw Error("--static expects HxW with H, W >= 1 (e.g. --static 128x128), got '" + static_size + "'");
    eo.height = std::stoll(m[1]);
    eo.width = std::stoll(m[2]);
  }
  core::configure_threads(threads);

  models::CheckpointInfo info;
  bool ema = false;
  models::Generator g;
  if (models::is_srlab_checkpoint(checkpoint)) {
    torch::serialize::InputArchive archive;
    models::open_checkpoint(checkpoint, archive);
    info = models::read_checkpoint_info(archive, checkpoint);
    ema = info.has_ema && !raw_weights;
    g = models::load_generator(checkpoint, torch::kCPU, /*prefer_ema=*/!raw_weights, load_options);
  } else {  // community weight file (.pth / .safetensors): architecture detected
    const auto c = models::load_community_generator(checkpoint, /*prefer_ema=*/!raw_weights, load_options);
    info.model_yaml = c.detected.model.model_yaml;
    ema = c.contents.wrapper_key.find("params_ema") != std::string::npos;
    g = c.detected.generator;
  }
  eo.run_id = info.run_id;
  eo.metadata = {{"iteration", std::to_string(info.iteration)},
                 {"weights", ema ? "generator_ema" : "generator"},
                 {"model_yaml", info.model_yaml}};

  if (verify && eo.height > 0) {
    // Checked before writing anything: the verification runs the model at the static size in LibTorch,
    // ONNX Runtime and OpenCV DNN (input, output and about two 64-channel activations per runtime).
    const double px = static_cast<double>(std::max<int64_t>(batch, 1)) * eo.height * eo.width;
    const double s2 = static_cast<double>(g->scale()) * g->scale();
    core::check_memory_budget(static_cast<uint64_t>(std::min(4.0 * px * (3.0 + 3.0 * (3.0 * s2 + 1.0) + 128.0), 1.8e19)),
                              fmt::format("--verify at --static {}x{}", eo.height, eo.width),
                              "verify at a smaller --static size (the graph is size-independent), or drop --verify");
  }
  core::remove_stale_temps(fs::path(output).has_parent_path() ? fs::path(output).parent_path() : fs::path("."));
  const std::string bytes = models::export_onnx(g, eo);
  core::write_file_atomic(output, bytes, core::existing_policy(overwrite));
  std::cout << "wrote " << output << " (" << g->type() << " x" << g->scale() << ", " << (ema ? "EMA" : "raw")
            << " weights of iteration " << info.iteration << ", opset " << opset << ", " << (fp16 ? "fp16" : "fp32")
            << ", input " << (batch > 0 ? std::to_string(batch) : "N") << "x3x"
            << (eo.height > 0 ? std::to_string(eo.height) + "x" + std::to_string(eo.width) : "HxW") << ", "
            << bytes.size() << " bytes)\n";
  if (!verify) return 0;

  models::OnnxVerifyOptions vo;
  vo.tolerance = fp16 ? 1e-2 : 1e-4;
  vo.inputs = models::onnx_verify_inputs(eo);
  vo.threads = threads;
  const models::OnnxVerifyReport report = models::verify_onnx(g, bytes, output, vo);
  std::cout << report.text();
  return report.passed() ? 0 : 1;
}

}  // namespace srlab::cli
