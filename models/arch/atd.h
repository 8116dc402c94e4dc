#pragma once
// ATD: Zhang et al., "Transcending the Limit of Local Window: Advanced Super-Resolution Transformer with
// Adaptive Token Dictionary", CVPR 2024 (Sec. 3, the method). A SwinIR-like trunk (shallow conv, K residual
// blocks "ATDB" with a long skip, SwinIR's reconstruction modules) whose transformer layer runs three
// attentions in parallel on the same LayerNorm'ed tokens and sums them:
//   ATD-CA   token-dictionary cross-attention: queries from the image tokens, keys/values from a learned
//            dictionary of m tokens (per ATDB), refined after every layer but the last from the image
//            tokens weighted by the attention map (adaptive dictionary refinement)
//   AC-MSA   adaptive category-based self-attention: each token takes the category of its most similar
//            dictionary token (argmax of ATD-CA's map), tokens are sorted by category and attend within
//            consecutive groups of category_size tokens
//   (S)W-MSA window self-attention with relative position bias, shifted by M/2 on odd layers (SwinIR's
//            window partition, relative position index, shift mask and attention core, swinir_blocks.h)
// followed by a ConvFFN (fc1, GELU, + depthwise kxk conv with GELU as a residual, fc2).
//
// Layout, state-dict keys and forward follow the official code (LabShuHangGU/Adaptive-Token-Dictionary,
// basicsr/archs/atd_arch.py, as copied into chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/
// ATD/__arch/atd_arch.py), C = embed_dim, m = num_tokens, r = reducted_dim, M = window_size:
//   relative_position_index_SA (M^2, M^2) int64 buffer, conv_first (3 -> C), patch_embed.norm (patch_norm),
//   layers.<i>.residual_group.td (m, C) dictionary,
//   layers.<i>.residual_group.layers.<j>.  norm1, norm2 (LayerNorm C), wqkv (C -> 3C),
//       attn_win.relative_position_bias_table ((2M-1)^2, heads), attn_win.proj (C -> C),
//       attn_atd.wq / wk (C -> r), attn_atd.wv (C -> C), attn_atd.scale (m),
//       attn_aca.logit_scale (1, 1), attn_aca.proj (C -> C),
//       convffn.fc1 (C -> int(C * mlp_ratio)), convffn.dwconv.depthwise_conv.0 (depthwise k x k), convffn.fc2,
//       norm3 (InstanceNorm1d m, affine) and sigma (m, 1): every layer but the last of an ATDB,
//   layers.<i>.conv (resi_connection 1conv / 3conv), norm, conv_after_body, then the upsampler keys of SwinIR
//   (pixelshuffle: conv_before_upsample.0, upsample.0/.2/..., conv_last; pixelshuffledirect: upsample.0;
//   nearest+conv (x4): conv_before_upsample.0, conv_up1, conv_up2, conv_hr, conv_last), and a `no_norm`
//   buffer (1) when norm is false.
// forward(x): pad bottom/right to a multiple of M by mirroring with the edge repeated (the official
// cat(x, flip(x))[:h]; where the pad exceeds the size, which the official code cannot run, the mirroring
// continues periodically), x = (x - mean) * img_range (DIV2K mean; skipped when norm is false),
// f = conv_first(x), f = conv_after_body(norm(ATDBs(patch_embed(f)))) + f, reconstruct,
// y = y / img_range + mean, crop to (s*h, s*w).
//
// YAML (`model:` section; defaults are the official constructor's, except the upsampler):
//   type: atd
//   upsampler: pixelshuffle   # pixelshuffle | pixelshuffledirect | nearest+conv (x4 only)
//   embed_dim: 90             # C, divisible by every num_heads entry (ATD: 210; ATD-light: 48)
//   depths: [6, 6, 6, 6]      # transformer layers per ATDB
//   num_heads: [6, 6, 6, 6]   # heads per ATDB (window attention and AC-MSA)
//   window_size: 8            # M (ATD: 16)
//   category_size: 256        # AC-MSA group size (ATD-light: 128); not stored in weights
//   num_tokens: 64            # m, dictionary size (ATD: 128)
//   reducted_dim: 4           # r, ATD-CA query/key width (ATD: 20; ATD-light: 10)
//   convffn_kernel_size: 5    # depthwise conv of the ConvFFN (odd)
//   mlp_ratio: 2.0            # ConvFFN hidden = int(C * mlp_ratio)
//   qkv_bias: true            # biases of wqkv, attn_atd.wq/wk/wv, attn_aca.proj
//   patch_norm: true          # LayerNorm after the patch embedding
//   resi_connection: 1conv    # 1conv | 3conv
//   num_feat: 64              # width of pixelshuffle / nearest+conv (official: fixed 64)
//   img_range: 1.0            # > 0
//   norm: true                # mean subtraction / img_range scaling (false: weights with a no_norm buffer)
// Scales: pixelshuffle and pixelshuffledirect 2, 3, 4, 8; nearest+conv 4.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"
#include "models/arch/swinir_blocks.h"

namespace srlab::models {

enum class AtdUpsampler { kPixelShuffle, kPixelShuffleDirect, kNearestConv };

/// The official upsampler name ("pixelshuffle", "pixelshuffledirect", "nearest+conv").
std::string atd_upsampler_name(AtdUpsampler u);

struct AtdOptions {
  int scale = 4;
  AtdUpsampler upsampler = AtdUpsampler::kPixelShuffle;
  int embed_dim = 90;
  std::vector<int> depths{6, 6, 6, 6};
  std::vector<int> num_heads{6, 6, 6, 6};
  int window_size = 8;
  int category_size = 256;
  int num_tokens = 64;
  int reducted_dim = 4;
  int convffn_kernel_size = 5;
  double mlp_ratio = 2.0;
  bool qkv_bias = true;
  bool patch_norm = true;
  bool three_conv = false;  ///< resi_connection "3conv" (else "1conv")
  int num_feat = 64;
  double img_range = 1.0;
  bool norm = true;
};

/// Hyperparameters of one ATD transformer layer.
struct AtdLayerOptions {
  int64_t dim = 90, num_heads = 6, window = 8, shift = 0, category_size = 256, num_tokens = 64, reducted_dim = 4,
          kernel_size = 5;
  double mlp_ratio = 2.0;
  bool qkv_bias = true;
  bool is_last = false;  ///< the last layer of an ATDB: no dictionary refinement (no norm3 / sigma)
};

/// ATD-CA, token-dictionary cross-attention (paper Sec. 3). forward: tokens x (B,N,C) and
/// dictionary td (B,m,C) -> {out (B,N,C), similarity map (B,N,m)}. attn = softmax(norm(x wq) norm(td wk)^T
/// * (1 + clamp(scale, 0, 1) * ln m)) (cosine similarity, per-token learned temperature), out = attn (td wv).
/// Keys: wq, wk (C -> r), wv (C -> C), scale (m, init 0.5).
class AtdCrossAttentionImpl : public torch::nn::Module {
 public:
  AtdCrossAttentionImpl(int64_t dim, int64_t num_tokens, int64_t reducted_dim, bool qkv_bias);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& td);

  torch::nn::Linear wq{nullptr}, wk{nullptr}, wv{nullptr};
  torch::Tensor scale;
  int64_t num_tokens;
};
TORCH_MODULE(AtdCrossAttention);

/// AC-MSA, adaptive category-based multi-head self-attention (paper Sec. 3). forward: qkv (B,N,3C) (the
/// layer's wqkv output) and the ATD-CA similarity map (B,N,m) -> (B,N,C). Category of a token = argmax over
/// m; tokens are sorted by category with torch::sort(stable = false) exactly as the reference (the order of
/// equal categories decides the groups, so it must be the same sort), split into ceil(N/g) groups of
/// g = min(N, category_size) tokens (the last filled up with the mirrored tail of the sorted sequence), each
/// group attends within itself per head with softmax(q k^T * exp(min(logit_scale, ln 100))), and the
/// result goes back to the original order before proj. Keys: logit_scale (1,1) init ln 10, proj (C -> C).
class AtdCategoryAttentionImpl : public torch::nn::Module {
 public:
  AtdCategoryAttentionImpl(int64_t dim, int64_t num_heads, int64_t category_size, bool qkv_bias);
  torch::Tensor forward(const torch::Tensor& qkv, const torch::Tensor& sim);

  torch::Tensor logit_scale;
  torch::nn::Linear proj{nullptr};
  int64_t num_heads, category_size;
};
TORCH_MODULE(AtdCategoryAttention);

/// The attn_win module of an ATD layer: (S)W-MSA on precomputed qkv windows (B*nW, M^2, 3C) -> (B*nW, M^2, C)
/// (SwinIR's attention core, swin_window_attention_core, then proj). The relative position index is the
/// model's shared relative_position_index_SA buffer. Keys: relative_position_bias_table, proj.
class AtdWindowAttentionImpl : public torch::nn::Module {
 public:
  AtdWindowAttentionImpl(int64_t dim, int64_t window, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& qkv, const torch::Tensor& rpi, const torch::Tensor& mask);

  torch::Tensor relative_position_bias_table;
  torch::nn::Linear proj{nullptr};
  int64_t num_heads;
};
TORCH_MODULE(AtdWindowAttention);

/// ConvFFN, the feed-forward network of the ATD transformer layer: fc1, GELU, h + GELU(depthwise kxk conv(h))
/// on the HxW map, fc2.
/// forward: (B, H*W, C) -> (B, H*W, C). Keys: fc1, dwconv.depthwise_conv.0, fc2.
class AtdConvFfnImpl : public torch::nn::Module {
 public:
  AtdConvFfnImpl(int64_t dim, int64_t hidden, int64_t kernel_size);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Conv2d dwconv{nullptr};
};
TORCH_MODULE(AtdConvFfn);

/// One ATD transformer layer (paper Sec. 3): with x' = norm1(x), qkv = wqkv(x'), (a, sim) = ATD-CA(x', td):
/// x = x + (S)W-MSA(qkv) + a + AC-MSA(qkv, sim); x = x + ConvFFN(norm2(x)); unless last,
/// td = s td + (1 - s) softmax(norm3(sim^T)) x with s = sigmoid(sigma) (adaptive dictionary refinement).
/// forward: x (B, H*W, C), td (B, m, C), H, W multiples of M, the shared relative position index and the
/// shift mask (undefined for unshifted layers) -> {x, td}.
class AtdLayerImpl : public torch::nn::Module {
 public:
  explicit AtdLayerImpl(const AtdLayerOptions& options);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& td, int64_t height,
                                                  int64_t width, const torch::Tensor& rpi, const torch::Tensor& mask);
  const AtdLayerOptions& options() const { return options_; }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  /// norm3 (InstanceNorm1d(m, affine): child "norm3" with weight, bias (m)) and sigma (m, 1): not last only.
  torch::Tensor norm3_weight, norm3_bias, sigma;
  torch::nn::Linear wqkv{nullptr};
  AtdWindowAttention attn_win{nullptr};
  AtdCrossAttention attn_atd{nullptr};
  AtdCategoryAttention attn_aca{nullptr};
  AtdConvFfn convffn{nullptr};

 private:
  AtdLayerOptions options_;
};
TORCH_MODULE(AtdLayer);

/// ATDB, residual adaptive token dictionary block: x + embed(conv(unembed(layers(x, td)))), with the
/// dictionary td (m, C) (key residual_group.td, init N(0,1)) broadcast over the batch and refined layer by
/// layer. forward: x (B, H*W, C) -> same shape.
class AtdBlockImpl : public torch::nn::Module {
 public:
  AtdBlockImpl(const std::vector<AtdLayerOptions>& layers, bool three_conv);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi,
                        const torch::Tensor& mask);

  std::shared_ptr<torch::nn::Module> residual_group;  ///< holds td and layers.<j>
  torch::Tensor td;
  std::vector<AtdLayer> layers;
  SwinResiConv conv;
};
TORCH_MODULE(AtdBlock);

/// The DIV2K RGB mean the official code subtracts.
inline constexpr float kAtdRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

/// ATD generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not clamped.
class AtdImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit AtdImpl(const AtdOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "atd"; }
  const AtdOptions& options() const { return options_; }

  /// Deep features (official forward_features + conv_after_body + long skip): (N,C,H,W) with H, W
  /// multiples of window_size -> (N,C,H,W).
  torch::Tensor deep_features(const torch::Tensor& f);

  torch::Tensor relative_position_index_SA, no_norm;
  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::LayerNorm patch_norm{nullptr}, norm{nullptr};  ///< patch_norm: key patch_embed.norm
  std::vector<AtdBlock> layers;
  SwinResiConv conv_after_body;
  torch::nn::Conv2d conv_before_upsample{nullptr};  ///< key conv_before_upsample.0
  std::vector<torch::nn::Conv2d> upsample;          ///< keys upsample.0, upsample.2, ...
  torch::nn::Conv2d conv_up1{nullptr}, conv_up2{nullptr}, conv_hr{nullptr}, conv_last{nullptr};

 private:
  void build_upsampler();
  torch::Tensor reconstruct(const torch::Tensor& f);
  AtdOptions options_;
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> atd_validate(const AtdOptions& options);

/// Scales supported by an upsampler: {2, 3, 4, 8}, or {4} for nearest+conv (as the official code).
std::vector<int> atd_scales(AtdUpsampler u);

/// Registry factory for "atd": reads the keys of the file comment (errors name the key).
Generator make_atd(const core::Config& params, int scale);

/// Infers an ATD `model:` section and scale from official state-dict keys and shapes (atd_detect.cpp; the
/// rules of spandrel's ATD loader, chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/ATD/
/// __init__.py): recognised by relative_position_index_SA plus an ATDB's dictionary (residual_group.td) and
/// ATD-CA / AC-MSA parameters; window_size from the index, depths, num_heads, num_tokens, reducted_dim,
/// convffn_kernel_size, mlp_ratio, qkv_bias, patch_norm, resi_connection, upsampler, scale, num_feat and
/// norm (no_norm buffer) from keys and shapes. category_size leaves no trace: 128 for pixelshuffledirect
/// models with embed_dim 48 (ATD-light), else 256 (spandrel's rule); img_range 1.0. Returns std::nullopt
/// for other architectures' keys; throws srlab::Error naming the key for inconsistent or unsupported
/// weights (no upsampler, absolute position embedding, non-RGB input).
std::optional<DetectedModel> detect_atd(const StateDict& state_dict);

/// Registers "atd" (called from builtin_generators.cpp).
void register_atd();

}  // namespace srlab::models
