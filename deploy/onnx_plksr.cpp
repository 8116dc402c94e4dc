// ONNX exporter of PLKSR / RealPLKSR (models/arch/plksr.h): mirrors PlksrImpl::forward() in eval mode
// (Dropout2d is the identity). Opsets 13-17 have no GELU, Mish or GroupNormalization op, so they are
// emitted from primitives with torch's definitions:
//   GELU(x)  = 0.5 x (1 + Erf(x / sqrt 2))            (exact GELU, torch's default)
//   Mish(x)  = x Tanh(Softplus(x))
//   GroupNorm: Reshape (N, G, -1), InstanceNormalization (scale 1, bias 0, eps 1e-5), Reshape back to
//              Shape(x), then Mul weight / Add bias (C,1,1)
//   channels-first LayerNorm: ReduceMean over axis 1, (x - u) / Sqrt(mean((x - u)^2) + eps) * w + b
// (Mish and the channels-first LayerNorm are shared with other exporters: deploy/onnx_blocks.h.)
// The partial large kernel slices channels [0, P) and [P, D) (Slice), convolves the first, and Concats;
// repeat_interleave(x, s*s, dim 1) is a 1x1 Conv with constant one-hot weights (exact: x*1 + 0s);
// the pixel shuffle is DepthToSpace CRD. The DySample upsampler is refused (not exported).
#include "deploy/onnx_blocks.h"
#include "deploy/onnx_export.h"
#include "models/arch/plksr.h"

#include <cmath>
#include <limits>

namespace srlab::models {

namespace {

std::string group_norm(OnnxGraph& g, const std::string& x, const torch::nn::GroupNormImpl& n, const std::string& key) {
  const int64_t groups = n.options.num_groups();
  const std::string grouped = g.reshape(x, g.constant(torch::tensor({int64_t{0}, groups, int64_t{-1}}), key + "_gshape"),
                                        key + "_grouped");
  const std::string normed =
      g.node("InstanceNormalization",
             {grouped, g.constant(torch::ones({groups}), key + "_ones"), g.constant(torch::zeros({groups}), key + "_zeros")},
             key + "_instnorm", {onnx::MakeAttribute("epsilon", static_cast<float>(n.options.eps()))});
  const std::string back = g.reshape(normed, g.shape(x, key + "_shape"), key + "_ungrouped");
  return g.add(g.mul(back, channel_param(g, n.weight, key + ".weight"), key + "_scale"),
               channel_param(g, n.bias, key + ".bias"), key);
}

std::string block(OnnxGraph& g, const std::string& x, const PlkBlockImpl& b, const std::string& key, bool real,
                  const std::string& type) {
  std::string y = b.layer_norm ? channel_layer_norm(g, x, *b.layer_norm, key + ".layer_norm") : x;
  const std::string mk = key + (real ? ".channel_mixer" : ".channe_mixer");
  y = export_conv2d(g, y, *b.channel_mixer->ptr(0)->as<torch::nn::Conv2dImpl>(), mk + ".0", type);
  y = real ? mish(g, y, mk + ".1") : gelu(g, y, mk + ".1");
  y = export_conv2d(g, y, *b.channel_mixer->ptr(2)->as<torch::nn::Conv2dImpl>(), mk + ".2", type);
  // partial large kernel: channels [0, P) through lk.conv (+ identity), [P, D) unchanged
  const int64_t p = b.pdim, end = std::numeric_limits<int32_t>::max();
  const std::string x1 = g.slice(y, int64_vector(g, {0}, key + "_p0"), int64_vector(g, {p}, key + "_p1"), {1}, key + ".lk_in");
  const std::string x2 = g.slice(y, int64_vector(g, {p}, key + "_q0"), int64_vector(g, {end}, key + "_q1"), {1}, key + ".lk_pass");
  std::string y1 = export_conv2d(g, x1, *b.lk_conv, key + ".lk.conv", type);
  if (b.with_idt) y1 = g.add(y1, x1, key + ".lk_idt");
  y = g.concat({y1, x2}, 1, key + ".lk");
  if (b.attn_conv)
    y = g.mul(y, g.sigmoid(export_conv2d(g, y, *b.attn_conv, key + ".attn.f.0", type), key + ".attn.f.1"), key + ".attn");
  y = export_conv2d(g, y, *b.refine, key + ".refine", type);
  if (b.norm) y = group_norm(g, y, *b.norm, key + ".norm");
  return g.add(y, x, key + ".skip");
}

std::string export_plksr(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const std::string type = gen.type();
  const auto* net = dynamic_cast<const PlksrImpl*>(&gen);
  if (!net) refuse_onnx_export(type, "registered as " + type + " but is not a PlksrImpl");
  if (net->to_img)
    refuse_onnx_export(type, "the DySample upsampler (dysample: true) has no exporter (it needs GridSample with "
                             "runtime-computed sampling grids); train with dysample: false to export");
  const bool real = net->options().variant == PlksrVariant::kRealPlksr;
  const int64_t s = net->scale(), n = net->feats->size();
  std::string x = lr;
  for (int64_t i = 0; i < n; ++i) {
    const auto m = net->feats->ptr(i);
    const std::string key = "feats." + std::to_string(i);
    if (const auto* conv = m->as<torch::nn::Conv2dImpl>())
      x = export_conv2d(g, x, *conv, key, type);
    else if (const auto* b = m->as<PlkBlockImpl>())
      x = block(g, x, *b, key, real, type);
    else if (!m->as<torch::nn::Dropout2dImpl>())  // Dropout2d: identity in eval mode
      refuse_onnx_export(type, "'" + key + "' is a " + m->name() + ", not a Conv2d, PLKBlock or Dropout2d");
  }
  // repeat_interleave(lr, s*s, 1): output channel c*s*s + k copies input channel c.
  const torch::Tensor onehot = torch::eye(3).repeat_interleave(s * s, 0).view({3 * s * s, 3, 1, 1});
  OnnxConvAttrs a;
  a.kernel_shape = {1, 1};
  const std::string repeated = g.conv(lr, g.constant(onehot, "repeat_interleave_w"), "", a, "repeat_interleave");
  return g.depth_to_space(g.add(x, repeated, "base_add"), s, "pixel_shuffle");
}

}  // namespace

void register_plksr_onnx() {
  register_onnx_exporter("plksr", export_plksr, {}, "partial large-kernel convs + DepthToSpace (no DySample)");
  register_onnx_exporter("realplksr", export_plksr, {}, "as plksr, with GroupNorm/LayerNorm; dysample: true is refused");
}

}  // namespace srlab::models
