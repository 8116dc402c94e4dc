#pragma once
// RCAN: Zhang et al., "Image Super-Resolution Using Very Deep Residual Channel Attention Networks",
// ECCV 2018 (Sec. 3.1 and Fig. 2: residual in residual; Sec. 3.2 and Fig. 3: channel attention;
// Sec. 3.3 and Fig. 4: the residual channel attention block). Layout, hyperparameters and state-dict
// keys follow the official code as copied into spandrel (chaiNNer-org/spandrel,
// libs/spandrel/spandrel/architectures/RCAN/__arch/rcan_arch.py), F = n_feats, G = n_resgroups,
// B = n_resblocks, k = kernel_size, r = reduction (all convs with bias, padding k/2):
//   sub_mean                 Conv2d 3 -> 3, 1x1 (only with norm: true; initialised to x - rgb_range*mean)
//   head.0                   Conv2d 3 -> F, k x k
//     (unshuffle_mod: head.0 = PixelUnshuffle(d), head.1 = Conv2d 3d^2 -> F, d = 4 / scale)
//   body.<g>, g < G          residual group: body.<g>.body.<b> (b < B) RCAB, body.<g>.body.<B> Conv2d F->F
//                            k x k; output = that chain + input
//   body.<G>                 Conv2d F -> F, k x k; its output plus head's output is the deep feature
//   tail.0.<i>               upsampler: log2(s') x [Conv2d F -> 4F 3x3 (tail.0.<2j>), PixelShuffle 2],
//                            or Conv2d F -> 9F 3x3 + PixelShuffle 3 at x3 (s' = 4 with unshuffle_mod)
//   tail.1                   Conv2d F -> 3, k x k
//   add_mean                 Conv2d 3 -> 3, 1x1 (norm: true; initialised to x + rgb_range*mean)
// RCAB (body.<g>.body.<b>.body): .0 conv k x k, .1 activation, .2 conv k x k, .3 channel attention
// (conv_du.0 Conv2d F -> F/r 1x1, ReLU, conv_du.2 Conv2d F/r -> F 1x1, sigmoid, on the global average
// pool; the features are multiplied by it); the block adds its input (no residual scaling: the
// reference's res_scale is unused).
// forward(x), x (N,3,h,w) in [0,1]: reflect-pad bottom/right to a multiple of d (unshuffle_mod), x *=
// rgb_range, sub_mean, head, body (+ long skip), tail, add_mean, / rgb_range, crop to (s*h, s*w).
// Without norm the mean shifts are absent and rgb_range is 1 (as in the reference). The mean-shift
// convs are ordinary trainable parameters, as in the reference (its `requires_grad = False` on the
// module object does not freeze them; trained files hold weights that moved away from the identity).
//
// YAML (`model:` section; defaults are the reference constructor's):
//   type: rcan
//   n_resgroups: 10     # G >= 1
//   n_resblocks: 20     # B >= 0
//   n_feats: 64         # F >= 1
//   reduction: 16       # r >= 1 with F / r >= 1 (channel attention width F / r, integer division)
//   kernel_size: 3      # odd k >= 1 (the upsampler convs stay 3x3)
//   norm: true          # mean-shift layers sub_mean / add_mean
//   rgb_range: 255      # > 0; input multiplier (used only with norm: true)
//   act_mode: relu      # RCAB activation: relu | leaky_relu (0.2) | elu | silu | gelu | none
//   unshuffle_mod: false  # pixel-unshuffle input stem (scales 1 and 2 only)
// Scales: 1, 2, 3, 4, 8 (scale 1 without unshuffle_mod has no upsampler convs); unshuffle_mod: 1 and 2.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

struct RcanOptions {
  int scale = 4;
  int n_resgroups = 10;
  int n_resblocks = 20;
  int n_feats = 64;
  int reduction = 16;
  int kernel_size = 3;
  bool norm = true;
  double rgb_range = 255;
  std::string act_mode = "relu";
  bool unshuffle_mod = false;
};

/// Channel attention (RCAN Sec. 3.2, Fig. 3): x * sigmoid(conv_du.2(relu(conv_du.0(avgpool(x))))).
/// (N,F,H,W) -> (N,F,H,W). Key prefix conv_du.{0,2}.
class RcanChannelAttentionImpl : public torch::nn::Module {
 public:
  RcanChannelAttentionImpl(int64_t channels, int64_t reduction);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential conv_du{nullptr};
};
TORCH_MODULE(RcanChannelAttention);

/// Residual channel attention block (RCAN Sec. 3.3, Fig. 4): x + body(x), body = conv, act, conv, CA
/// (keys body.0, body.2, body.3.conv_du.*). (N,F,H,W) -> (N,F,H,W).
class RcabImpl : public torch::nn::Module {
 public:
  RcabImpl(int64_t channels, int64_t kernel_size, int64_t reduction, const std::string& act_mode);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(Rcab);

/// Residual group (RCAN Sec. 3.1, "residual in residual"): x + body(x), body = B RCABs then a conv
/// (keys body.<b>..., body.<B>). (N,F,H,W) -> (N,F,H,W).
class RcanResidualGroupImpl : public torch::nn::Module {
 public:
  RcanResidualGroupImpl(int64_t channels, int64_t kernel_size, int64_t reduction, const std::string& act_mode,
                        int64_t n_resblocks);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(RcanResidualGroup);

/// The reconstruction part (keys tail.0.<i>, tail.1): upsampler `0` (log2(s) x [Conv2d F -> 4F 3x3,
/// PixelShuffle 2], or Conv2d F -> 9F + PixelShuffle 3 at s = 3; empty at s = 1), then conv `1` F -> 3,
/// k x k. (N,F,H,W) -> (N,3,sH,sW).
class RcanTailImpl : public torch::nn::Module {
 public:
  RcanTailImpl(int64_t channels, int64_t kernel_size, int scale);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential up{nullptr};
  torch::nn::Conv2d last{nullptr};
};
TORCH_MODULE(RcanTail);

/// RCAN generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not
/// clamped. Any h, w >= 1. Throws srlab::Error for a malformed batch.
class RcanImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit RcanImpl(const RcanOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "rcan"; }
  const RcanOptions& options() const { return options_; }
  /// Pixel-unshuffle factor of the input stem: 4 / scale with unshuffle_mod, else 1.
  int downscale_factor() const { return options_.unshuffle_mod ? 4 / options_.scale : 1; }

  torch::nn::Conv2d sub_mean{nullptr}, add_mean{nullptr};  ///< null without norm
  torch::nn::Sequential head{nullptr}, body{nullptr};
  RcanTail tail{nullptr};

 private:
  RcanOptions options_;
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale included).
std::pair<std::string, std::string> rcan_validate(const RcanOptions& options);

/// Registry factory for "rcan": reads the keys of the file comment (errors name the key).
Generator make_rcan(const core::Config& params, int scale);

/// Infers an RCAN `model:` section and scale from reference state-dict keys and shapes (as spandrel's
/// RCAN loader): G and B from the body indices, F and the scale from the tail upsampler (or head with
/// the unshuffle stem: d^2 = head.1 inputs / 3, scale = 4 / d), k from head's kernel, r = F / conv_du.0
/// outputs, norm from sub_mean.weight. rgb_range (255) and act_mode (relu) leave no trace: reference
/// defaults. Returns std::nullopt when the keys are not RCAN's; throws srlab::Error naming the key for
/// inconsistent or unsupported weights (non-RGB).
std::optional<DetectedModel> detect_rcan(const StateDict& state_dict);

/// Registers "rcan" (called from builtin_generators.cpp).
void register_rcan();

}  // namespace srlab::models
