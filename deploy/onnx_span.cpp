// ONNX exporter of SPAN (models/arch/span.h): mirrors SpanImpl::forward() in eval mode. Every Conv3XC is
// exported as its folded 3x3 conv (Conv3XCImpl::fold(), initializers "<key>.eval_conv.weight/bias"; the
// branch parameters sk and conv.* are folded in, not exported), SiLU as x * Sigmoid(x), the attention as
// (o3 + x) * (Sigmoid(o3) - 0.5), the pixel shuffle as DepthToSpace CRD.
#include "deploy/onnx_export.h"
#include "models/arch/span.h"

namespace srlab::models {

namespace {

const char* kSpanType = "span";

std::string conv3xc(OnnxGraph& graph, const std::string& x, const Conv3XCImpl& c, const std::string& key) {
  auto [w, b] = c.fold();
  // What eval forward uses: the stored eval_conv when it already is the fold (Conv3XCImpl::update_eval_conv).
  const double tol = kConv3XCFoldTolerance * (1.0 + w.abs().max().item<double>());
  if ((c.eval_conv->weight - w).abs().max().item<double>() <= tol && (c.eval_conv->bias - b).abs().max().item<double>() <= tol) {
    w = c.eval_conv->weight;
    b = c.eval_conv->bias;
  }
  OnnxConvAttrs a;
  a.pads = {1, 1, 1, 1};
  return graph.conv(x, graph.initializer(key + ".eval_conv.weight", w), graph.initializer(key + ".eval_conv.bias", b),
                    a, key);
}

std::string silu(OnnxGraph& graph, const std::string& x, const std::string& hint) {
  return graph.mul(x, graph.sigmoid(x, hint + "_sigmoid"), hint);
}

std::string export_span(const GeneratorImpl& g, OnnxGraph& graph, const std::string& lr) {
  const auto* net = dynamic_cast<const SpanImpl*>(&g);
  if (!net) refuse_onnx_export(g.type(), "registered as span but is not a SpanImpl");
  std::string x = lr;
  if (net->options().norm) {
    const torch::Tensor mean = torch::tensor({static_cast<float>(kSpanRgbMean[0]), static_cast<float>(kSpanRgbMean[1]),
                                              static_cast<float>(kSpanRgbMean[2])})
                                   .view({1, 3, 1, 1});
    x = graph.mul(graph.sub(x, graph.constant(mean, "rgb_mean"), "sub_mean"),
                  scalar_constant(graph, kSpanImgRange, "img_range"), "img_range_mul");
  } else {
    graph.initializer("no_norm", net->no_norm);  // unused by the computation (as in the reference)
  }
  const std::string f0 = conv3xc(graph, x, *net->conv_1, "conv_1");
  const std::string half = scalar_constant(graph, 0.5, "half");
  std::string b = f0, b1, b5_inner;
  for (size_t i = 0; i < net->blocks.size(); ++i) {
    const auto& blk = *net->blocks[i];
    const std::string key = "block_" + std::to_string(i + 1);
    const std::string o1 = conv3xc(graph, b, *blk.c1_r, key + ".c1_r");
    const std::string act1 = silu(graph, o1, key + ".act1");
    const std::string o2 = conv3xc(graph, act1, *blk.c2_r, key + ".c2_r");
    const std::string o3 = conv3xc(graph, silu(graph, o2, key + ".act2"), *blk.c3_r, key + ".c3_r");
    const std::string att = graph.sub(graph.sigmoid(o3, key + ".sigmoid"), half, key + ".attention");
    b = graph.mul(graph.add(o3, b, key + ".skip"), att, key);
    if (i == 0) b1 = b;
    if (i + 1 == net->blocks.size()) b5_inner = act1;  // the reference's in-place SiLU
  }
  const std::string b6 = conv3xc(graph, b, *net->conv_2, "conv_2");
  const std::string cat = graph.concat({f0, b6, b1, b5_inner}, 1, "cat");
  const std::string out = export_conv2d(graph, cat, *net->conv_cat, "conv_cat", kSpanType);
  const auto& up = *net->upsampler->ptr(0)->as<torch::nn::Conv2dImpl>();
  return graph.depth_to_space(export_conv2d(graph, out, up, "upsampler.0", kSpanType), net->scale(), "pixel_shuffle");
}

bool folded_branch(const std::string& key) {
  return key.find(".sk.") != std::string::npos || key.find(".conv.") != std::string::npos;
}

}  // namespace

void register_span_onnx() { register_onnx_exporter("span", export_span, folded_branch, "Conv3XC branches exported folded (eval_conv), as at inference"); }

}  // namespace srlab::models
