#pragma once
// Small helpers shared by the generator architectures in models/ (input checks, scale checks, the layers and
// constants the reference code of several architectures builds the same way).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config.h"

namespace srlab::models {

/// Checks that `lr` is a generator input: a defined floating-point tensor of shape (N,3,h,w) with
/// N, h, w >= 1. Throws srlab::Error "<arch>: expected ..." naming the shape it got otherwise.
/// Values are not checked (nominally [0,1]; checking would cost a pass over the batch).
void check_lr_batch(const torch::Tensor& lr, const std::string& arch);

/// Throws srlab::Error (through `params.fail`, so the message names the config file and the model
/// section) when `scale` is not one of `supported`; the message names the `scale` key and lists the
/// supported values.
void check_scale(const core::Config& params, const std::string& arch, int scale, const std::vector<int>& supported);

/// Same check for direct C++ construction (no config): throws srlab::Error "<arch>: unsupported scale".
void check_scale(const std::string& arch, int scale, const std::vector<int>& supported);

/// torch.nn.LeakyReLU's default negative slope (0.01): the conv_before_upsample activation of SwinIR, HAT,
/// DRCT, DAT, RGT and ATD (their reference code uses nn.LeakyReLU(inplace=True)).
constexpr double kLeakyReluDefaultSlope = 0.01;

/// The DIV2K RGB mean (0.4488, 0.4371, 0.4040) that EDSR/RCAN-style MeanShift layers and HAT, DRCT and RGT
/// subtract from the [0,1] input (img_range 1) and add back to the output (BasicSR's archs).
constexpr float kDiv2kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

/// nn.Conv2d(in, out, 3, 1, 1) with bias: 3x3, stride 1, zero padding 1 (shape-preserving); same_conv(in, out, 3).
torch::nn::Conv2d conv3x3(int64_t in, int64_t out);

/// nn.Conv2d(in, out, k, padding=k // 2) with bias, stride 1 ("same" size for odd k).
torch::nn::Conv2d same_conv(int64_t in, int64_t out, int64_t k);

/// Nearest-neighbour x2 upsampling of an (N,C,H,W) tensor to (N,C,2H,2W) (F.interpolate(scale_factor=2,
/// mode='nearest'), the nearest+conv upsamplers of SwinIR and ATD).
torch::Tensor nearest_x2(const torch::Tensor& x);

/// nn.LayerNorm(dim) over the last dimension, eps 1e-5 (the token norms of the Swin-family architectures).
torch::nn::LayerNorm layer_norm(int64_t dim);

/// nn.Linear(in, out, bias) initialised as the Swin-family reference code does (timm's
/// trunc_normal_(std=0.02) with bounds +-2, i.e. 100 sigma: a normal(0, 0.02) clamped there; bias zero).
torch::nn::Linear trunc_normal_linear(int64_t in, int64_t out, bool bias = true);

/// The `resi_connection` key of SwinIR-style configs: "1conv" (default, false) or "3conv" (true); any other
/// value fails through `params.fail` (naming the config file and key).
bool parse_resi_connection(const core::Config& params);

/// x[..., m:H-m, m:W-m] of an (N,C,H,W) tensor (Real-CUGAN's crop of the unpadded UNet skips). H, W > 2m.
torch::Tensor crop_border(const torch::Tensor& x, int64_t m);

}  // namespace srlab::models
