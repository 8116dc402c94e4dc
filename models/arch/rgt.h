#pragma once
// RGT: Chen et al., "Recursive Generalization Transformer for Image Super-Resolution", ICLR 2024.
// Shallow conv, K residual groups of transformer blocks with a long skip, and the SwinIR-style
// pixel-shuffle reconstruction (Sec. 3.1, Fig. 2). Inside a residual group the blocks alternate
// (Sec. 3.2-3.4):
//   even blocks  L-SA: local self-attention in rectangle windows, half the channels (and half the heads)
//                in Sh x Sw windows, the other half in Sw x Sh windows, with a dynamic position bias (an
//                MLP over relative offsets, CrossFormer's DPB) and a depth-wise conv on V added to the
//                output; some blocks shift the windows by (Sh/2, Sw/2) (the CAT/Swin shifted scheme)
//   odd blocks   RG-SA: recursive-generalization self-attention: the map is shrunk T times by the same
//                4x4 stride-4 depth-wise conv (T >= 2 in inference), then cross-attention from every
//                token to the shrunk tokens, channels scaled by c_ratio (Sec. 3.2)
// each followed by a gated MLP (fc1, GELU, split in two halves, LayerNorm + 3x3 depth-wise conv on one
// half, product, fc2) and the hybrid adaptive integration (HAI, Sec. 3.3): x_out = x_block + gamma * x_in.
//
// Layout, state-dict keys and forward follow the reference code (zhengchen1999/RGT basicsr/archs/
// rgt_arch.py, as copied into chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/RGT/__arch/
// rgt.py): conv_first, before_RG.1 (LayerNorm), layers.<i>.blocks.<j>.{norm1, attn, norm2, mlp, gamma},
// layers.<i>.conv (1conv / 3conv, as SwinIR), norm, conv_after_body, conv_before_upsample.0,
// upsample.0/.2/..., conv_last. L-SA keys: attn.qkv, attn.proj, attn.get_v, attn.attns.{0,1}.{rpe_biases,
// relative_position_index, pos.pos_proj, pos.pos{1,2,3}.{0,2}}, attn.attn_mask_{0,1} (shifted blocks).
// RG-SA keys: attn.reduction1, attn.dwconv, attn.conv, attn.norm_act.0, attn.q, attn.k, attn.v, attn.cpe,
// attn.proj. MLP keys: mlp.fc1, mlp.sg.norm, mlp.sg.conv, mlp.fc2.
// Shifted L-SA blocks (reference rule): block j of group i is shifted when j is even and
// (i even and j % 4 == 2) or (i odd and j % 4 == 0).
//
// forward(x): x = (x - mean) * img_range with the DIV2K mean (0.4488, 0.4371, 0.4040), f = conv_first(x),
// f = conv_after_body(norm(groups(before_RG(f)))) + f, conv_before_upsample (LeakyReLU 0.01), upsample,
// conv_last, y / img_range + mean. L-SA zero-pads its q, k, v at the bottom/right to a multiple of
// max(split_size) as the reference does; the image itself is not padded, except where the reference
// cannot run (it needs h, w >= 16 and min(h, w) >= 4^T with T = max(2, floor(log4(max(h, w) / 16)))
// in inference): then the input is reflect-padded at the bottom/right to the smallest such size and
// the output cropped to (s*h, s*w). In training T = max(floor(log4(h / 4)), floor(log4(w / 4))) as in the
// reference (sizes >= 4 needed, padded likewise).
// Initialisation: PyTorch's defaults (the reference applies no init function), gamma = 1e-4;
// stochastic depth rises linearly from 0 to drop_path_rate over all blocks (training only).
//
// YAML (`model:` section; defaults are the reference constructor's):
//   type: rgt
//   embed_dim: 180          # C: even, divisible by every num_heads entry (official models: 180)
//   depth: [2, 2, 2, 2]     # blocks per residual group (official RGT: [6,6,6,6,6,6,6,6])
//   num_heads: [2, 2, 2, 2] # heads per group (>= 2; L-SA uses num_heads/2 per half; official: 6)
//   mlp_ratio: 4.0          # MLP hidden = int(C * mlp_ratio), must be even (official: 2)
//   qkv_bias: true          # bias of the q/k/v projections
//   split_size: [8, 8]      # [Sh, Sw] of the L-SA rectangle windows, each >= 2 (official: [8, 32])
//   c_ratio: 0.5            # RG-SA channel factor: C' = int(C * c_ratio), divisible by num_heads
//   img_size: 64            # size the stored attn_mask buffers are built for (the reference: always 64)
//   resi_connection: 1conv  # 1conv | 3conv
//   num_feat: 64            # reconstruction width (reference: fixed 64)
//   img_range: 1.0          # > 0
//   drop_path_rate: 0.1     # stochastic depth in training, [0, 1)
// Scales: 2, 3, 4, 8.
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

struct RgtOptions {
  int scale = 2;
  int embed_dim = 180;
  std::vector<int> depth{2, 2, 2, 2};
  std::vector<int> num_heads{2, 2, 2, 2};
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  std::vector<int> split_size{8, 8};
  double c_ratio = 0.5;
  int img_size = 64;
  bool three_conv = false;  ///< resi_connection "3conv" (else "1conv")
  int num_feat = 64;
  double img_range = 1.0;
  double drop_path_rate = 0.1;
};

/// True when block `block` of residual group `group` is an L-SA block with shifted windows (reference rule).
bool rgt_block_shifted(int group, int block);

/// Number T of RG-SA reductions (4x4, stride 4) for an H x W map, as the reference: inference
/// max(2, floor(log4(H/16)), floor(log4(W/16))), training max(floor(log4(H/4)), floor(log4(W/4))) (integer
/// divisions first; a quotient 0 counts as 0 steps). Both logs are log(n) / log(4) in double.
int64_t rgt_reduction_steps(int64_t height, int64_t width, bool training);

/// Dynamic position bias (CrossFormer's DPB as used by RGT, residual=False): pos3(pos2(pos1(pos_proj(b))))
/// with posK = LayerNorm, ReLU, Linear; maps the (n, 2) relative offsets to (n, heads) biases.
/// pos_dim = dim / 4 may be 0 (small models): the result is then pos3's bias on every row.
class RgtDynamicPosBiasImpl : public torch::nn::Module {
 public:
  RgtDynamicPosBiasImpl(int64_t dim, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& biases);

  torch::nn::Linear pos_proj{nullptr}, lin1{nullptr}, lin2{nullptr}, lin3{nullptr};
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr}, ln3{nullptr};
};
TORCH_MODULE(RgtDynamicPosBias);

/// Window attention of one L-SA half (reference WindowAttention): q, k, v (B, H*W, C) with H a multiple
/// of win_h, W of win_w -> (B, H, W, C); softmax(q * head_dim^-0.5 k^T + DPB[index] + mask) v per window.
/// Buffers rpe_biases ((2Wh-1)(2Ww-1), 2) float and relative_position_index (Wh*Ww)^2 int64; child pos.
class RgtWindowAttentionImpl : public torch::nn::Module {
 public:
  /// `dim` = C of this half, `num_heads` heads of this half; the DPB has dim/4 channels.
  RgtWindowAttentionImpl(int64_t dim, int64_t num_heads, int64_t win_h, int64_t win_w);
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t height,
                        int64_t width, const torch::Tensor& mask);

  torch::Tensor rpe_biases, relative_position_index;
  RgtDynamicPosBias pos{nullptr};
  int64_t num_heads, win_h, win_w;
  double scale;
};
TORCH_MODULE(RgtWindowAttention);

/// The two shift masks of L-SA for a padded H x W map (branch 0: Sh x Sw windows shifted by (Sh/2, Sw/2);
/// branch 1: Sw x Sh windows shifted by (Sw/2, Sh/2)); undefined when no block is shifted.
struct RgtShiftMasks {
  torch::Tensor mask0, mask1;
};

/// L-SA (Sec. 3.4; reference L_SA): x (B, H*W, C) -> (B, H*W, C).
class RgtLocalAttentionImpl : public torch::nn::Module {
 public:
  RgtLocalAttentionImpl(int64_t dim, int64_t num_heads, int64_t split_h, int64_t split_w, bool qkv_bias, bool shifted,
                        int64_t img_size);
  /// `masks` are the shift masks for the padded map (used by shifted blocks unless the padded map is
  /// img_size x img_size, where the block's own buffers are used as in the reference).
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const RgtShiftMasks& masks);

  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  RgtWindowAttention attn0{nullptr}, attn1{nullptr};  ///< keys attns.0, attns.1
  torch::nn::Conv2d get_v{nullptr};
  torch::Tensor attn_mask_0, attn_mask_1;  ///< buffers of shifted blocks, for img_size x img_size
  int64_t split_h, split_w, img_size;
  bool shifted;
};
TORCH_MODULE(RgtLocalAttention);

/// RG-SA (Sec. 3.2; reference RG_SA): x (B, H*W, C) -> (B, H*W, C); needs H, W >= 4^T (T from
/// rgt_reduction_steps).
class RgtRecursiveAttentionImpl : public torch::nn::Module {
 public:
  RgtRecursiveAttentionImpl(int64_t dim, int64_t num_heads, bool qkv_bias, double c_ratio);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width);

  torch::nn::Conv2d reduction1{nullptr}, dwconv{nullptr}, conv{nullptr}, cpe{nullptr};
  torch::nn::LayerNorm norm{nullptr};  ///< key norm_act.0 (followed by GELU)
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, proj{nullptr};
  int64_t num_heads, cr;
  double scale;
};
TORCH_MODULE(RgtRecursiveAttention);

/// Gated MLP (reference MLP with Gate): (B, H*W, C) -> (B, H*W, C); hidden even.
class RgtMlpImpl : public torch::nn::Module {
 public:
  RgtMlpImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::LayerNorm sg_norm{nullptr};  ///< key sg.norm
  torch::nn::Conv2d sg_conv{nullptr};     ///< key sg.conv
};
TORCH_MODULE(RgtMlp);

/// One RGT block (reference Block): x + attn(norm1 x), then + mlp(norm2 .), then + gamma * x_in (HAI).
class RgtBlockImpl : public torch::nn::Module {
 public:
  RgtBlockImpl(const RgtOptions& options, int group, int block, double drop_path);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const RgtShiftMasks& masks);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  RgtLocalAttention local{nullptr};          ///< key attn on even blocks
  RgtRecursiveAttention recursive{nullptr};  ///< key attn on odd blocks
  RgtMlp mlp{nullptr};
  torch::Tensor gamma;

 private:
  torch::Tensor drop_path(const torch::Tensor& x) const;
  double drop_path_;
};
TORCH_MODULE(RgtBlock);

/// Residual group (reference ResidualGroup): x + tokens(conv(map(blocks(x)))), x (B, H*W, C).
class RgtResidualGroupImpl : public torch::nn::Module {
 public:
  RgtResidualGroupImpl(const RgtOptions& options, int group, const std::vector<double>& drop_paths);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const RgtShiftMasks& masks);

  std::vector<RgtBlock> blocks;
  SwinResiConv conv;
};
TORCH_MODULE(RgtResidualGroup);

/// RGT generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not clamped.
class RgtImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit RgtImpl(const RgtOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "rgt"; }
  const RgtOptions& options() const { return options_; }

  /// The (h', w') >= (h, w) the input is padded to (equal to (h, w) wherever the reference runs).
  std::pair<int64_t, int64_t> padded_size(int64_t height, int64_t width) const;

  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::LayerNorm before_norm{nullptr}, norm{nullptr};  ///< before_norm: key before_RG.1
  std::vector<RgtResidualGroup> layers;
  SwinResiConv conv_after_body;
  torch::nn::Conv2d conv_before_upsample{nullptr}, conv_last{nullptr};  ///< conv_before_upsample.0
  std::vector<torch::nn::Conv2d> upsample;                              ///< upsample.0, upsample.2, ...

 private:
  torch::Tensor deep_features(const torch::Tensor& f);
  RgtOptions options_;
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> rgt_validate(const RgtOptions& options);

/// Supported scales: 2, 3, 4, 8.
std::vector<int> rgt_scales();

/// Registry factory for "rgt": reads the keys of the file comment (errors name the key).
Generator make_rgt(const core::Config& params, int scale);

/// Infers an RGT `model:` section and scale from reference state-dict keys and shapes (rgt_detect.cpp),
/// as spandrel's RGT loader: recognised by the HAI scale `layers.0.blocks.0.gamma` with the gated MLP
/// `layers.0.blocks.0.mlp.sg.conv.weight` and the L-SA bias buffer `layers.0.blocks.0.attn.attns.0.rpe_biases`
/// (DAT has `ffn` and no gamma; SwinIR/HAT/DRCT/ATD nest blocks under residual_group / other names).
/// embed_dim from conv_first; depth from block indices; num_heads = 2h or 2h+1 (h = rows of pos3.2,
/// the one that divides embed_dim); mlp_ratio from mlp.fc1; c_ratio from an RG-SA conv (0.5 without
/// one); split_size from relative_position_index (Sh*Sw) and rpe_biases ((2Sh-1)(2Sw-1)) rows, the
/// order of Sh, Sw from the nearer of the two orders to rpe_biases' first offset (1-Sh, 1-Sw); img_size from a shifted block's
/// attn_mask_0 (64 without one); scale and num_feat from the upsampler; resi_connection; qkv_bias.
/// img_range: 1.0. std::nullopt for other architectures; srlab::Error naming the key for inconsistent RGT keys.
std::optional<DetectedModel> detect_rgt(const StateDict& state_dict);

/// Registers "rgt" (called from builtin_generators.cpp).
void register_rgt();

}  // namespace srlab::models
