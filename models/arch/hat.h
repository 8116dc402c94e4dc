#pragma once
// HAT: Chen et al., "Activating More Pixels in Image Super-Resolution Transformer", CVPR 2023 (Sec. 3.2,
// Fig. 4): a SwinIR-style network whose residual groups (RHAG) stack hybrid attention blocks (HAB:
// (shifted) window self-attention plus a channel-attention conv branch, CAB, scaled by conv_scale) and end
// with an overlapping cross-attention block (OCAB: queries from MxM windows, keys/values from enlarged
// overlapping Mo x Mo windows, Mo = M + int(M * overlap_ratio)).
//
// Layout, state-dict keys and forward follow the official code (XPixelGroup/HAT hat/archs/hat_arch.py,
// as copied into chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/HAT/__arch/HAT.py),
// C = embed_dim, h = heads, M = window_size, F = num_feat:
//   relative_position_index_SA   (M^2, M^2) int64 buffer shared by every HAB (swin_relative_position_index)
//   relative_position_index_OCA  (M^2, Mo^2) int64 buffer shared by every OCAB (hat_oca_relative_position_index)
//   conv_first (3 -> C, 3x3), patch_embed.norm (patch_norm), layers.<i> (RHAG), norm, conv_after_body
//   (resi_connection 1conv; none for identity), conv_before_upsample.0 (C -> F, 3x3, LeakyReLU 0.01),
//   upsample.0/.2/... (F -> 4F + PixelShuffle 2 per x2 stage; F -> 9F + PixelShuffle 3 at x3), conv_last.
//   RHAG layers.<i>: residual_group.blocks.<j> (HAB), residual_group.overlap_attn (OCAB), conv (1conv).
//   HAB: norm1, attn (relative_position_bias_table ((2M-1)^2, h), qkv, proj; no index or mask buffer),
//        conv_block.cab.0 (C -> C/compress, 3x3), GELU, cab.2 (-> C, 3x3), cab.3.attention.1 (C -> C/squeeze,
//        1x1), ReLU, cab.3.attention.3 (-> C, 1x1), sigmoid; norm2, mlp.fc1, mlp.fc2.
//   OCAB: norm1, qkv, relative_position_bias_table ((M+Mo-1)^2, h), proj, norm2, mlp.fc1, mlp.fc2.
// forward(x): x = (x - mean) * img_range with the DIV2K mean (0.4488, 0.4371, 0.4040), reflect-pad at the
// bottom/right to a multiple of M (official check_image_size; reflect_pad_to_multiple), f = conv_first(x),
// f = conv_after_body(norm(RHAGs(patch_norm(tokens(f))))) + f, reconstruct, y / img_range + mean, crop to
// (s*h, s*w). In a HAB: y = x + unshift(W-MSA(shift(LN(x)))) + conv_scale * CAB(LN(x)), then y + MLP(LN(y));
// odd blocks shift by M/2 (none when img_size <= M, as the official clamp). The OCAB's relative position
// index is the official one (its entries may be negative; they index the table from the end, as Python).
// Initialisation as the official _init_weights (Linear N(0, 0.02) with zero bias, LayerNorm 1/0, bias
// tables N(0, 0.02)); convs keep LibTorch's default. Stochastic depth in training rises linearly from 0
// to drop_path_rate over all HABs.
//
// YAML (`model:` section; defaults are the reference constructor's, except window_size 16 (the official
// models'; the class default 7 with overlap 0.5 gives an odd overlap margin the reference cannot run)):
//   type: hat
//   embed_dim: 96             # C, divisible by every num_heads entry (HAT-S 144, HAT / HAT-L 180)
//   depths: [6, 6, 6, 6]      # HABs per RHAG (HAT-L: 12 RHAGs)
//   num_heads: [6, 6, 6, 6]   # attention heads per RHAG
//   window_size: 16           # M
//   compress_ratio: 3         # CAB width C // compress_ratio (HAT-S 24)
//   squeeze_factor: 30        # channel attention width C // squeeze_factor (HAT-S 24)
//   conv_scale: 0.01          # weight of the CAB branch
//   overlap_ratio: 0.5        # Mo = M + int(M * overlap_ratio); Mo - M must be even
//   mlp_ratio: 4.0            # MLP hidden = int(C * mlp_ratio) (official models 2)
//   img_size: 64              # training patch size; only img_size <= window_size matters (no shift)
//   resi_connection: 1conv    # 1conv | identity
//   num_feat: 64              # F
//   img_range: 1.0            # > 0
//   patch_norm: true          # LayerNorm after the patch embedding
//   qkv_bias: true            # bias of the qkv projections
//   drop_path_rate: 0.1       # stochastic depth in training, [0, 1)
// Scales 2, 3, 4, 8 (pixelshuffle, the only official upsampler).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"
#include "models/arch/swinir_blocks.h"

namespace srlab::models {

struct HatOptions {
  int scale = 4;
  int embed_dim = 96;
  std::vector<int> depths{6, 6, 6, 6};
  std::vector<int> num_heads{6, 6, 6, 6};
  int window_size = 16;
  int compress_ratio = 3;
  int squeeze_factor = 30;
  double conv_scale = 0.01;
  double overlap_ratio = 0.5;
  double mlp_ratio = 4.0;
  int img_size = 64;
  bool identity_resi = false;  ///< resi_connection "identity" (else "1conv")
  int num_feat = 64;
  double img_range = 1.0;
  bool patch_norm = true;
  bool qkv_bias = true;
  double drop_path_rate = 0.1;

  /// Mo = M + int(M * overlap_ratio), the side of the OCAB's key/value windows.
  int64_t overlap_window() const;
  /// Shift of the odd HABs: M / 2, or 0 when img_size <= M (official clamp).
  int64_t shift() const { return img_size <= window_size ? 0 : window_size / 2; }
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> hat_validate(const HatOptions& options);

/// Relative position index of the OCAB (official calculate_rpi_oca): (M^2, Mo^2) int64, entry [i][j] =
/// (yj - yi + M - Mo + 1) * (M + Mo - 1) + (xj - xi + M - Mo + 1) for query token i = (yi, xi) of the
/// MxM window and key token j = (yj, xj) of the Mo x Mo window. Entries can be negative.
torch::Tensor hat_oca_relative_position_index(int64_t window, int64_t overlap_window);

/// Channel attention (RCAN's, as in HAT): x * sigmoid(W2 relu(W1 avgpool(x))), key attention.1 (C -> C/r,
/// 1x1) and attention.3 (C/r -> C, 1x1). (N,C,H,W) -> (N,C,H,W).
class HatChannelAttentionImpl : public torch::nn::Module {
 public:
  HatChannelAttentionImpl(int64_t dim, int64_t squeezed);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential attention{nullptr};
};
TORCH_MODULE(HatChannelAttention);

/// Hyperparameters of one HAB.
struct HabOptions {
  int64_t dim = 96, num_heads = 6, window = 16, shift = 0;
  int64_t compressed = 32;   ///< C // compress_ratio
  int64_t squeezed = 3;      ///< C // squeeze_factor
  double conv_scale = 0.01, mlp_ratio = 4.0, drop_path = 0.0;
  bool qkv_bias = true;
};

/// Hybrid attention block (paper Sec. 3.2, Fig. 4(a)). forward(x (B, H*W, C), H, W, rpi_sa (M^2, M^2),
/// mask (nW, M^2, M^2) for shifted blocks) with H, W multiples of M -> (B, H*W, C).
class HabImpl : public torch::nn::Module {
 public:
  explicit HabImpl(const HabOptions& options);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi_sa,
                        const torch::Tensor& mask);
  const HabOptions& options() const { return options_; }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};  ///< own_index false: the model's relative_position_index_SA
  std::shared_ptr<torch::nn::Module> conv_block;  ///< child holding `cab`
  torch::nn::Sequential cab{nullptr};
  SwinMlp mlp;

 private:
  HabOptions options_;
};
TORCH_MODULE(Hab);

/// Overlapping cross-attention block (paper Sec. 3.2, Fig. 4(b)): queries from MxM windows, keys and
/// values from Mo x Mo windows (unfold, stride M, padding (Mo-M)/2). forward(x (B, H*W, C), H, W,
/// rpi_oca (M^2, Mo^2)) with H, W multiples of M -> (B, H*W, C).
class OcabImpl : public torch::nn::Module {
 public:
  OcabImpl(int64_t dim, int64_t window, int64_t overlap_window, int64_t num_heads, bool qkv_bias, double mlp_ratio);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi_oca);

  torch::Tensor relative_position_bias_table;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  SwinMlp mlp;
  int64_t window, overlap_window, num_heads;
};
TORCH_MODULE(Ocab);

/// Residual hybrid attention group: x + conv(HAB_d(...HAB_1(x)) then OCAB), x (B, H*W, C).
class RhagImpl : public torch::nn::Module {
 public:
  RhagImpl(const std::vector<HabOptions>& blocks, int64_t overlap_window, bool identity_resi);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi_sa,
                        const torch::Tensor& rpi_oca, const torch::Tensor& mask);

  std::shared_ptr<torch::nn::Module> residual_group;  ///< child holding blocks.<j> and overlap_attn
  std::vector<Hab> blocks;
  Ocab overlap_attn{nullptr};
  SwinResiConv conv;  ///< 1conv only (empty for identity)
};
TORCH_MODULE(Rhag);

/// HAT generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not clamped.
class HatImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit HatImpl(const HatOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "hat"; }
  const HatOptions& options() const { return options_; }

  torch::Tensor relative_position_index_SA, relative_position_index_OCA;
  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::LayerNorm patch_norm{nullptr}, norm{nullptr};  ///< patch_norm: key patch_embed.norm
  std::vector<Rhag> layers;
  SwinResiConv conv_after_body;  ///< empty for identity
  torch::nn::Conv2d conv_before_upsample{nullptr}, conv_last{nullptr};  ///< keys conv_before_upsample.0, conv_last
  std::vector<torch::nn::Conv2d> upsample;                          ///< keys upsample.0, upsample.2, ...

 private:
  HatOptions options_;
};

/// Registry factory for "hat": reads the keys of the file comment (errors name the key).
Generator make_hat(const core::Config& params, int scale);

/// Infers a HAT `model:` section and scale from official state-dict keys and shapes (hat_detect.cpp;
/// the rules of spandrel's HAT loader): claims a state dict with conv_block.cab and overlap_attn keys in
/// layers.0; embed_dim from conv_first, scale and num_feat from the upsampler, window_size from the
/// bias tables, overlap_ratio from the OCAB table, depths / num_heads per RHAG, compress_ratio and
/// squeeze_factor from the CAB widths, mlp_ratio, resi_connection, patch_norm, qkv_bias. conv_scale,
/// img_size, img_range have no trace in weights: 0.01, 64, 1.0. Returns std::nullopt for foreign keys;
/// throws srlab::Error naming the key for inconsistent or unsupported HAT weights (absolute position
/// embedding, non-RGB input, no upsampler).
std::optional<DetectedModel> detect_hat(const StateDict& state_dict);

/// Registers "hat" (called from builtin_generators.cpp).
void register_hat();

}  // namespace srlab::models
