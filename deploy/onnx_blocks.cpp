#include "deploy/onnx_blocks.h"

#include "deploy/onnx_export.h"

#include <cmath>

#include "core/torch_compat.h"

namespace srlab::models {

std::string int64_vector(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) {
  return g.constant(torch::tensor(v, torch::kInt64), hint);
}

std::string channel_param(OnnxGraph& g, const torch::Tensor& t, const std::string& key) {
  return g.initializer(key, t.reshape({-1, 1, 1}));
}

std::string mish(OnnxGraph& g, const std::string& x, const std::string& hint) {
  return g.mul(x, g.tanh(g.node("Softplus", {x}, hint + "_softplus"), hint + "_tanh"), hint);
}

std::string channel_layer_norm(OnnxGraph& g, const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               double eps, const std::string& key) {
  const auto mean = [&g](const std::string& v, const std::string& hint) {
    return g.node("ReduceMean", {v}, hint, {onnx::MakeAttribute("axes", std::vector<int64_t>{1}),
                                            onnx::MakeAttribute("keepdims", int64_t{1})});
  };
  const std::string d = g.sub(x, mean(x, key + "_mean"), key + "_centred");
  const std::string var = mean(g.mul(d, d, key + "_sq"), key + "_var");
  const std::string std_ =
      g.node("Sqrt", {g.add(var, scalar_constant(g, eps, key + "_eps"), key + "_var_eps")}, key + "_std");
  return g.add(g.mul(channel_param(g, weight, key + ".weight"), g.div(d, std_, key + "_normed"), key + "_scale"),
               channel_param(g, bias, key + ".bias"), key);
}

std::string gelu(OnnxGraph& g, const std::string& x, const std::string& hint) {
  const std::string e = g.node("Erf", {g.mul(x, scalar_constant(g, M_SQRT1_2, hint + ".rsqrt2"), hint + ".scaled")}, hint + ".erf");
  const std::string one_plus = g.add(e, scalar_constant(g, 1.0, hint + ".one"), hint + ".one_plus");
  return g.mul(g.mul(x, scalar_constant(g, 0.5, hint + ".half"), hint + ".half_x"), one_plus, hint);
}

// --- shared with omnisr ---

std::string channel_layer_norm(OnnxGraph& g, const std::string& x, const ChannelLayerNormImpl& n, const std::string& key) {
  return channel_layer_norm(g, x, n.weight, n.bias, n.eps, key);
}

std::string resize_bilinear_to(OnnxGraph& g, const std::string& x, const std::string& like, const std::string& hint) {
  const auto dims = [&](const std::string& v, int64_t from, int64_t to, const std::string& h) {
    return g.slice(g.shape(v, h + "_shape"), int64_vector(g, {from}, h + "_from"), int64_vector(g, {to}, h + "_to"), {0}, h);
  };
  const std::string sizes = g.concat({dims(x, 0, 2, hint + ".nc"), dims(like, 2, 4, hint + ".hw")}, 0, hint + ".sizes");
  return g.node("Resize", {x, "", "", sizes}, hint,
                {onnx::MakeAttribute("mode", std::string("linear")),
                 onnx::MakeAttribute("coordinate_transformation_mode", std::string("pytorch_half_pixel"))});
}

}  // namespace srlab::models

// --- shared with rcan, realcugan ---

namespace srlab::models {

std::string export_conv_transpose2d(OnnxGraph& g, const std::string& x, const torch::nn::ConvTranspose2dImpl& conv,
                                    const std::string& key, const std::string& type) {
  const auto& opt = conv.options;
  if (!torch_compat::get_if<torch::enumtype::kZeros>(&opt.padding_mode()))
    refuse_onnx_export(type, "'" + key + "' (ConvTranspose2d) pads with mode " +
                                 torch::enumtype::get_enum_name(opt.padding_mode()) + "; only zero padding is supported");
  const auto* p = torch_compat::get_if<torch::ExpandingArray<2>>(&opt.padding());
  if (!p) refuse_onnx_export(type, "'" + key + "' (ConvTranspose2d) has no explicit padding");
  const auto pair = [](const torch::ExpandingArray<2>& a) { return std::vector<int64_t>{a->at(0), a->at(1)}; };
  const std::vector<int64_t> pad = pair(*p);
  std::vector<onnx::AttributeProto> attrs{
      onnx::MakeAttribute("kernel_shape", pair(opt.kernel_size())), onnx::MakeAttribute("strides", pair(opt.stride())),
      onnx::MakeAttribute("dilations", pair(opt.dilation())), onnx::MakeAttribute("group", opt.groups()),
      onnx::MakeAttribute("pads", std::vector<int64_t>{pad[0], pad[1], pad[0], pad[1]}),
      onnx::MakeAttribute("output_padding", pair(opt.output_padding()))};
  std::vector<std::string> inputs{x, g.initializer(key + ".weight", conv.weight)};
  if (conv.bias.defined()) inputs.push_back(g.initializer(key + ".bias", conv.bias));
  return g.node("ConvTranspose", inputs, key, attrs);
}

std::string channel_attention(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& down, const std::string& down_key,
                              const torch::nn::Conv2dImpl& up, const std::string& up_key, const std::string& type,
                              const std::string& hint) {
  const std::string pooled = g.node("GlobalAveragePool", {x}, hint + "_pool");
  const std::string s = export_conv2d(g, g.relu(export_conv2d(g, pooled, down, down_key, type), hint + "_relu"), up, up_key, type);
  return g.mul(x, g.sigmoid(s, hint + "_sigmoid"), hint);
}

namespace {

std::string scalar_i64(OnnxGraph& g, int64_t v, const std::string& hint) { return g.constant(torch::tensor(v), hint); }

std::string reflect_axis(OnnxGraph& g, const std::string& x, int64_t axis, int64_t margin, int64_t multiple,
                         const std::string& hint) {
  const std::string n = g.node("Gather", {g.shape(x, hint + "_shape"), scalar_i64(g, axis, hint + "_axis")}, hint + "_n");
  std::string after = scalar_i64(g, margin, hint + "_margin");
  if (multiple > 1)  // Mod with fmod 0 takes the divisor's sign: (-n) mod m = (m - n % m) % m
    after = g.add(after, g.node("Mod", {g.node("Neg", {n}, hint + "_neg_n"), scalar_i64(g, multiple, hint + "_multiple")},
                                hint + "_to_multiple"), hint + "_after");
  const std::string j = g.node("Range", {scalar_i64(g, -margin, hint + "_begin"), g.add(n, after, hint + "_end"),
                                         scalar_i64(g, 1, hint + "_step")}, hint + "_positions");
  const std::string last = g.sub(n, scalar_i64(g, 1, hint + "_one"), hint + "_last");
  const std::string period = g.node("Max", {g.mul(last, scalar_i64(g, 2, hint + "_two"), hint + "_2last"),
                                            scalar_i64(g, 1, hint + "_min_period")}, hint + "_period");
  const std::string folded = g.node("Mod", {j, period}, hint + "_folded");
  const std::string idx = g.sub(last, g.node("Abs", {g.sub(folded, last, hint + "_from_last")}, hint + "_dist"), hint + "_index");
  return g.node("Gather", {x, idx}, hint, {onnx::MakeAttribute("axis", axis)});
}

}  // namespace

std::string reflect_pad_any(OnnxGraph& g, const std::string& x, int64_t margin, int64_t multiple, const std::string& hint) {
  if (margin == 0 && multiple <= 1) return x;
  return reflect_axis(g, reflect_axis(g, x, 2, margin, multiple, hint + "_rows"), 3, margin, multiple, hint);
}

std::string crop_border(OnnxGraph& g, const std::string& x, int64_t m, const std::string& hint) {
  if (m == 0) return x;
  return g.slice(x, int64_vector(g, {m, m}, hint + "_starts"), int64_vector(g, {-m, -m}, hint + "_ends"), {2, 3}, hint);
}

std::string crop_to_scaled_input(OnnxGraph& g, const std::string& y, const std::string& ref, int64_t scale,
                                 const std::string& hint) {
  const std::string hw = g.slice(g.shape(ref, hint + "_shape"), int64_vector(g, {2}, hint + "_hw_from"),
                                 int64_vector(g, {4}, hint + "_hw_to"), {0}, hint + "_hw");
  const std::string ends = g.mul(hw, int64_vector(g, {scale, scale}, hint + "_scale"), hint + "_ends");
  return g.slice(y, int64_vector(g, {0, 0}, hint + "_starts"), ends, {2, 3}, hint);
}

}  // namespace srlab::models

// --- shared with dat ---
namespace srlab::models {

std::string onnx_batch_norm2d(OnnxGraph& g, const std::string& x, const torch::nn::BatchNorm2dImpl& bn, const std::string& key,
                              const std::string& type) {
  if (!bn.options.affine() || !bn.options.track_running_stats())
    refuse_onnx_export(type, "BatchNorm2d '" + key + "' has no affine parameters or no running statistics");
  if (bn.num_batches_tracked.defined()) g.mark_reproduced(key + ".num_batches_tracked");
  return g.node("BatchNormalization",
                {x, g.initializer(key + ".weight", bn.weight), g.initializer(key + ".bias", bn.bias),
                 g.initializer(key + ".running_mean", bn.running_mean), g.initializer(key + ".running_var", bn.running_var)},
                key, {onnx::MakeAttribute("epsilon", static_cast<float>(bn.options.eps()))});
}

}  // namespace srlab::models

