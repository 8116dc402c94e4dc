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
