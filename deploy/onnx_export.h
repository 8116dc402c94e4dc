#pragma once
// ONNX export of SRLab generators: the exported model computes exactly what the generator's forward()
// computes (same layers, same order, same constants), so ONNX runtimes reproduce LibTorch's output up
// to float rounding (checked by deploy/onnx_verify.h and `srlab export --verify`).
//
// Model interface (every architecture):
//   input  "input"   float32 (N,3,H,W), RGB, values in [0,1] (the generator's LR batch)
//   output "output"  float32 (N,3,s*H,s*W), RGB, nominally [0,1], not clamped (as forward())
// N, H, W are symbolic ("N", "H", "W") unless fixed by OnnxExportOptions (batch, height, width).
// Weights are initializers named after the generator's state-dict keys (PReLU slopes are stored as
// (C,1,1) for broadcasting; every other initializer has its parameter's shape). metadata_props:
// architecture, scale, input_range "[0,1]", colour_order "RGB", layout "NCHW", precision, run_id,
// srlab_version, plus OnnxExportOptions::metadata.
//
// Exporters are registered per generator type (`type:` name) in a core::Registry; adding an architecture =
// an exporter function next to its module (see deploy/onnx_espcn.cpp) + one line in
// register_builtin_onnx_exporters() (deploy/builtin_exporters.cpp). A generator without an exporter, or a configuration an exporter cannot
// reproduce exactly, is refused with srlab::Error "... cannot be exported faithfully: ..." rather than
// exported as something different.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/arch/generator.h"
#include "deploy/onnx_graph.h"

namespace srlab::models {

struct OnnxExportOptions {
  int opset = 17;      ///< default-domain opset, onnx_opset_range() (13..17 with ONNX 1.12)
  bool fp16 = false;   ///< float16 weights and arithmetic inside, float32 interface (see onnx_graph.h)
  int64_t batch = 0;   ///< fixed N, or 0 for a symbolic "N"
  int64_t height = 0;  ///< fixed input H and W, or both 0 for symbolic "H", "W"
  int64_t width = 0;
  std::string run_id;  ///< training run (the checkpoint's run_id), stored as metadata "run_id"
  std::map<std::string, std::string> metadata;  ///< extra metadata_props (override the defaults)
};

/// Emits the generator's forward() into `graph`: `input` is the (N,3,H,W) input value (in the graph's
/// compute precision); returns the (N,3,s*H,s*W) output value. Throws srlab::Error via
/// refuse_onnx_export() for configurations it cannot reproduce exactly.
using OnnxExporter = std::function<std::string(const GeneratorImpl& g, OnnxGraph& graph, const std::string& input)>;

/// True for parameter keys an exporter folds into other initializers (re-parameterisation, e.g. SPAN's
/// Conv3XC branches, exported folded as eval_conv): exempt from export_onnx's every-parameter check.
using OnnxFoldedParameter = std::function<bool(const std::string& key)>;

/// Registers the exporter of generator type `type` (replacing any previous one), with the parameters it
/// folds (none by default) and a one-line `summary` listed by `srlab models`.
void register_onnx_exporter(const std::string& type, OnnxExporter exporter, OnnxFoldedParameter folded = {},
                            const std::string& summary = "");

/// Generator types with an exporter, sorted.
std::vector<std::string> onnx_exportable_types();

/// (generator type, summary) of every registered ONNX exporter, sorted by type (`srlab models`).
std::vector<std::pair<std::string, std::string>> onnx_exporter_types();

/// Exports `g` (its current weights; eval-mode semantics) as a serialized ONNX model (see the file
/// comment), checked by ONNX's checker and shape inference. Throws srlab::Error for bad options
/// (opset out of range, only one of height/width set, negative sizes), for a type without exporter,
/// for a configuration that cannot be exported faithfully, and when a parameter or buffer of `g` is
/// not used by the exporter.
std::string export_onnx(const Generator& g, const OnnxExportOptions& options);

// --- Helpers for exporters -------------------------------------------------------------------------

/// Throws srlab::Error "<type> cannot be exported faithfully to ONNX: <why>".
[[noreturn]] void refuse_onnx_export(const std::string& type, const std::string& why);

/// Emits `conv` (torch::nn::Conv2d, zero padding, explicit/valid/symmetric-same padding) applied to `x`
/// with initializers "<key>.weight" and "<key>.bias". Refuses other padding modes, asymmetric "same"
/// padding and transposed convolutions.
std::string export_conv2d(OnnxGraph& graph, const std::string& x, const torch::nn::Conv2dImpl& conv,
                          const std::string& key, const std::string& type);

/// Emits `prelu` (torch::nn::PReLU) applied to (N,C,H,W) `x`; initializer "<key>.weight" of shape (C',1,1)
/// (C' = num_parameters, 1 or C).
std::string export_prelu(OnnxGraph& graph, const std::string& x, const torch::nn::PReLUImpl& prelu,
                         const std::string& key);

/// A scalar Constant in the graph's compute precision (e.g. a residual scale, an image range).
std::string scalar_constant(OnnxGraph& graph, double value, const std::string& hint);

}  // namespace srlab::models
