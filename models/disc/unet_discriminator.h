#pragma once
// U-Net discriminator with spectral normalisation of Real-ESRGAN: Wang, Xie, Dong, Shan, "Real-ESRGAN:
// Training Real-World Blind Super-Resolution with Pure Synthetic Data", ICCVW 2021 (Sec. 3.3 and Fig. 6:
// a U-Net that outputs one realness value per pixel, stabilised by spectral normalisation, Miyato et al.
// 2018, see models/disc/spectral_norm.h). Layout and state-dict keys follow BasicSR's / Real-ESRGAN's
// UNetDiscriminatorSN (basicsr/archs/discriminator_arch.py), so their checkpoints load by name.
//
// Layers (F = num_feat; "SN" = spectral-normalised, keys convK.weight_orig/.weight_u/.weight_v, no bias):
//   conv0        Conv2d num_in_ch -> F, 3x3, pad 1, with bias (conv0.weight/.bias)      + LeakyReLU(0.2) = x0
//   conv1 (SN)   F  -> 2F, 4x4, stride 2, pad 1                                          + LeakyReLU    = x1 (H/2)
//   conv2 (SN)   2F -> 4F, 4x4, stride 2, pad 1                                          + LeakyReLU    = x2 (H/4)
//   conv3 (SN)   4F -> 8F, 4x4, stride 2, pad 1                                          + LeakyReLU    = x3 (H/8)
//   up x2 (bilinear, align_corners=False), conv4 (SN) 8F -> 4F, 3x3, pad 1, LeakyReLU, (+ x2 when skip) = x4 (H/4)
//   up x2, conv5 (SN) 4F -> 2F, 3x3, LeakyReLU, (+ x1 when skip)                                       = x5 (H/2)
//   up x2, conv6 (SN) 2F -> F,  3x3, LeakyReLU, (+ x0 when skip)                                       = x6 (H)
//   conv7 (SN), conv8 (SN)   F -> F, 3x3, each + LeakyReLU(0.2)
//   conv9        Conv2d F -> 1, 3x3, pad 1, with bias: the per-pixel logits (N,1,H,W)
// The skip sums need the down- and up-sampled sizes to agree, so H and W must be multiples of 8.
// Spectral norm: one power-iteration step per training-mode forward, eps 1e-12 (PyTorch's defaults).
//
// YAML (discriminator section):
//   type: unet_sn
//   num_in_ch: 3            # input channels
//   num_feat: 64            # F
//   skip_connection: true   # add the encoder features to the decoder's (U-Net skips)
#include <torch/torch.h>

#include <array>
#include <string>

#include "core/config.h"
#include "models/disc/discriminator.h"
#include "models/disc/spectral_norm.h"

namespace srlab::models {

struct UnetDiscriminatorOptions {
  int num_in_ch = 3;           ///< >= 1
  int num_feat = 64;           ///< >= 1
  bool skip_connection = true;
};

/// Real-ESRGAN's UNetDiscriminatorSN (see the file comment).
class UnetDiscriminatorSNImpl : public DiscriminatorImpl {
 public:
  /// Throws srlab::Error for num_in_ch/num_feat < 1.
  explicit UnetDiscriminatorSNImpl(const UnetDiscriminatorOptions& options);

  /// x (N,num_in_ch,H,W) float in [0,1], H and W multiples of 8 -> per-pixel logits (N,1,H,W).
  /// In training mode each spectral-normalised conv first updates its weight_u/weight_v (one power
  /// iteration). Throws srlab::Error for a malformed batch or H, W not divisible by 8.
  torch::Tensor forward(torch::Tensor x) override;
  std::string type() const override { return "unet_sn"; }
  int64_t input_size() const override { return 0; }
  int64_t input_multiple() const override { return 8; }
  const UnetDiscriminatorOptions& options() const { return options_; }

  torch::nn::Conv2d conv0{nullptr}, conv9{nullptr};
  /// conv1 .. conv8 (index 0 = conv1).
  std::array<SpectralNormConv2d, 8> sn_convs{nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

 private:
  UnetDiscriminatorOptions options_;
};
TORCH_MODULE(UnetDiscriminatorSN);

/// Trainable parameter count (F = num_feat, c = num_in_ch; u/v buffers not included):
/// conv0 9cF + F, conv1 32F^2, conv2 128F^2, conv3 512F^2, conv4 288F^2, conv5 72F^2, conv6 18F^2,
/// conv7 + conv8 18F^2, conv9 9F + 1; i.e. 1068F^2 + 9cF + 10F + 1 (4,376,897 for F 64, c 3).
int64_t unet_discriminator_parameter_count(const UnetDiscriminatorOptions& options);

/// Registry factory: reads num_in_ch, num_feat, skip_connection from `params` (errors name the key).
Discriminator make_unet_discriminator(const core::Config& params);

/// Registers "unet_sn" with the discriminator registry (called from builtin_discriminators.cpp).
void register_unet_discriminator();

}  // namespace srlab::models
