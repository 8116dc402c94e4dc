// ONNX exporter of RCAN (models/arch/rcan.h), dynamic N, H, W: mirrors RcanImpl::forward() in eval mode
// node for node:
//   unshuffle_mod: the bottom/right reflect padding to a multiple of d = 4 / scale as Gathers with indices
//     from the runtime Shape (reflect_pad_any, deploy/onnx_blocks.h; any H, W, as reflect_pad2d_any), then
//     head.0 = torch::pixel_unshuffle (SpaceToDepth + channel permutation, OnnxGraph::pixel_unshuffle);
//   norm: Mul by rgb_range, sub_mean (1x1 Conv), ..., add_mean (1x1 Conv), Div by rgb_range (without norm
//     the range is 1 and no Mul/Div is emitted: x * 1 and x / 1 are exact identities);
//   head / body / tail convs: Conv; residual group: RCABs, Conv, Add(input); RCAB: Conv, activation, Conv,
//     channel attention (GlobalAveragePool, Conv conv_du.0, Relu, Conv conv_du.2, Sigmoid, Mul; the shared
//     channel_attention emitter), Add(input); the long skip Add(body(x), x);
//   activations: relu -> Relu, leaky_relu -> LeakyRelu 0.2, elu -> Elu 1, silu -> Mul(x, Sigmoid(x)),
//     gelu -> exact erf GELU (onnx_blocks.h), none -> nothing;
//   tail.0: (Conv, DepthToSpace CRD) stages (x2 each, or one x3); tail.1: Conv;
//   the crop to (s*H, s*W) (Slice with ends from the runtime input shape; a no-op unless the input was padded).
// Every configuration RCAN accepts is exported; nothing is refused.
#include "deploy/onnx_blocks.h"
#include "deploy/onnx_export.h"
#include "models/arch/rcan.h"

namespace srlab::models {

namespace {

const char* kRcanType = "rcan";

const torch::nn::Conv2dImpl& conv_at(const torch::nn::SequentialImpl& seq, size_t i, const std::string& key) {
  const auto* c = seq.ptr(i)->as<torch::nn::Conv2dImpl>();
  if (!c) refuse_onnx_export(kRcanType, "'" + key + "' is a " + seq.ptr(i)->name() + ", not a Conv2d");
  return *c;
}

std::string activation(OnnxGraph& g, const std::string& x, const torch::nn::Module& m, const std::string& key) {
  if (m.as<torch::nn::ReLUImpl>()) return g.relu(x, key);
  if (const auto* l = m.as<torch::nn::LeakyReLUImpl>())
    return g.leaky_relu(x, static_cast<float>(l->options.negative_slope()), key);
  if (const auto* e = m.as<torch::nn::ELUImpl>())
    return g.node("Elu", {x}, key, {onnx::MakeAttribute("alpha", static_cast<float>(e->options.alpha()))});
  if (m.as<torch::nn::SiLUImpl>()) return g.mul(x, g.sigmoid(x, key + "_sigmoid"), key);
  if (m.as<torch::nn::GELUImpl>()) return gelu(g, x, key);
  if (m.as<torch::nn::IdentityImpl>()) return x;
  refuse_onnx_export(kRcanType, "'" + key + "' is a " + m.name() + ", not a supported activation");
}

std::string rcab(OnnxGraph& g, const std::string& x, const RcabImpl& b, const std::string& key) {
  const auto& body = *b.body;
  std::string y = export_conv2d(g, x, conv_at(body, 0, key + ".body.0"), key + ".body.0", kRcanType);
  y = activation(g, y, *body.ptr(1), key + ".body.1");
  y = export_conv2d(g, y, conv_at(body, 2, key + ".body.2"), key + ".body.2", kRcanType);
  const auto* ca = body.ptr(3)->as<RcanChannelAttentionImpl>();
  if (!ca) refuse_onnx_export(kRcanType, "'" + key + ".body.3' is not the channel attention");
  const std::string k = key + ".body.3.conv_du";
  y = channel_attention(g, y, conv_at(*ca->conv_du, 0, k + ".0"), k + ".0", conv_at(*ca->conv_du, 2, k + ".2"), k + ".2",
                        kRcanType, key + ".body.3");
  return g.add(y, x, key);
}

std::string residual_group(OnnxGraph& g, const std::string& x, const RcanResidualGroupImpl& rg, const std::string& key) {
  const auto& body = *rg.body;
  std::string y = x;
  for (size_t b = 0; b + 1 < body.size(); ++b) {
    const auto* block = body.ptr(b)->as<RcabImpl>();
    if (!block) refuse_onnx_export(kRcanType, "'" + key + ".body." + std::to_string(b) + "' is not an RCAB");
    y = rcab(g, y, *block, key + ".body." + std::to_string(b));
  }
  const std::string k = key + ".body." + std::to_string(body.size() - 1);
  return g.add(export_conv2d(g, y, conv_at(body, body.size() - 1, k), k, kRcanType), x, key);
}

std::string head(OnnxGraph& g, const std::string& x, const RcanImpl& net) {
  const auto& seq = *net.head;
  std::string y = x;
  for (size_t i = 0; i < seq.size(); ++i) {
    const std::string k = "head." + std::to_string(i);
    if (seq.ptr(i)->as<torch::nn::PixelUnshuffleImpl>())
      y = g.pixel_unshuffle(y, net.downscale_factor(), 3, k);
    else
      y = export_conv2d(g, y, conv_at(seq, i, k), k, kRcanType);
  }
  return y;
}

std::string tail(OnnxGraph& g, const std::string& x, const RcanTailImpl& t) {
  std::string y = x;
  const auto& up = *t.up;
  for (size_t i = 0; i < up.size(); ++i) {
    const std::string k = "tail.0." + std::to_string(i);
    if (const auto* ps = up.ptr(i)->as<torch::nn::PixelShuffleImpl>())
      y = g.depth_to_space(y, ps->options.upscale_factor(), k);
    else
      y = export_conv2d(g, y, conv_at(up, i, k), k, kRcanType);
  }
  return export_conv2d(g, y, *t.last, "tail.1", kRcanType);
}

std::string export_rcan(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const RcanImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as rcan but is not an RcanImpl");
  const bool norm = net->options().norm;
  std::string range;
  std::string x = reflect_pad_any(g, lr, 0, net->downscale_factor(), "pad_to_multiple");
  if (norm) {
    range = scalar_constant(g, net->options().rgb_range, "rgb_range");
    x = export_conv2d(g, g.mul(x, range, "scaled"), *net->sub_mean, "sub_mean", kRcanType);
  }
  x = head(g, x, *net);
  const auto& body = *net->body;
  std::string y = x;
  for (size_t i = 0; i + 1 < body.size(); ++i) {
    const auto* rg = body.ptr(i)->as<RcanResidualGroupImpl>();
    if (!rg) refuse_onnx_export(kRcanType, "'body." + std::to_string(i) + "' is not a residual group");
    y = residual_group(g, y, *rg, "body." + std::to_string(i));
  }
  const std::string last = "body." + std::to_string(body.size() - 1);
  y = g.add(export_conv2d(g, y, conv_at(body, body.size() - 1, last), last, kRcanType), x, "long_skip");
  y = tail(g, y, *net->tail);
  if (norm) y = g.div(export_conv2d(g, y, *net->add_mean, "add_mean", kRcanType), range, "unscaled");
  return net->downscale_factor() > 1 ? crop_to_scaled_input(g, y, lr, net->scale(), "crop") : y;
}

}  // namespace

void register_rcan_onnx() {
  register_onnx_exporter("rcan", export_rcan, {},
                         "residual groups of RCABs with GlobalAveragePool channel attention; mean shifts, "
                         "pixel-unshuffle stem (reflect pad from the runtime shape), every option");
}

}  // namespace srlab::models
