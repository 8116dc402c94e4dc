#include "models/weights/export_weights.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/version.h"
#include "models/weights/pth_writer.h"
#include "models/weights/safetensors_writer.h"

namespace srlab::models {
namespace fs = std::filesystem;

ExportFormat export_format(const std::string& format, const fs::path& output) {
  if (format == "pth") return ExportFormat::kPth;
  if (format == "safetensors") return ExportFormat::kSafetensors;
  if (format == "onnx") return ExportFormat::kOnnx;
  if (!format.empty())
    throw Error(fmt::format("--format '{}' is unknown; use pth, safetensors or onnx", format));
  std::string ext = output.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".pth" || ext == ".pt") return ExportFormat::kPth;
  if (ext == ".safetensors") return ExportFormat::kSafetensors;
  if (ext == ".onnx") return ExportFormat::kOnnx;
  throw Error(fmt::format("cannot tell the export format from the extension of '{}'; name it .pth, .safetensors or "
                          ".onnx, or give --format pth|safetensors|onnx",
                          output.string()));
}

StateDict module_state_dict(const torch::nn::Module& module) {
  StateDict sd;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) sd.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) sd.emplace(b.key(), b.value());
  return sd;
}

void export_pth(const fs::path& file, const Generator& raw, const Generator& ema) {
  if (!raw) throw Error(fmt::format("cannot write '{}': no generator given", file.string()));
  if (ema && (ema->type() != raw->type() || ema->scale() != raw->scale()))
    throw Error(fmt::format("cannot write '{}': the EMA generator ({} x{}) differs from the raw one ({} x{})",
                            file.string(), ema->type(), ema->scale(), raw->type(), raw->scale()));
  const StateDict params = module_state_dict(*raw);
  write_pth(file, {{"params_ema", ema ? module_state_dict(*ema) : params}, {"params", params}});
}

std::map<std::string, std::string> safetensors_metadata(const Generator& g, const std::string& model_yaml,
                                                         const std::string& weights, const std::string& run_id,
                                                         int64_t iteration) {
  if (!g) throw Error("safetensors metadata: no generator given");
  std::map<std::string, std::string> m{{"format", "pt"},
                                       {"architecture", g->type()},
                                       {"scale", std::to_string(g->scale())},
                                       {"model_yaml", model_yaml},
                                       {"weights", weights},
                                       {"srlab_version", SRLAB_VERSION}};
  if (!run_id.empty()) m["run_id"] = run_id;
  if (iteration >= 0) m["iteration"] = std::to_string(iteration);
  return m;
}

void export_safetensors(const fs::path& file, const Generator& g, const std::map<std::string, std::string>& metadata) {
  if (!g) throw Error(fmt::format("cannot write '{}': no generator given", file.string()));
  write_safetensors(file, module_state_dict(*g), metadata);
}

}  // namespace srlab::models
