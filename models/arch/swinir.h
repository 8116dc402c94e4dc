#pragma once
// SwinIR: Liang et al., "SwinIR: Image Restoration Using Swin Transformer", ICCV Workshops 2021
// (Sec. 3.1, Fig. 2): shallow feature conv, K residual Swin Transformer blocks (RSTB, swinir_blocks.h)
// with a long skip, and one of three reconstruction modules (Sec. 3.1, "HQ image reconstruction"):
//   pixelshuffle        classical SR: conv_before_upsample (Conv2d C->F 3x3 + LeakyReLU 0.01), upsample
//                       (log2(s) x [Conv2d F->4F, PixelShuffle 2], or Conv2d F->9F, PixelShuffle 3 at x3;
//                       keys upsample.0, upsample.2, ...), conv_last (F->3)
//   pixelshuffledirect  lightweight SR: upsample.0 (Conv2d C -> 3s^2) + PixelShuffle s
//   nearest+conv        real-world SR: conv_before_upsample, then conv_up1 (and conv_up2 at x4, conv_up3
//                       at x8) each after a nearest x2 interpolation, conv_hr, conv_last; LeakyReLU 0.2
// (C = embed_dim, F = num_feat = 64 in the official code.)
//
// Layout, state-dict keys and forward follow the official code (JingyunLiang/SwinIR,
// models/network_swinir.py, as copied into chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/
// SwinIR/__arch/SwinIR.py): conv_first, patch_embed.norm (patch_norm), layers.<i> (RSTB), norm,
// conv_after_body (1conv: Conv2d; 3conv: conv_after_body.0/.2/.4), then the upsampler keys above.
// forward(x): pad x at the bottom/right by reflection to a multiple of window_size (pad < size, so
// h, w > the pad amount; checked), x = (x - mean) * img_range with the DIV2K mean (0.4488, 0.4371,
// 0.4040), f = conv_first(x), f = conv_after_body(norm(RSTBs(f))) + f, reconstruct, y = y / img_range +
// mean, crop to (s*h, s*w). Window attention is shifted by window/2 on odd blocks of each RSTB; the
// official code disables shifting (and shrinks the window to img_size) when img_size <= window_size,
// reproduced for img_size == window_size (img_size < window_size is rejected: the official model only
// runs at inputs of that exact size then).
// Initialisation as the official _init_weights: Linear N(0, 0.02) (trunc. at +-2) with zero bias,
// LayerNorm 1/0, relative position bias tables N(0, 0.02); convs keep LibTorch's default init. In
// training, stochastic depth (DropPath) rises linearly from 0 to drop_path_rate over all blocks.
//
// YAML (`model:` section; defaults are the official constructor's, except the upsampler):
//   type: swinir
//   upsampler: pixelshuffle   # pixelshuffle | pixelshuffledirect | nearest+conv
//   embed_dim: 96             # C, divisible by every num_heads entry (SwinIR-M: 180; light: 60)
//   depths: [6, 6, 6, 6]      # STLs per RSTB (one RSTB per entry)
//   num_heads: [6, 6, 6, 6]   # attention heads per RSTB (same length as depths)
//   window_size: 8            # M (the official SR models; the reference class default 7 does not divide img_size 64)
//   mlp_ratio: 4.0            # MLP hidden = int(C * mlp_ratio) (SwinIR-M / light: 2)
//   img_size: 64              # training patch size the attn_mask buffers are built for (a multiple of window_size)
//   resi_connection: 1conv    # 1conv | 3conv
//   num_feat: 64              # F of pixelshuffle / nearest+conv (official: fixed 64)
//   img_range: 1.0            # > 0 (official SR models: 1.0)
//   patch_norm: true          # LayerNorm after the patch embedding
//   qkv_bias: true            # bias of the qkv projections
//   drop_path_rate: 0.1       # stochastic depth in training, [0, 1)
// Scales: pixelshuffle and pixelshuffledirect 2, 3, 4, 8; nearest+conv 2, 4, 8.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"
#include "models/arch/swinir_blocks.h"

namespace srlab::models {

enum class SwinIrUpsampler { kPixelShuffle, kPixelShuffleDirect, kNearestConv };

/// The official upsampler name ("pixelshuffle", "pixelshuffledirect", "nearest+conv").
std::string swinir_upsampler_name(SwinIrUpsampler u);

struct SwinIrOptions {
  int scale = 4;
  SwinIrUpsampler upsampler = SwinIrUpsampler::kPixelShuffle;
  int embed_dim = 96;
  std::vector<int> depths{6, 6, 6, 6};
  std::vector<int> num_heads{6, 6, 6, 6};
  int window_size = 8;
  double mlp_ratio = 4.0;
  int img_size = 64;
  bool three_conv = false;  ///< resi_connection "3conv" (else "1conv")
  int num_feat = 64;
  double img_range = 1.0;
  bool patch_norm = true;
  bool qkv_bias = true;
  double drop_path_rate = 0.1;
};

/// The DIV2K RGB mean the official code subtracts for 3-channel models.
inline constexpr float kSwinIrRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

/// SwinIR generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not
/// clamped. Throws srlab::Error for a malformed batch or h, w too small for the reflect padding.
class SwinIrImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit SwinIrImpl(const SwinIrOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "swinir"; }
  const SwinIrOptions& options() const { return options_; }
  /// Shift of the odd blocks: window_size / 2, or 0 when img_size == window_size (official clamp).
  int64_t block_shift() const { return options_.img_size <= options_.window_size ? 0 : options_.window_size / 2; }

  /// Deep features (official forward_features + conv_after_body + long skip): (N,3,H,W) normalised input
  /// with H, W multiples of window_size -> (N,C,H,W).
  torch::Tensor deep_features(const torch::Tensor& x);

  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::LayerNorm patch_norm{nullptr}, norm{nullptr};  ///< patch_norm: key patch_embed.norm
  std::vector<Rstb> layers;
  SwinResiConv conv_after_body;
  torch::nn::Conv2d conv_before_upsample{nullptr};  ///< key conv_before_upsample.0
  std::vector<torch::nn::Conv2d> upsample;          ///< keys upsample.0, upsample.2, ...
  torch::nn::Conv2d conv_up1{nullptr}, conv_up2{nullptr}, conv_up3{nullptr}, conv_hr{nullptr}, conv_last{nullptr};

 private:
  void build_upsampler();
  torch::Tensor reconstruct(const torch::Tensor& f);
  SwinIrOptions options_;
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> swinir_validate(const SwinIrOptions& options);

/// Scales supported by an upsampler: {2, 3, 4, 8}, or {2, 4, 8} for nearest+conv.
std::vector<int> swinir_scales(SwinIrUpsampler u);

/// Registry factory for "swinir": reads the keys of the file comment (errors name the key).
Generator make_swinir(const core::Config& params, int scale);

/// Infers a SwinIR `model:` section and scale from official state-dict keys and shapes (see
/// swinir_detect.cpp): upsampler from the upsampler keys, scale from their shapes, embed_dim from
/// conv_first, depths from the block indices, num_heads from the bias tables' columns, window_size from
/// the bias tables' rows ((2M-1)^2), mlp_ratio from mlp.fc1, img_size from a shifted block's attn_mask
/// (nW = (img_size/M)^2; 64 when no block is shifted), resi_connection, num_feat, patch_norm, qkv_bias.
/// img_range is not stored in weights: 1.0 (the official SR models'). Returns std::nullopt when the keys
/// are not SwinIR's; throws srlab::Error naming the key for inconsistent or unsupported weights (no
/// upsampler, i.e. denoising/JPEG models; absolute position embedding; non-RGB input).
std::optional<DetectedModel> detect_swinir(const StateDict& state_dict);

/// Registers "swinir" (called from builtin_generators.cpp).
void register_swinir();

}  // namespace srlab::models
