#include "deploy/onnx_export.h"

#include "core/version.h"

#include <set>

#include "core/error.h"
#include "core/registry.h"
#include "core/torch_compat.h"


namespace srlab::models {

void register_builtin_onnx_exporters();  // deploy/builtin_exporters.cpp

namespace {

struct ExporterEntry {
  OnnxExporter exporter;
  OnnxFoldedParameter folded;
};

core::Registry<ExporterEntry>& registry() {
  static core::Registry<ExporterEntry> r("ONNX exporter", register_builtin_onnx_exporters);
  return r;
}

std::vector<OnnxDim> image_dims(const OnnxExportOptions& o, int64_t scale) {
  const std::string sfx = scale == 1 ? "" : "*" + std::to_string(scale);
  return {o.batch > 0 ? OnnxDim::fixed(o.batch) : OnnxDim::symbolic("N"), OnnxDim::fixed(3),
          o.height > 0 ? OnnxDim::fixed(o.height * scale) : OnnxDim::symbolic("H" + sfx),
          o.width > 0 ? OnnxDim::fixed(o.width * scale) : OnnxDim::symbolic("W" + sfx)};
}

}  // namespace

void register_onnx_exporter(const std::string& type, OnnxExporter exporter, OnnxFoldedParameter folded,
                            const std::string& summary) {
  registry().add(type, {std::move(exporter), std::move(folded)}, summary);
}

std::vector<std::string> onnx_exportable_types() {
  std::vector<std::string> out;
  for (const auto& kv : registry().list()) out.push_back(kv.first);
  return out;
}

std::vector<std::pair<std::string, std::string>> onnx_exporter_types() { return registry().list(); }

void refuse_onnx_export(const std::string& type, const std::string& why) {
  throw Error(type + " cannot be exported faithfully to ONNX: " + why);
}

std::string export_onnx(const Generator& g, const OnnxExportOptions& o) {
  if (!g) throw Error("ONNX export: the generator is null");
  const std::string type = g->type();
  const auto [lo, hi] = onnx_opset_range();
  if (o.opset < lo || o.opset > hi)
    throw Error("ONNX export: opset " + std::to_string(o.opset) + " is not supported; use " + std::to_string(lo) +
                ".." + std::to_string(hi) + " (" + std::to_string(hi) +
                " = the newest opset the installed ONNX library can check)");
  if (o.batch < 0 || o.height < 0 || o.width < 0 || ((o.height > 0) != (o.width > 0)))
    throw Error("ONNX export: a static input size needs both height and width > 0 (both 0 = dynamic) and "
                "batch >= 0, got batch " + std::to_string(o.batch) + ", " + std::to_string(o.height) + "x" +
                std::to_string(o.width));
  const ExporterEntry* entry = registry().lookup(type);
  if (!entry)
    refuse_onnx_export(type, "no ONNX exporter is registered for generator type '" + type +
                                 "' (exportable types: " + registry().known_types() + "); `srlab export --format pth` or " +
                                 "`--format safetensors` writes every type");

  torch::NoGradGuard no_grad;
  OnnxGraph graph("srlab_" + type, o.fp16 ? OnnxPrecision::kFloat16 : OnnxPrecision::kFloat32);
  const std::string x = graph.input("input", image_dims(o, 1));
  const std::string y = entry->exporter(*g, graph, x);
  graph.output(y, "output", image_dims(o, g->scale()));

  // Every parameter and buffer must have become an initializer: an exporter that skips one would
  // export a different function.
  const auto names = graph.initializer_names();
  const std::set<std::string> exported(names.begin(), names.end());
  const OnnxFoldedParameter& folded = entry->folded;
  for (const auto& kv : g->named_parameters())
    if (!exported.count(kv.key()) && !(folded && folded(kv.key()))) refuse_onnx_export(type, "parameter '" + kv.key() + "' is not used by its exporter");
  for (const auto& kv : g->named_buffers())
    if (!exported.count(kv.key()) && !graph.reproduced().count(kv.key()))
      refuse_onnx_export(type, "buffer '" + kv.key() + "' is not used by its exporter");

  OnnxModelOptions mo;
  mo.opset = o.opset;
  mo.producer_version = SRLAB_VERSION;
  mo.doc_string = "SRLab " + type + " x" + std::to_string(g->scale()) +
                  ": input (N,3,H,W) float32 RGB in [0,1] -> output (N,3,H*s,W*s), not clamped";
  mo.metadata = {{"architecture", type},
                 {"scale", std::to_string(g->scale())},
                 {"input_range", "[0,1]"},
                 {"colour_order", "RGB"},
                 {"layout", "NCHW"},
                 {"precision", o.fp16 ? "float16 (float32 interface)" : "float32"},
                 {"run_id", o.run_id},
                 {"srlab_version", SRLAB_VERSION}};
  for (const auto& [k, v] : o.metadata) mo.metadata[k] = v;
  return graph.finish(mo);
}

std::string export_conv2d(OnnxGraph& graph, const std::string& x, const torch::nn::Conv2dImpl& conv,
                          const std::string& key, const std::string& type) {
  const auto& opt = conv.options;
  if (opt.transposed()) refuse_onnx_export(type, "'" + key + "' is a transposed convolution (not supported)");
  if (!torch_compat::get_if<torch::enumtype::kZeros>(&opt.padding_mode()))
    refuse_onnx_export(type, "'" + key + "' pads with mode " + torch::enumtype::get_enum_name(opt.padding_mode()) +
                                 "; only zero padding is supported");
  OnnxConvAttrs a;
  a.kernel_shape = {opt.kernel_size()->at(0), opt.kernel_size()->at(1)};
  a.strides = {opt.stride()->at(0), opt.stride()->at(1)};
  a.dilations = {opt.dilation()->at(0), opt.dilation()->at(1)};
  a.group = opt.groups();
  if (const auto* p = torch_compat::get_if<torch::ExpandingArray<2>>(&opt.padding())) {
    a.pads = {(*p)->at(0), (*p)->at(1), (*p)->at(0), (*p)->at(1)};
  } else if (torch_compat::get_if<torch::enumtype::kValid>(&opt.padding())) {
    a.pads = {0, 0, 0, 0};
  } else {  // kSame: total padding dilation*(k-1), LibTorch puts an odd remainder at the end
    for (int i = 0; i < 2; ++i) {
      const int64_t total = a.dilations[i] * (a.kernel_shape[i] - 1);
      if (total % 2 != 0)
        refuse_onnx_export(type, "'" + key + "' uses padding 'same' with an even kernel (asymmetric padding)");
      a.pads[i] = a.pads[i + 2] = total / 2;
    }
  }
  const std::string w = graph.initializer(key + ".weight", conv.weight);
  const std::string b = conv.bias.defined() ? graph.initializer(key + ".bias", conv.bias) : "";
  return graph.conv(x, w, b, a, key);
}

std::string export_prelu(OnnxGraph& graph, const std::string& x, const torch::nn::PReLUImpl& prelu,
                         const std::string& key) {
  const std::string slope = graph.initializer(key + ".weight", prelu.weight.reshape({-1, 1, 1}));
  return graph.prelu(x, slope, key);
}

std::string scalar_constant(OnnxGraph& graph, double value, const std::string& hint) {
  // LibTorch multiplies/divides a float tensor by a double scalar in float: round the same way.
  return graph.constant(torch::tensor(static_cast<float>(value)), hint);
}

}  // namespace srlab::models
