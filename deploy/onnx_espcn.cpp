// ONNX exporter of ESPCN (models/arch/espcn.h): mirrors EspcnImpl::forward() node for node.
#include "models/arch/espcn.h"
#include "deploy/onnx_bicubic.h"
#include "deploy/onnx_export.h"

namespace srlab::models {

namespace {

std::string activate(OnnxGraph& graph, const EspcnImpl& net, const std::string& x, const torch::nn::PReLU& prelu,
                     const std::string& key) {
  switch (net.options().activation) {
    case EspcnActivation::kTanh:
      return graph.tanh(x, key);
    case EspcnActivation::kRelu:
      return graph.relu(x, key);
    case EspcnActivation::kPrelu:
      return export_prelu(graph, x, *prelu, key);
  }
  refuse_onnx_export("espcn", "unknown activation");
}

std::string export_espcn(const GeneratorImpl& g, OnnxGraph& graph, const std::string& lr) {
  const auto* net = dynamic_cast<const EspcnImpl*>(&g);
  if (!net) refuse_onnx_export(g.type(), "registered as espcn but is not an EspcnImpl");
  const EspcnOptions& o = net->options();
  std::string x = activate(graph, *net, export_conv2d(graph, lr, *net->conv1, "conv1", "espcn"), net->act1, "act1");
  x = activate(graph, *net, export_conv2d(graph, x, *net->conv2, "conv2", "espcn"), net->act2, "act2");
  x = graph.depth_to_space(export_conv2d(graph, x, *net->conv3, "conv3", "espcn"), o.scale);
  switch (o.residual) {
    case UpsampleResidual::kNone:
      return x;
    case UpsampleResidual::kBicubic:
      return graph.add(x, export_bicubic_upsample(graph, lr, o.scale, "bicubic"), "residual");
    case UpsampleResidual::kNearest:
      return graph.add(x, graph.resize(lr, o.scale, OnnxResizeMode::kNearest, "nearest"), "residual");
  }
  refuse_onnx_export("espcn", "unknown residual mode");
}

}  // namespace

void register_espcn_onnx() { register_onnx_exporter("espcn", export_espcn, {}, "3 convs + DepthToSpace (CRD); residual over a MATLAB-bicubic or nearest upsample"); }

}  // namespace srlab::models
