#pragma once
// Real-CUGAN (bilibili/ailab, "Real Cascade U-Nets for Anime Image Super Resolution", 2022; no paper —
// the official repository's README and upcunet_v3.py are the reference): two cascaded U-Nets on an
// input reflect-padded by a fixed margin, the second refining the first's upscaled output, valid
// (unpadded) convolutions throughout and LeakyReLU(0.1). Layout, state-dict keys and forward follow the
// official code as copied into spandrel (chaiNNer-org/spandrel,
// libs/spandrel/spandrel/architectures/RealCUGAN/__arch/upcunet_v3.py; detection as its __init__.py):
//   UpCunet2x       unet1 = UNet1 (3 -> 3, conv_bottom ConvTranspose2d 64 -> 3, k4 s2 p3), unet2 = UNet2
//                   (3 -> 3); pad 18 (+ bottom/right to even h, w); y = unet2(u) + crop20(u), u = unet1(x)
//   UpCunet3x       unet1 = UNet1x3 (conv_bottom ConvTranspose2d k5 s3 p2); pad 14 (+ to multiples of 4)
//   UpCunet4x       unet1 = UNet1 (3 -> 64), unet2 = UNet2 (64 -> 64), conv_final Conv2d 64 -> 12 (3x3,
//                   valid), crop 1, PixelShuffle 2, plus the nearest x4 upscale of the input; pad 19 (+ to even)
//   UpCunet2x_fast  as UpCunet4x on PixelUnshuffle(2) of the input padded by 38 (unet1 takes 12 channels),
//                   plus the nearest x2 upscale of the input
// After the network the output is cropped to (s*h, s*w). "pro" models (a buffer `pro` of shape (1) in
// the state dict; not for the fast variant) map the input x -> 0.7 x + 0.15 first and the output
// y -> (y - 0.15) / 0.7 last.
// Any h, w >= 1 works: the reflect padding reflects again where the margin exceeds the image (the
// reference needs h, w > margin; results are identical wherever it runs), and the fast variant pads to
// multiples of 4 (the reference fails at sizes that are 2 mod 4 and agrees elsewhere).
// The reference's forward `alpha` (scaling of UNet2's deepest features; its default 1) and tile/cache
// modes are not reproduced: inference uses alpha 1 (SRLab's upscaler tiles by itself).
//
// YAML (`model:` section):
//   type: realcugan
//   pro: false    # the "pro" models' input/output mapping and `pro` buffer
//   fast: false   # UpCunet2x_fast (scale 2 only, not with pro)
// Scales: 2, 3, 4 (fast: 2). RGB in and out (the reference's in/out_channels are 3).
#include <torch/torch.h>

#include <optional>
#include <string>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

/// Squeeze-and-excitation (upcunet_v3 SEBlock, reduction 8, biases): x * sigmoid(conv2(relu(conv1(mean_hw x)))).
/// (N,C,H,W) -> (N,C,H,W).
class CuganSeBlockImpl : public torch::nn::Module {
 public:
  explicit CuganSeBlockImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(CuganSeBlock);

/// Two valid 3x3 convs with LeakyReLU(0.1) (keys conv.0, conv.2), optionally followed by an SE block
/// (key seblock). (N,in,H,W) -> (N,out,H-4,W-4).
class CuganUNetConvImpl : public torch::nn::Module {
 public:
  CuganUNetConvImpl(int64_t in, int64_t mid, int64_t out, bool se);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential conv{nullptr};
  CuganSeBlock seblock{nullptr};
};
TORCH_MODULE(CuganUNetConv);

/// UNet1 / UNet1x3 (one down/up level, skip cropped by 4) with the transposed-conv output layer:
/// (N,in,H,W) -> (N,out,2H-32,2W-32) (x2: conv_bottom k4 s2 p3) or (N,out,3H-44,3W-44) (x3: k5 s3 p2),
/// H, W even.
class CuganUNet1Impl : public torch::nn::Module {
 public:
  CuganUNet1Impl(int64_t in, int64_t out, bool x3);
  torch::Tensor forward(const torch::Tensor& x);
  CuganUNetConv conv1{nullptr}, conv2{nullptr};
  torch::nn::Conv2d conv1_down{nullptr}, conv3{nullptr};
  torch::nn::ConvTranspose2d conv2_up{nullptr}, conv_bottom{nullptr};
};
TORCH_MODULE(CuganUNet1);

/// UNet2 (two down/up levels, skips cropped by 16 and 4, valid 3x3 output conv):
/// (N,in,H,W) -> (N,out,H-40,W-40), H, W multiples of 4 (H - 4 is halved twice).
class CuganUNet2Impl : public torch::nn::Module {
 public:
  CuganUNet2Impl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);
  CuganUNetConv conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr};
  torch::nn::Conv2d conv1_down{nullptr}, conv2_down{nullptr}, conv5{nullptr}, conv_bottom{nullptr};
  torch::nn::ConvTranspose2d conv3_up{nullptr}, conv4_up{nullptr};
};
TORCH_MODULE(CuganUNet2);

struct RealCuganOptions {
  int scale = 2;      ///< 2, 3 or 4
  bool pro = false;   ///< pro input/output mapping (+ `pro` buffer)
  bool fast = false;  ///< UpCunet2x_fast (scale 2, not pro)
};

/// Real-CUGAN generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not
/// clamped; any h, w >= 1. Throws srlab::Error for a malformed batch.
class RealCuganImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or option combination.
  explicit RealCuganImpl(const RealCuganOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "realcugan"; }
  const RealCuganOptions& options() const { return options_; }

  CuganUNet1 unet1{nullptr};
  CuganUNet2 unet2{nullptr};
  torch::nn::Conv2d conv_final{nullptr};  ///< x4 and fast only
  torch::Tensor pro;                      ///< buffer (1), pro only

 private:
  RealCuganOptions options_;
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale included).
std::pair<std::string, std::string> realcugan_validate(const RealCuganOptions& options);

/// Registry factory for "realcugan": reads pro and fast (errors name the key).
Generator make_realcugan(const core::Config& params, int scale);

/// Infers the variant from reference keys and shapes (as spandrel's RealCUGAN loader): conv_final ->
/// x4, or fast when unet1 takes 4 x 3 channels; else unet1.conv_bottom's 5x5 kernel -> x3, 4x4 -> x2;
/// pro from the `pro` key. Returns std::nullopt when the keys are not Real-CUGAN's; throws srlab::Error
/// naming the key for non-RGB or inconsistent weights.
std::optional<DetectedModel> detect_realcugan(const StateDict& state_dict);

/// Registers "realcugan" (called from builtin_generators.cpp).
void register_realcugan();

}  // namespace srlab::models
