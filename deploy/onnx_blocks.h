#pragma once
// Building blocks shared by several generator exporters (deploy/onnx_<arch>.cpp), emitted from ONNX
// primitives with torch's definitions (opsets 13-17 have no Mish or channels-first LayerNorm op):
//   Mish(x)             = x Tanh(Softplus(x))
//   GELU(x)             = 0.5 x (1 + Erf(x / sqrt(2)))   (exact, torch's approximate='none')
//   ChannelLayerNorm(x) = w * ((x - u) / Sqrt(mean((x - u)^2) + eps)) + b, u = mean over axis 1
//                         (models/arch/plksr.h; ReduceMean over axis 1, keepdims)
#include <string>
#include <vector>

#include "deploy/onnx_graph.h"
#include "models/arch/plksr.h"

namespace srlab::models {

/// A 1-D int64 Constant holding `v` (Slice starts/ends, Reshape shapes).
std::string int64_vector(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint);

/// `t` (C) as a (C,1,1) initializer named `key` (broadcasts over (N,C,H,W)).
std::string channel_param(OnnxGraph& g, const torch::Tensor& t, const std::string& key);

/// Mish (torch::mish / torch::nn::Mish) of `x`.
std::string mish(OnnxGraph& g, const std::string& x, const std::string& hint);

/// Exact GELU (torch::gelu, approximate 'none') of `x`; the nodes are named "<hint>.erf", "<hint>.half_x", ...
std::string gelu(OnnxGraph& g, const std::string& x, const std::string& hint);

/// ChannelLayerNormImpl::forward() of (N,C,H,W) `x`; initializers "<key>.weight" and "<key>.bias" of shape (C,1,1).
std::string channel_layer_norm(OnnxGraph& g, const std::string& x, const ChannelLayerNormImpl& n, const std::string& key);

}  // namespace srlab::models

// --- shared with dat ---
namespace srlab::models {

/// torch::nn::BatchNorm2d in eval mode on (N,C,H,W) `x`: one BatchNormalization node (running statistics)
/// with initializers "<key>.weight", "<key>.bias", "<key>.running_mean", "<key>.running_var";
/// "<key>.num_batches_tracked" (read in training only) is marked reproduced. Refuses (as generator `type`)
/// a BatchNorm without affine parameters or running statistics.
std::string onnx_batch_norm2d(OnnxGraph& g, const std::string& x, const torch::nn::BatchNorm2dImpl& bn, const std::string& key,
                              const std::string& type);

}  // namespace srlab::models
