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

// --- shared with rcan, realcugan, hat ---
// (ConvTranspose2d, squeeze-excitation / channel attention, reflect padding for any size, border crops.)

namespace srlab::models {

/// torch::nn::ConvTranspose2d (zero padding p, output_padding, stride, dilation, groups) applied to `x`:
/// ONNX ConvTranspose with pads {p, p, p, p} and the same output_padding, initializers "<key>.weight"
/// (Cin, Cout/groups, kh, kw, torch's and ONNX's layout) and "<key>.bias". Refuses other padding modes.
std::string export_conv_transpose2d(OnnxGraph& g, const std::string& x, const torch::nn::ConvTranspose2dImpl& conv,
                                    const std::string& key, const std::string& type);

/// Channel attention / squeeze-excitation of (N,C,H,W) `x`: x * Sigmoid(up(Relu(down(mean_hw(x))))), the
/// mean over H, W as GlobalAveragePool (= adaptive_avg_pool2d(x, 1) = x.mean({2, 3}, keepdim)); `down`,
/// `up` are 1x1 Conv2d with initializers "<down_key>.*", "<up_key>.*". Nodes are named after `hint`.
std::string channel_attention(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& down, const std::string& down_key,
                              const torch::nn::Conv2dImpl& up, const std::string& up_key, const std::string& type,
                              const std::string& hint);

/// reflect_pad2d_any (models/arch/reflect_pad.h) of (N,C,H,W) `x` by `margin` before and margin +
/// ((multiple - n % multiple) % multiple) after each spatial axis of runtime size n (margin >= 0,
/// multiple >= 1): reflection without repeating the edge, reflecting again where a pad exceeds n - 1
/// (period 2(n-1); n = 1 is repeated), so any runtime size works (ONNX Pad "reflect" needs pads < n).
/// Emitted per axis as Gather(x, (n-1) - |((j mod P) - (n-1))|, axis), j = Range(-margin, n + after),
/// P = max(2(n-1), 1), from the runtime Shape. Returns `x` when margin = 0 and multiple = 1.
std::string reflect_pad_any(OnnxGraph& g, const std::string& x, int64_t margin, int64_t multiple, const std::string& hint);

/// crop_border (models/arch/arch_util.h): x[:, :, m:H-m, m:W-m] of (N,C,H,W) `x` (Slice, negative ends).
std::string crop_border(OnnxGraph& g, const std::string& x, int64_t m, const std::string& hint);

/// y[:, :, :scale*H, :scale*W] with H, W the runtime size of (N,C,H,W) `ref` (the final crop of models that
/// pad their input; ends are clamped).
std::string crop_to_scaled_input(OnnxGraph& g, const std::string& y, const std::string& ref, int64_t scale,
                                 const std::string& hint);

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
