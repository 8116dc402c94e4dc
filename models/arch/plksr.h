#pragma once
// PLKSR and RealPLKSR (Lee et al., "Partial Large Kernel CNNs for Efficient Super-Resolution", 2024,
// arXiv:2404.11848, Sec. 3; RealPLKSR is the authors' real-world/GAN variant). Layout, hyperparameters
// and state-dict keys follow the code in spandrel (chaiNNer-org/spandrel,
// libs/spandrel/spandrel/architectures/PLKSR/__arch/{PLKSR,RealPLKSR}.py). D = dim, B = n_blocks,
// s = scale, P = int(D * split_ratio):
//   feats.0                 Conv2d 3 -> D, 3x3
//   feats.1 .. feats.B      PLKBlock(D)
//   [feats.B+1]             Dropout2d(dropout)                          (RealPLKSR only; no weights)
//   feats.last              Conv2d D -> 3*s*s, 3x3
//   y = to_img(feats(x) + repeat_interleave(x, s*s, dim 1))   to_img = pixel shuffle, or DySample (RealPLKSR)
// PLKBlock: x + norm(refine(attn(lk(channel_mixer(layer_norm(x))))))
//   layer_norm   (RealPLKSR, layer_norm: true) LayerNorm over channels, eps 1e-6: keys layer_norm.{weight,bias}
//   channel_mixer  conv, act, conv (key `channe_mixer` in PLKSR, the reference's spelling):
//                  PLKSR ccm_type CCM 3x3 D->2D, GELU, 1x1 2D->D; ICCM 1x1, GELU, 3x3; DCCM 3x3, GELU, 3x3;
//                  RealPLKSR: DCCM with Mish
//   lk           partial large kernel conv (Sec. 3.2): the first P channels through lk.conv (P -> P,
//                kernel_size x kernel_size, zero padding k/2; plus the identity when with_idt, PLKSR
//                only); the other D - P channels pass unchanged
//   attn         element-wise attention (Sec. 3.3), use_ea: x * sigmoid(attn.f.0(x)), attn.f.0 3x3 D -> D
//   refine       Conv2d D -> D, 1x1
//   norm         (RealPLKSR without layer_norm) GroupNorm(norm_groups, D), eps 1e-5
// Initialisation as the reference: normal(0, 0.02) (the reference's trunc_normal_ with bounds +-2, which
// are never reached) for feats.0, feats.last, the mixers' last conv, lk.conv, attn.f.0 and refine;
// LibTorch defaults elsewhere.
//
// YAML (`model:` section):
//   type: plksr | realplksr
//   dim: 64            # D >= 1
//   n_blocks: 28       # B >= 1
//   kernel_size: 17    # odd >= 1 (the official RealPLKSR: 17; PLKSR tiny: 13)
//   split_ratio: 0.25  # P = int(D * split_ratio) in 1..D
//   use_ea: true       # element-wise attention
//   ccm_type: CCM      # plksr only: CCM | ICCM | DCCM
//   with_idt: false    # plksr only: identity added to the large-kernel branch
//   norm_groups: 4     # realplksr only: GroupNorm groups (D must be a multiple)
//   layer_norm: false  # realplksr only: LayerNorm at the block input instead of GroupNorm at the end
//   dysample: false    # realplksr only: DySample upsampler (groups 4, or 3 at odd scales; end conv unless x1)
//   dropout: 0.0       # realplksr only: Dropout2d rate before the last conv (training only)
// Supported scales: 1, 2, 3, 4, 8. The sparse/rectangular large-kernel ablations (SparsePLK,
// RectSparsePLK) are not implemented; their weights are refused by the detector.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "core/config.h"
#include "models/arch/dysample.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

/// The scales PLKSR and RealPLKSR support (1, 2, 3, 4, 8).
extern const std::vector<int> kPlksrScales;

enum class PlksrVariant { kPlksr, kRealPlksr };
enum class CcmType { kCcm, kIccm, kDccm };

struct PlksrOptions {
  PlksrVariant variant = PlksrVariant::kRealPlksr;
  int scale = 4;
  int dim = 64;
  int n_blocks = 28;
  int kernel_size = 17;
  double split_ratio = 0.25;
  bool use_ea = true;
  CcmType ccm_type = CcmType::kCcm;  ///< PLKSR only (RealPLKSR is always DCCM)
  bool with_idt = false;             ///< PLKSR only
  int norm_groups = 4;               ///< RealPLKSR only
  bool layer_norm = false;           ///< RealPLKSR only
  bool dysample = false;             ///< RealPLKSR only
  double dropout = 0.0;              ///< RealPLKSR only
};

/// The first invalid option of `o` as {YAML key, problem}, or {"", ""} when all are valid.
std::pair<std::string, std::string> plksr_invalid_option(const PlksrOptions& o);

/// LayerNorm over the channel dimension of (N,C,H,W) (RealPLKSR's channels-first LayerNorm):
/// y = weight * (x - mean_c) / sqrt(var_c + eps) + bias, biased variance, eps 1e-6.
class ChannelLayerNormImpl : public torch::nn::Module {
 public:
  explicit ChannelLayerNormImpl(int64_t dim, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  double eps;
};
TORCH_MODULE(ChannelLayerNorm);

/// One PLKBlock (see the file comment). forward: (N,D,H,W) -> (N,D,H,W).
class PlkBlockImpl : public torch::nn::Module {
 public:
  explicit PlkBlockImpl(const PlksrOptions& o);
  torch::Tensor forward(const torch::Tensor& x);
  /// lk: the first `pdim` channels through lk_conv (+ identity when with_idt), the rest unchanged.
  torch::Tensor partial_large_kernel(const torch::Tensor& x);

  ChannelLayerNorm layer_norm{nullptr};  ///< RealPLKSR with layer_norm only
  torch::nn::Sequential channel_mixer{nullptr};
  torch::nn::Conv2d lk_conv{nullptr};    ///< key lk.conv
  torch::nn::Conv2d attn_conv{nullptr};  ///< key attn.f.0 (use_ea only)
  torch::nn::Conv2d refine{nullptr};
  torch::nn::GroupNorm norm{nullptr};    ///< RealPLKSR without layer_norm only
  int64_t pdim = 0;
  bool with_idt = false;
};
TORCH_MODULE(PlkBlock);

/// PLKSR / RealPLKSR generator. forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s), not clamped.
/// Throws srlab::Error for a malformed input batch.
class PlksrImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error naming the option for invalid values or an unsupported scale.
  explicit PlksrImpl(const PlksrOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return options_.variant == PlksrVariant::kPlksr ? "plksr" : "realplksr"; }
  const PlksrOptions& options() const { return options_; }

  torch::nn::Sequential feats{nullptr};
  DySample to_img{nullptr};  ///< DySample upsampler, or null (pixel shuffle)

 private:
  PlksrOptions options_;
};

/// Registry factories for "plksr" and "realplksr" (errors name the key).
Generator make_plksr(const core::Config& params, int scale);
Generator make_realplksr(const core::Config& params, int scale);

/// Detectors (spandrel's key sets): feats.0 and feats.1.{lk.conv,refine} plus feats.1.channe_mixer.0
/// (PLKSR) or feats.1.channel_mixer.0 (RealPLKSR). D = feats.0.weight.shape[0]; B from the feats length;
/// s from the last conv (3*s*s outputs); kernel_size and P from lk.conv.weight; ccm_type from the mixers'
/// kernel sizes; use_ea from attn.f.0; layer_norm from layer_norm.bias; dysample from to_img.init_pos.
/// norm_groups (4), with_idt (false) and dropout cannot be read from weights and take the defaults.
/// Throws srlab::Error for the SparsePLK / RectSparsePLK ablations and inconsistent shapes.
std::optional<DetectedModel> detect_plksr(const StateDict& sd);
std::optional<DetectedModel> detect_realplksr(const StateDict& sd);

/// Registers "plksr" and "realplksr" (called from builtin_generators.cpp).
void register_plksr();

}  // namespace srlab::models
