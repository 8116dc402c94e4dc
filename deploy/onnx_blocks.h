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

// --- shared with omnisr ---

/// The channels-first LayerNorm above with explicit (C) `weight`, `bias` and `eps` (e.g. OmniSR's
/// LayerNorm2d, the same formula); initializers "<key>.weight" and "<key>.bias" of shape (C,1,1).
std::string channel_layer_norm(OnnxGraph& g, const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               double eps, const std::string& key);

/// torch::nn::functional::interpolate(x, size = (H, W) of `like`, bilinear, align_corners false) of (N,C,h,w) `x`,
/// the size taken from `like`'s runtime shape: Resize mode linear, coordinate_transformation_mode
/// pytorch_half_pixel (torch's source index (dst + 0.5) * h / H - 0.5, clamped at 0).
std::string resize_bilinear_to(OnnxGraph& g, const std::string& x, const std::string& like, const std::string& hint);

}  // namespace srlab::models
