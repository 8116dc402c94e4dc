#pragma once
// Exporting a generator's weights for the Python ecosystem: BasicSR-style .pth files and .safetensors
// files with SRLab metadata (`srlab export --format pth|safetensors`; ONNX lives in deploy/).
#include <filesystem>
#include <map>
#include <string>

#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

/// Output formats of `srlab export`.
enum class ExportFormat { kPth, kSafetensors, kOnnx };

/// `format` ("pth", "safetensors" or "onnx"), or when empty the format of `output`'s extension
/// (.pth/.pt -> pth, .safetensors -> safetensors, .onnx -> onnx; case-insensitive).
/// @throws srlab::Error naming the option/extension when the format is unknown or cannot be inferred.
ExportFormat export_format(const std::string& format, const std::filesystem::path& output);

/// The state dict of `module` as PyTorch's Module.state_dict() lists it: every parameter and buffer
/// under its dotted name ("body.0.rdb1.conv1.weight"); tensors share memory with the module. SRLab's
/// generators name them as the reference code does (BasicSR for RRDBNet, SRVGGNetCompact, EDSR).
StateDict module_state_dict(const torch::nn::Module& module);

/// Writes `file` as BasicSR saves a generator (basicsr/models/base_model.py save_network):
/// torch.save({'params_ema': state dict of `ema`, 'params': state dict of `raw`}). When `ema` is null,
/// both entries hold `raw`'s weights (one shared set of storages). float32, loadable with
/// torch.load(weights_only=True) and, for architectures BasicSR has, load_state_dict(strict=True).
/// @throws srlab::Error when `raw` is null, `ema` is not the same architecture as `raw`, or the file
///         cannot be written (models/weights/pth_writer.h).
void export_pth(const std::filesystem::path& file, const Generator& raw, const Generator& ema = nullptr);

/// The "__metadata__" SRLab writes into .safetensors: "format" = "pt", "architecture" = the registry
/// type (e.g. "rrdbnet"), "scale" (decimal), "model_yaml" = the `model:` section (type and every
/// hyperparameter, YAML text), "weights" = `weights` ("ema" or "raw"), "srlab_version", and when
/// non-empty "run_id" and "iteration" (decimal; -1 omits it).
std::map<std::string, std::string> safetensors_metadata(const Generator& g, const std::string& model_yaml,
                                                         const std::string& weights, const std::string& run_id = "",
                                                         int64_t iteration = -1);

/// Writes `g`'s state dict (float32, keys sorted) with `metadata` to the .safetensors `file`
/// (models/weights/safetensors_writer.h). @throws srlab::Error when `g` is null or `file` cannot be written.
void export_safetensors(const std::filesystem::path& file, const Generator& g,
                        const std::map<std::string, std::string>& metadata);

}  // namespace srlab::models
