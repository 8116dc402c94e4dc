// ONNX exporter of EDSR and EDSR-baseline (models/arch/edsr.h): mirrors EdsrImpl::forward() and
// ResidualBlockNoBNImpl::forward() node for node, including BasicSR's mean shift and img_range scaling.
#include "models/arch/edsr.h"
#include "deploy/onnx_export.h"

namespace srlab::models {

namespace {

std::string export_edsr(const GeneratorImpl& g, OnnxGraph& graph, const std::string& lr) {
  const std::string type = g.type();
  const auto* net = dynamic_cast<const EdsrImpl*>(&g);
  if (!net) refuse_onnx_export(type, "registered as an EDSR type but is not an EdsrImpl");
  const EdsrOptions& o = net->options();
  const std::string mean = graph.constant(torch::tensor({static_cast<float>(o.rgb_mean[0]),
                                                         static_cast<float>(o.rgb_mean[1]),
                                                         static_cast<float>(o.rgb_mean[2])})
                                              .view({1, 3, 1, 1}),
                                          "rgb_mean");
  const std::string range = scalar_constant(graph, o.img_range, "img_range");

  // x = conv_first((lr - mean) * img_range)
  const std::string x =
      export_conv2d(graph, graph.mul(graph.sub(lr, mean, "sub_mean"), range, "mul_range"), *net->conv_first,
                    "conv_first", type);
  // body: x + res_scale * conv2(relu(conv1(x))) per block (the multiplication only when res_scale != 1)
  std::string h = x;
  const std::string res_scale = o.res_scale != 1.0 ? scalar_constant(graph, o.res_scale, "res_scale") : "";
  for (size_t i = 0; i < net->body->size(); ++i) {
    const auto& block = net->body->at<ResidualBlockNoBNImpl>(i);
    const std::string key = "body." + std::to_string(i);
    std::string r = export_conv2d(graph, h, *block.conv1, key + ".conv1", type);
    r = export_conv2d(graph, graph.relu(r, key + ".relu"), *block.conv2, key + ".conv2", type);
    if (!res_scale.empty()) r = graph.mul(r, res_scale, key + ".scale");
    h = graph.add(h, r, key + ".add");
  }
  h = graph.add(export_conv2d(graph, h, *net->conv_after_body, "conv_after_body", type), x, "global_skip");
  // upsample: the Sequential's convs and pixel shuffles, in order
  for (size_t i = 0; i < net->upsample->size(); ++i) {
    const std::shared_ptr<torch::nn::Module> m = net->upsample->ptr(i);
    const std::string key = "upsample." + std::to_string(i);
    if (const auto* conv = m->as<torch::nn::Conv2dImpl>())
      h = export_conv2d(graph, h, *conv, key, type);
    else if (const auto* shuffle = m->as<torch::nn::PixelShuffleImpl>())
      h = graph.depth_to_space(h, shuffle->options.upscale_factor(), key);
    else
      refuse_onnx_export(type, "'" + key + "' is a " + m->name() + ", not a Conv2d or PixelShuffle");
  }
  // y = conv_last(.) / img_range + mean
  const std::string y = export_conv2d(graph, h, *net->conv_last, "conv_last", type);
  return graph.add(graph.div(y, range, "div_range"), mean, "add_mean");
}

}  // namespace

void register_edsr_onnx() {
  register_onnx_exporter("edsr", export_edsr, {}, "conv residual blocks + DepthToSpace, mean shift and img_range as constants");
  register_onnx_exporter("edsr_baseline", export_edsr, {}, "as edsr");
}

}  // namespace srlab::models
