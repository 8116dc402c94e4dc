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

// --- shared with hat ---
namespace srlab::models {

/// RCAN-style channel attention x * Sigmoid(up(Relu(down(GlobalAveragePool(x))))) of (N,C,H,W) `x`
/// (HAT's ChannelAttention: nn.AdaptiveAvgPool2d(1), 1x1 conv, ReLU, 1x1 conv, Sigmoid; the product
/// with x): `down`, `up` are the two convs, initializers "<down_key>.weight/.bias", "<up_key>.weight/.bias".
std::string channel_attention(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& down, const std::string& down_key,
                              const torch::nn::Conv2dImpl& up, const std::string& up_key, const std::string& type,
                              const std::string& hint);

}  // namespace srlab::models
