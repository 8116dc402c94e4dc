#pragma once
// RRDBNet: the ESRGAN generator, Wang et al., "ESRGAN: Enhanced Super-Resolution Generative Adversarial
// Networks", ECCVW 2018 (Sec. 3.1 and Fig. 4: Residual-in-Residual Dense Blocks without batch norm,
// residual scaling 0.2; Fig. 3: the SRResNet-style trunk with a global skip and nearest-upsampling
// convs). Also the generator of Real-ESRGAN (Wang et al., ICCVW 2021), which extends it to x2 and x1 by
// a pixel-unshuffle of the input (Real-ESRGAN Sec. 4.1, "Network architecture").
//
// Layout and state-dict keys follow BasicSR's RRDBNet (basicsr/archs/rrdbnet_arch.py) exactly, so
// BasicSR / Real-ESRGAN checkpoints load by name (F = num_feat, G = num_grow_ch, B = num_block):
//   conv_first                   Conv2d Cin -> F, 3x3; Cin = 3 (x4), 3*4 (x2), 3*16 (x1)
//   body.<i>.rdb<k>.conv<j>      i = 0..B-1, k = 1..3, j = 1..5: ResidualDenseBlock convs, conv j has
//                                F + (j-1)*G inputs and G outputs (conv5: F + 4G -> F), all 3x3
//   conv_body                    Conv2d F -> F; its output is added to conv_first's (global skip)
//   conv_up1, conv_up2           Conv2d F -> F, each after a nearest x2 interpolation, + LeakyReLU
//   conv_hr                      Conv2d F -> F (+ LeakyReLU)
//   conv_last                    Conv2d F -> 3
// LeakyReLU negative slope 0.2 everywhere. ResidualDenseBlock (Fig. 4 right):
//   x_j = lrelu(conv_j(cat(x, x_1, ..., x_{j-1}))) for j = 1..4, x_5 = conv5(cat(x, x_1..x_4)),
//   out = x + 0.2 * x_5;  RRDB: out = x + 0.2 * rdb3(rdb2(rdb1(x))).
// Scales 1 and 2 (Real-ESRGAN's extension): the input is pixel-unshuffled first (factor 4 at x1, 2 at
// x2; torch::pixel_unshuffle channel order: channel c*r*r + i*r + j holds pixel (y*r+i, x*r+j) of colour
// c), so the trunk always runs at 1/4 of the output resolution and upsamples x4.
// Input sizes not divisible by that factor (BasicSR asserts they are) are reflect-padded at the bottom
// and right up to the next multiple and the output is cropped back to (s*h, s*w), as Real-ESRGAN's
// inference helper (RealESRGANer.pre_process/post_process, `mod_pad`) does: identical to BasicSR for
// divisible sizes, defined for all sizes with h, w >= 2 (x2) and >= 3 (x1) (reflect padding needs
// pad < size). Scale 4 accepts any h, w >= 1.
// Initialisation as BasicSR: the ResidualDenseBlock convs use Kaiming-normal (fan_in, gain sqrt(2))
// scaled by 0.1 with zero biases; the other convs keep LibTorch's default Conv2d initialisation.
//
// YAML (`model:` section):
//   type: rrdbnet
//   num_feat: 64      # F
//   num_block: 23     # B (ESRGAN: 23; Real-ESRGAN x4plus: 23; anime_6B: 6)
//   num_grow_ch: 32   # G
// Supported scales: 1, 2, 4. ESRGAN x4 (defaults) has 16,697,987 parameters.
#include <torch/torch.h>

#include <string>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

struct RrdbNetOptions {
  int scale = 4;         ///< 1, 2 or 4
  int num_feat = 64;     ///< F >= 1
  int num_block = 23;    ///< B >= 0
  int num_grow_ch = 32;  ///< G >= 1
};

/// BasicSR's ResidualDenseBlock (ESRGAN Fig. 4): five densely connected 3x3 convs with LeakyReLU 0.2
/// after the first four and residual scaling 0.2; (N,F,h,w) -> (N,F,h,w).
class ResidualDenseBlockImpl : public torch::nn::Module {
 public:
  /// Convs initialised as BasicSR (Kaiming-normal * 0.1, zero bias).
  ResidualDenseBlockImpl(int64_t num_feat, int64_t num_grow_ch);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
};
TORCH_MODULE(ResidualDenseBlock);

/// Residual-in-Residual Dense Block (ESRGAN Fig. 4 left): x + 0.2 * rdb3(rdb2(rdb1(x))); (N,F,h,w) ->
/// (N,F,h,w).
class RrdbImpl : public torch::nn::Module {
 public:
  RrdbImpl(int64_t num_feat, int64_t num_grow_ch);
  torch::Tensor forward(const torch::Tensor& x);
  ResidualDenseBlock rdb1{nullptr}, rdb2{nullptr}, rdb3{nullptr};
};
TORCH_MODULE(Rrdb);

/// RRDBNet generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s), not
/// clamped. Throws srlab::Error for a malformed input batch, and at x1/x2 for h or w too small for the
/// reflect padding (h, w < 2 at x2, < 3 at x1).
class RrdbNetImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale (not 1, 2, 4) or invalid sizes.
  explicit RrdbNetImpl(const RrdbNetOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "rrdbnet"; }
  const RrdbNetOptions& options() const { return options_; }
  /// The pixel-unshuffle factor applied to the input: 4 at x1, 2 at x2, 1 (none) at x4.
  int unshuffle_factor() const { return options_.scale == 4 ? 1 : 4 / options_.scale; }

  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::Sequential body{nullptr};  ///< num_block Rrdb modules
  torch::nn::Conv2d conv_body{nullptr}, conv_up1{nullptr}, conv_up2{nullptr}, conv_hr{nullptr},
      conv_last{nullptr};

 private:
  RrdbNetOptions options_;
};

/// Trainable parameter count by formula (F, G, B as above, Cin = 3 * r^2 with r = unshuffle factor):
/// conv_first 9*Cin*F + F; per ResidualDenseBlock sum_{j=1..4} (9(F+(j-1)G)G + G) + 9(F+4G)F + F; per
/// RRDB 3 of those; conv_body, conv_up1, conv_up2, conv_hr 4 * (9F^2 + F); conv_last 27F + 3.
int64_t rrdbnet_parameter_count(const RrdbNetOptions& options);

/// Registry factory for "rrdbnet": reads num_feat, num_block, num_grow_ch (errors name the key).
Generator make_rrdbnet(const core::Config& params, int scale);

/// State-dict detector (BasicSR keys): num_feat from conv_first's outputs, scale from its inputs (3: x4,
/// 12: x2, 48: x1 pixel-unshuffle), num_block from body.<i>.rdb1.conv1, num_grow_ch from that conv's
/// outputs. std::nullopt for other keys; srlab::Error for non-RGB in/out channels or gaps in body.<i>.
std::optional<DetectedModel> detect_rrdbnet(const StateDict& state_dict);

/// Registers "rrdbnet" (called from builtin_generators.cpp).
void register_rrdbnet();

}  // namespace srlab::models
