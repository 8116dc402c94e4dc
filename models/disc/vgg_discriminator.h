#pragma once
// VGG-style discriminator of SRGAN / ESRGAN: Ledig et al., "Photo-Realistic Single Image
// Super-Resolution Using a Generative Adversarial Network", CVPR 2017 (Sec. 2.2 and Fig. 4: strided
// conv + BN + LeakyReLU(0.2) blocks, channels doubling, two dense layers); Wang et al., "ESRGAN: Enhanced
// Super-Resolution Generative Adversarial Networks", ECCVW 2018 (Sec. 3.2: the same network as the
// relativistic discriminator's C(x)). Layout and state-dict keys follow BasicSR's VGGStyleDiscriminator
// (basicsr/archs/discriminator_arch.py), so BasicSR checkpoints load by name.
//
// Layers (F = num_feat, o(s) = F * min(2^s, 8): F, 2F, 4F, 8F, 8F, 8F for stages s = 0..5):
//   conv0_0                  Conv2d num_in_ch -> F, 3x3, stride 1, pad 1, with bias   + LeakyReLU(0.2)
//   conv0_1, bn0_1           Conv2d F -> F, 4x4, stride 2, pad 1, no bias + BatchNorm2d + LeakyReLU(0.2)
//   conv<s>_0, bn<s>_0       Conv2d o(s-1) -> o(s), 3x3, stride 1, pad 1, no bias + BN + LeakyReLU(0.2)
//   conv<s>_1, bn<s>_1       Conv2d o(s) -> o(s), 4x4, stride 2, pad 1, no bias + BN + LeakyReLU(0.2)
//                            for s = 1..4, and s = 5 as well when input_size = 256
//   linear1                  Linear 8F*4*4 -> 100 + LeakyReLU(0.2)   (the last stage leaves 4x4 pixels)
//   linear2                  Linear 100 -> 1: the logit
// BatchNorm2d: affine, eps 1e-5, momentum 0.1 (PyTorch's defaults), keys weight/bias/running_mean/
// running_var/num_batches_tracked. Weights use LibTorch's default initialisation.
//
// YAML (discriminator section):
//   type: vgg128
//   num_in_ch: 3       # input channels
//   num_feat: 64       # F
//   input_size: 128    # 128 or 256 (256 adds the conv5 stage); the input must be exactly this size
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "models/disc/discriminator.h"

namespace srlab::models {

struct VggDiscriminatorOptions {
  int num_in_ch = 3;     ///< >= 1
  int num_feat = 64;     ///< >= 1
  int input_size = 128;  ///< 128 or 256
};

/// BasicSR's VGGStyleDiscriminator (see the file comment).
class VggStyleDiscriminatorImpl : public DiscriminatorImpl {
 public:
  /// Throws srlab::Error for num_in_ch/num_feat < 1 or an input_size other than 128 or 256.
  explicit VggStyleDiscriminatorImpl(const VggDiscriminatorOptions& options);

  /// x (N,num_in_ch,input_size,input_size) float in [0,1] -> logits (N,1).
  /// Throws srlab::Error for a malformed batch or H, W != input_size (the message names the size and
  /// the config key `input_size`).
  torch::Tensor forward(torch::Tensor x) override;
  std::string type() const override { return "vgg128"; }
  int64_t input_size() const override { return options_.input_size; }
  const VggDiscriminatorOptions& options() const { return options_; }

  /// conv<s>_0 / conv<s>_1 of stage s (stages 0..4, or 0..5 for input_size 256).
  torch::nn::Conv2d conv(int stage, int index) const;
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};

 private:
  VggDiscriminatorOptions options_;
  std::vector<torch::nn::Conv2d> convs_;    // conv0_0, conv0_1, conv1_0, conv1_1, ...
  std::vector<torch::nn::BatchNorm2d> bns_; // nullptr (conv0_0 has none), bn0_1, bn1_0, bn1_1, ...
};
TORCH_MODULE(VggStyleDiscriminator);

/// Trainable parameter count (BN affine parameters included, BN running statistics not), F = num_feat,
/// c = num_in_ch, S = 5 stages (6 for input_size 256), o(s) as in the file comment:
/// (9cF + F) + (16F^2 + 2F) + sum_{s=1}^{S-1} [9 o(s-1) o(s) + 2 o(s) + 16 o(s)^2 + 2 o(s)] + (128F*100 + 100) + 101.
/// 14,499,401 for the defaults (F 64, input_size 128).
int64_t vgg_discriminator_parameter_count(const VggDiscriminatorOptions& options);

/// Registry factory: reads num_in_ch, num_feat, input_size from `params` (errors name the key).
Discriminator make_vgg_discriminator(const core::Config& params);

/// Registers "vgg128" with the discriminator registry (called from builtin_discriminators.cpp).
void register_vgg_discriminator();

}  // namespace srlab::models
