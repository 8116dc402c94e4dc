#include "deploy/onnx_blocks.h"

#include "deploy/onnx_export.h"

#include <cmath>

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
