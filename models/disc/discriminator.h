#pragma once
// The discriminator interface shared by the GAN discriminators (models/disc/vgg_discriminator.h,
// models/disc/unet_discriminator.h); built from YAML through models/disc/discriminator_registry.h.
#include <torch/torch.h>

#include <memory>
#include <string>

namespace srlab::models {

/// A GAN discriminator (critic): maps an image batch (N,C,H,W), RGB in [0,1] (C = the architecture's
/// num_in_ch, 3 by default; values are not checked), to unnormalised realness logits (no sigmoid;
/// the GAN loss applies it): (N,1) for one score per image (vgg128), or (N,1,H,W) for one score per
/// pixel (unet_sn). Parameter names follow BasicSR's / Real-ESRGAN's state-dict keys.
class DiscriminatorImpl : public torch::nn::Module {
 public:
  ~DiscriminatorImpl() override = default;
  /// Logits for `x` (see the class comment). Throws srlab::Error for an input the architecture cannot
  /// take (rank, channels, dtype, or a size violating input_size() / input_multiple()).
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  /// Registry name (YAML `type:`), e.g. "vgg128".
  virtual std::string type() const = 0;
  /// Required input height = width in pixels (the VGG discriminator's fully connected layer fixes it);
  /// 0 = any size (subject to input_multiple()).
  virtual int64_t input_size() const = 0;
  /// H and W must be multiples of this (8 for the U-Net's three stride-2 levels); 1 = no constraint.
  virtual int64_t input_multiple() const { return 1; }
};

using Discriminator = std::shared_ptr<DiscriminatorImpl>;

/// Checks that `x` is a discriminator input: a defined floating-point tensor (N,channels,H,W) with
/// N, H, W >= 1. Throws srlab::Error "<arch>: expected ..." naming the shape or dtype it got otherwise.
/// (Defined in discriminator_registry.cpp.)
void check_discriminator_batch(const torch::Tensor& x, const std::string& arch, int64_t channels);

}  // namespace srlab::models
