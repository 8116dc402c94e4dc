#pragma once
// DRCT: Hsu et al., "DRCT: Saving Image Super-resolution away from Information Bottleneck", CVPR
// Workshops 2024 (Sec. 3, Fig. 4): a SwinIR-style network whose residual groups are residual dense
// groups (RDG): five Swin Transformer layers (swinir_blocks.h) densely connected as in RRDB, each
// followed by a 1x1 conv that adds gc channels (the last one maps back to C), with a 0.2-scaled residual.
//
// Layout, state-dict keys and forward follow the official code (ming053l/DRCT drct/archs/DRCT_arch.py,
// as copied into chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/DRCT/__arch/drct_arch.py),
// C = embed_dim, h = the RDG's num_heads, M = window_size, g = gc:
//   conv_first (3 -> C, 3x3), patch_embed.norm (patch_norm), layers.<i> (RDG), norm, conv_after_body
//   (resi_connection 1conv; none for identity), conv_before_upsample.0 (C -> 64, 3x3, LeakyReLU 0.01),
//   upsample.0/.2/... (64 -> 256 + PixelShuffle 2 per x2 stage; 64 -> 576 + PixelShuffle 3 at x3), conv_last.
//   RDG layers.<i>: swin<k> (k = 1..5, SwinIR's SwinTransformerBlock keys: norm1, attn.relative_position_bias_table,
//   attn.relative_position_index, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2, attn_mask on swin2/swin4)
//   on C_k = C + (k-1) g channels with h heads (swin1) or h - (C_k mod h) heads (swin2-5), shift M/2 on swin2 and swin4, MLP ratio
//   mlp_ratio for swin1-3 and 1 for swin4-5; adjust<k> (1x1 conv C_k -> g, adjust5 C_5 -> C).
// RDG forward: x_k = LReLU_0.2(adjust_k(swin_k(cat(x, x_1, ..., x_{k-1})))) for k = 1..4, x_5 =
// adjust_5(swin_5(cat(x, x_1..x_4))), output x + 0.2 x_5 (tokens (B, H*W, C_k), convs on the (B,C_k,H,W) map).
// forward(x): reflect-pad at the bottom/right to a multiple of M (the official test-time pre_process of
// drct_model.py; the network itself needs H, W multiples of M; reflect_pad_to_multiple), x = (x - mean) *
// img_range with the DIV2K mean (0.4488, 0.4371, 0.4040), f = conv_first(x), f = conv_after_body(norm(
// RDGs(patch_norm(tokens(f))))) + f, reconstruct, y / img_range + mean, crop to (s*h, s*w).
// The shifted layers use their attn_mask buffer at img_size x img_size and a mask for the actual size
// otherwise (as the official block); img_size == window_size disables shifting (official clamp).
// Initialisation as the official _init_weights (Linear N(0, 0.02), LayerNorm 1/0, bias tables N(0, 0.02)).
// In training, stochastic depth: every layer of RDG i uses rate dpr[sum(depths[:i])] of linspace(0,
// drop_path_rate, sum(depths)) (the official indexing; depths have no other effect).
//
// YAML (`model:` section; defaults are the reference constructor's):
//   type: drct
//   embed_dim: 180            # C
//   depths: [6, 6, 6, 6, 6, 6]   # one RDG per entry (values only set the stochastic-depth rates)
//   num_heads: [6, 6, 6, 6, 6, 6]  # h per RDG: h must divide C, h - (C_k mod h) must divide C_2..C_5
//   window_size: 16           # M
//   mlp_ratio: 2.0            # MLP hidden of swin1-3 = int(C_k * mlp_ratio)
//   img_size: 64              # training patch size the attn_mask buffers are built for (a multiple of M)
//   resi_connection: 1conv    # 1conv | identity
//   gc: 32                    # g, growth channels of the dense connections
//   img_range: 1.0            # > 0
//   patch_norm: true          # LayerNorm after the patch embedding
//   qkv_bias: true            # bias of the qkv projections
//   drop_path_rate: 0.1       # stochastic depth in training, [0, 1)
// Scales 2, 3, 4, 8 (pixelshuffle; the official num_feat is fixed at 64).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"
#include "models/arch/swinir_blocks.h"

namespace srlab::models {

struct DrctOptions {
  int scale = 4;
  int embed_dim = 180;
  std::vector<int> depths{6, 6, 6, 6, 6, 6};
  std::vector<int> num_heads{6, 6, 6, 6, 6, 6};
  int window_size = 16;
  double mlp_ratio = 2.0;
  int img_size = 64;
  bool identity_resi = false;  ///< resi_connection "identity" (else "1conv")
  int gc = 32;
  double img_range = 1.0;
  bool patch_norm = true;
  bool qkv_bias = true;
  double drop_path_rate = 0.1;

  /// Shift of swin2 / swin4: M / 2, or 0 when img_size == M (official clamp).
  int64_t shift() const { return img_size <= window_size ? 0 : window_size / 2; }
};

/// Heads of the k-th Swin layer (k = 1..5) of an RDG with `heads` heads: `heads` for swin1, heads - (C_k mod
/// heads) for swin2..swin5 (C_k = embed_dim + (k-1) gc), as the official RDG.
int64_t drct_layer_heads(int64_t embed_dim, int64_t gc, int64_t heads, int k);

/// Width of the official conv_before_upsample / upsample (fixed in the reference).
inline constexpr int kDrctNumFeat = 64;

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> drct_validate(const DrctOptions& options);

/// Residual dense group (see the file comment). forward(x (B, H*W, C), H, W, shift_mask) with H, W
/// multiples of M -> (B, H*W, C); `shift_mask` as SwinTransformerBlockImpl::forward.
class RdgImpl : public torch::nn::Module {
 public:
  /// `blocks` holds the five layers' options (dims C + (k-1) gc); `embed_dim` C, `gc` g.
  RdgImpl(const std::vector<SwinBlockOptions>& blocks, int64_t embed_dim, int64_t gc);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& shift_mask);

  std::vector<SwinTransformerBlock> swin;  ///< keys swin1..swin5
  std::vector<torch::nn::Conv2d> adjust;   ///< keys adjust1..adjust5
};
TORCH_MODULE(Rdg);

/// DRCT generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not clamped.
class DrctImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit DrctImpl(const DrctOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "drct"; }
  const DrctOptions& options() const { return options_; }

  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::LayerNorm patch_norm{nullptr}, norm{nullptr};  ///< patch_norm: key patch_embed.norm
  std::vector<Rdg> layers;
  SwinResiConv conv_after_body;  ///< empty for identity
  torch::nn::Conv2d conv_before_upsample{nullptr}, conv_last{nullptr};  ///< keys conv_before_upsample.0, conv_last
  std::vector<torch::nn::Conv2d> upsample;                          ///< keys upsample.0, upsample.2, ...

 private:
  DrctOptions options_;
};

/// Registry factory for "drct": reads the keys of the file comment (errors name the key).
Generator make_drct(const core::Config& params, int scale);

/// Infers a DRCT `model:` section and scale from official state-dict keys and shapes (drct_detect.cpp;
/// the rules of spandrel's DRCT loader): claims a state dict with layers.0.swin1 attention and
/// layers.0.adjust1 keys; embed_dim from conv_first, one RDG per layers.<i>, num_heads from each swin1
/// bias table, window_size from its rows, mlp_ratio from swin1's MLP, gc from adjust1, img_size from
/// swin2's attn_mask (window_size when absent), scale from the upsampler, resi_connection, patch_norm,
/// qkv_bias. depths values (only stochastic-depth rates) take the reference's 6; img_range 1.0.
/// Returns std::nullopt for foreign keys; throws srlab::Error naming the key for inconsistent or
/// unsupported DRCT weights (no upsampler, absolute position embedding, non-RGB input).
std::optional<DetectedModel> detect_drct(const StateDict& state_dict);

/// Registers "drct" (called from builtin_generators.cpp).
void register_drct();

}  // namespace srlab::models
