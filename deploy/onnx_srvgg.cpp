// ONNX exporter of SRVGGNetCompact (models/arch/srvgg.h): mirrors SrvggCompactImpl::forward() node for node:
// the `body` list in order (Conv, PRelu/Relu/LeakyRelu), DepthToSpace CRD (= pixel shuffle), plus the
// nearest-upsampled input (Resize nearest, asymmetric, floor).
#include "deploy/onnx_export.h"
#include "models/arch/srvgg.h"

namespace srlab::models {

namespace {

std::string export_srvgg(const GeneratorImpl& g, OnnxGraph& graph, const std::string& lr) {
  const std::string type = g.type();
  const auto* net = dynamic_cast<const SrvggCompactImpl*>(&g);
  if (!net) refuse_onnx_export(type, "registered as srvgg_compact but is not an SrvggCompactImpl");
  const int64_t s = net->scale();
  std::string x = lr;
  for (size_t i = 0; i < net->body->size(); ++i) {
    const std::shared_ptr<torch::nn::Module> m = net->body->ptr(i);
    const std::string key = "body." + std::to_string(i);
    if (const auto* conv = m->as<torch::nn::Conv2dImpl>())
      x = export_conv2d(graph, x, *conv, key, type);
    else if (const auto* prelu = m->as<torch::nn::PReLUImpl>())
      x = export_prelu(graph, x, *prelu, key);
    else if (m->as<torch::nn::ReLUImpl>())
      x = graph.relu(x, key);
    else if (const auto* leaky = m->as<torch::nn::LeakyReLUImpl>())
      x = graph.leaky_relu(x, static_cast<float>(leaky->options.negative_slope()), key);
    else
      refuse_onnx_export(type, "'" + key + "' is a " + m->name() + ", not a Conv2d, PReLU, ReLU or LeakyReLU");
  }
  x = graph.depth_to_space(x, s, "pixel_shuffle");
  return graph.add(x, graph.resize(lr, s, OnnxResizeMode::kNearest, "nearest"), "residual");
}

}  // namespace

void register_srvgg_onnx() { register_onnx_exporter("srvgg_compact", export_srvgg, {}, "conv/PReLU body + DepthToSpace, plus the nearest-upsampled input"); }

}  // namespace srlab::models
