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

std::string channel_layer_norm(OnnxGraph& g, const std::string& x, const ChannelLayerNormImpl& n, const std::string& key) {
  const auto mean = [&g](const std::string& v, const std::string& hint) {
    return g.node("ReduceMean", {v}, hint, {onnx::MakeAttribute("axes", std::vector<int64_t>{1}),
                                            onnx::MakeAttribute("keepdims", int64_t{1})});
  };
  const std::string d = g.sub(x, mean(x, key + "_mean"), key + "_centred");
  const std::string var = mean(g.mul(d, d, key + "_sq"), key + "_var");
  const std::string std_ =
      g.node("Sqrt", {g.add(var, scalar_constant(g, n.eps, key + "_eps"), key + "_var_eps")}, key + "_std");
  return g.add(g.mul(channel_param(g, n.weight, key + ".weight"), g.div(d, std_, key + "_normed"), key + "_scale"),
               channel_param(g, n.bias, key + ".bias"), key);
}

std::string gelu(OnnxGraph& g, const std::string& x, const std::string& hint) {
  const std::string e = g.node("Erf", {g.mul(x, scalar_constant(g, M_SQRT1_2, hint + ".rsqrt2"), hint + ".scaled")}, hint + ".erf");
  const std::string one_plus = g.add(e, scalar_constant(g, 1.0, hint + ".one"), hint + ".one_plus");
  return g.mul(g.mul(x, scalar_constant(g, 0.5, hint + ".half"), hint + ".half_x"), one_plus, hint);
}

}  // namespace srlab::models

// --- shared with hat ---
namespace srlab::models {

std::string channel_attention(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& down, const std::string& down_key,
                              const torch::nn::Conv2dImpl& up, const std::string& up_key, const std::string& type,
                              const std::string& hint) {
  const std::string pooled = g.node("GlobalAveragePool", {x}, hint + ".pool");
  const std::string squeezed = g.relu(export_conv2d(g, pooled, down, down_key, type), hint + ".relu");
  return g.mul(x, g.sigmoid(export_conv2d(g, squeezed, up, up_key, type), hint + ".sigmoid"), hint);
}

}  // namespace srlab::models
