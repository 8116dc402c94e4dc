#pragma once
// Building blocks of SwinIR (Liang et al., "SwinIR: Image Restoration Using Swin Transformer", ICCVW 2021,
// Sec. 3.1-3.2; built on Liu et al., "Swin Transformer", ICCV 2021, Sec. 3.2): window partition,
// relative position index, the shifted-window attention mask, window multi-head self-attention with a
// relative position bias (W-MSA / SW-MSA), the Swin Transformer layer (STL) and the residual Swin
// Transformer block (RSTB).
//
// Module layout and state-dict keys follow the official code (JingyunLiang/SwinIR,
// models/network_swinir.py; the same file as copied into chaiNNer-org/spandrel,
// libs/spandrel/spandrel/architectures/SwinIR/__arch/SwinIR.py), C = embed dim, h = heads, M = window:
//   WindowAttention     relative_position_bias_table ((2M-1)^2, h), relative_position_index buffer
//                       (M^2, M^2) int64, qkv (Linear C -> 3C), proj (Linear C -> C)
//   SwinTransformerBlock norm1, attn, norm2 (LayerNorm C, eps 1e-5), mlp.fc1 (C -> hidden), mlp.fc2,
//                       attn_mask buffer (nW, M^2, M^2) for shifted blocks (shift M/2 on odd blocks)
//   RSTB                residual_group.blocks.<j>, conv (1conv: Conv2d C->C 3x3; 3conv: conv.0 C->C/4 3x3,
//                       LeakyReLU 0.2, conv.2 C/4->C/4 1x1, LeakyReLU 0.2, conv.4 C/4->C 3x3)
// Token layout: (B, L = H*W, C), token t = pixel (t / W, t % W), as PatchEmbed's flatten(2).transpose(1,2).
#include <torch/torch.h>

#include <string>
#include <vector>

namespace srlab::models {

/// (B,H,W,C) -> (B*nW, M*M, C), nW = (H/M)*(W/M) windows in row-major window order, tokens row-major
/// inside a window (the official window_partition followed by view(-1, M*M, C)). H, W multiples of M.
torch::Tensor swin_window_partition(const torch::Tensor& x, int64_t window);

/// Inverse of swin_window_partition: (B*nW, M*M, C) -> (B,H,W,C).
torch::Tensor swin_window_reverse(const torch::Tensor& windows, int64_t window, int64_t height, int64_t width);

/// Relative position index of a MxM window (Swin Transformer Sec. 3.2, "Relative position bias"):
/// (M^2, M^2) int64, entry [i][j] = (y_i - y_j + M - 1) * (2M - 1) + (x_i - x_j + M - 1) for tokens
/// i = (y_i, x_i), j = (y_j, x_j); indexes rows of the ((2M-1)^2, heads) bias table.
torch::Tensor swin_relative_position_index(int64_t window);

/// Attention mask of the shifted windows (SW-MSA, Swin Transformer Sec. 3.2, "efficient batch
/// computation for shifted configuration") for an HxW feature map cyclically shifted by `shift`:
/// (nW, M^2, M^2) float32, 0 where tokens i and j of a window come from the same image region and -100
/// where not (the official value). Regions: rows [0, H-M), [H-M, H-shift), [H-shift, H), likewise columns.
/// Requires H, W multiples of M and 0 < shift < M; throws srlab::Error otherwise.
torch::Tensor swin_shift_attention_mask(int64_t height, int64_t width, int64_t window, int64_t shift,
                                        torch::Device device = torch::kCPU);

/// Window multi-head self-attention with relative position bias: (B*nW, N = M^2, C) -> same shape.
/// attn = softmax(q k^T * head_dim^-0.5 + bias[index] + mask) v, then proj. `mask` (nW, N, N) or undefined.
class WindowAttentionImpl : public torch::nn::Module {
 public:
  /// Throws srlab::Error unless dim % num_heads == 0. The bias table is initialised N(0, 0.02)
  /// (timm's trunc_normal_ with bounds +-2, i.e. 100 std: truncation never happens at this std).
  /// own_index false: no relative_position_index buffer (the caller passes the index to forward; HAT).
  WindowAttentionImpl(int64_t dim, int64_t window, int64_t num_heads, bool qkv_bias, bool own_index = true);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  /// The same with the caller's (M^2, M^2) int64 index (negative entries count from the table's end).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& index, const torch::Tensor& mask);

  torch::Tensor relative_position_bias_table, relative_position_index;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  int64_t window, num_heads;
};
TORCH_MODULE(WindowAttention);

/// Hyperparameters of one Swin Transformer layer (STL).
struct SwinBlockOptions {
  int64_t dim = 96;
  int64_t num_heads = 6;
  int64_t window = 7;       ///< M (after the official clamp to img_size, see SwinIrImpl)
  int64_t shift = 0;        ///< 0 (W-MSA) or M/2 (SW-MSA)
  int64_t img_size = 64;    ///< the size the attn_mask buffer is built for (official input_resolution)
  double mlp_ratio = 4.0;   ///< hidden = int(dim * mlp_ratio)
  bool qkv_bias = true;
  double drop_path = 0.0;   ///< stochastic depth probability in training
};

/// Swin Transformer layer: x + DropPath(unshift(W-MSA(shift(LN(x))))), then x + DropPath(MLP(LN(x))),
/// MLP = fc1, GELU (erf form), fc2. forward: x (B, H*W, C) with H, W multiples of M -> same shape.
/// `shift_mask` is the (nW,M^2,M^2) mask for an HxW map, used by shifted blocks when H x W differs from
/// img_size x img_size (else the block's own attn_mask buffer is used, as the official code does).
/// Linear weights are initialised N(0, 0.02) with zero biases, LayerNorms 1/0 (official _init_weights).
class SwinTransformerBlockImpl : public torch::nn::Module {
 public:
  explicit SwinTransformerBlockImpl(const SwinBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& shift_mask);
  /// The mask this block applies for an HxW map (undefined for unshifted blocks).
  torch::Tensor mask_for(int64_t height, int64_t width, const torch::Tensor& shift_mask) const;
  const SwinBlockOptions& options() const { return options_; }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};
  std::shared_ptr<torch::nn::Module> mlp;  ///< child "mlp" holding fc1, fc2
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::Tensor attn_mask;  ///< buffer "attn_mask" (shifted blocks only), (nW, M^2, M^2) for img_size

 private:
  torch::Tensor drop_path(const torch::Tensor& x) const;
  SwinBlockOptions options_;
};
TORCH_MODULE(SwinTransformerBlock);

/// The convolution before a residual connection (official resi_connection): "1conv" = one 3x3 C->C conv
/// (key <name>); "3conv" = 3x3 C->C/4, LeakyReLU 0.2, 1x1 C/4->C/4, LeakyReLU 0.2, 3x3 C/4->C (keys
/// <name>.0, <name>.2, <name>.4). (N,C,H,W) -> (N,C,H,W).
struct SwinResiConv {
  torch::nn::Conv2d first{nullptr}, mid{nullptr}, last{nullptr};  ///< 1conv: only `first`
  bool three_conv() const { return !mid.is_empty(); }
  torch::Tensor operator()(const torch::Tensor& x);
};

/// Builds a SwinResiConv and registers it under `name` in `parent`. Throws srlab::Error for 3conv with
/// dim < 4.
SwinResiConv register_swin_resi_conv(torch::nn::Module& parent, const std::string& name, int64_t dim, bool three_conv);

/// Negative slope of the LeakyReLUs inside resi_connection "3conv" and the nearest+conv upsampler.
constexpr double kSwinLeakySlope = 0.2;

/// Residual Swin Transformer block: x + embed(conv(unembed(STL_d(...STL_1(x))))), x (B, H*W, C).
class RstbImpl : public torch::nn::Module {
 public:
  /// `blocks` holds one SwinBlockOptions per STL (>= 1); `three_conv` selects resi_connection "3conv".
  RstbImpl(const std::vector<SwinBlockOptions>& blocks, bool three_conv);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& shift_mask);

  std::shared_ptr<torch::nn::Module> residual_group;  ///< child holding `blocks` (residual_group.blocks.<j>)
  std::vector<SwinTransformerBlock> blocks;
  SwinResiConv conv;
};
TORCH_MODULE(Rstb);

/// (B, H*W, C) tokens -> (B, C, H, W) map (official PatchUnEmbed) and back (PatchEmbed without norm).
torch::Tensor swin_tokens_to_map(const torch::Tensor& tokens, int64_t height, int64_t width);
torch::Tensor swin_map_to_tokens(const torch::Tensor& map);

// --- shared with omnisr, atd ---

/// The multi-head core of WindowAttentionImpl::forward (which calls it), for attention modules whose
/// projections are named or biased differently (OmniSR's block / grid attention: to_qkv, to_out; ATD's
/// attn_win, whose q, k, v come from its layer's shared projection): `qkv` (B', N, 3C) is
/// the output of the qkv projection (q, k, v each C = heads x head_dim, head-major); returns
/// softmax(q k^T * head_dim^-0.5 + bias + mask) v with the heads merged, (B', N, C), before the output
/// projection. `bias_table` ((2M-1)^2, heads) is looked up with `index` (N, N) from
/// swin_relative_position_index (skipped when `bias_table` is undefined); `mask` (nW, N, N) or undefined.
/// Computed by the (q, k, v, scale, bias, mask) overload below.
torch::Tensor swin_window_attention_core(const torch::Tensor& qkv, int64_t num_heads, const torch::Tensor& bias_table,
                                         const torch::Tensor& index, const torch::Tensor& mask);

}  // namespace srlab::models

// --- shared with dat ---
// Rectangular-window generalisations (Chen et al., "Dual Aggregation Transformer for Image
// Super-Resolution", ICCV 2023, Sec. 3.2: spatial windows of Mh x Mw tokens). With Mh == Mw == M and
// shifts in (0, M) they compute exactly what the square-window functions above compute.
namespace srlab::models {

/// (B,H,W,C) -> (B*nW, Mh*Mw, C), nW = (H/Mh)*(W/Mw) windows in row-major window order, tokens row-major
/// inside a window (DAT's img2windows on the channels-last map). H, W multiples of Mh, Mw.
torch::Tensor swin_window_partition(const torch::Tensor& x, int64_t window_h, int64_t window_w);

/// Inverse of the rectangular swin_window_partition: (B*nW, Mh*Mw, C) -> (B,H,W,C) (DAT's windows2img).
torch::Tensor swin_window_reverse(const torch::Tensor& windows, int64_t window_h, int64_t window_w, int64_t height,
                                  int64_t width);

/// Relative position index of an Mh x Mw window: (Mh*Mw, Mh*Mw) int64, entry [i][j] =
/// (y_i - y_j + Mh - 1) * (2Mw - 1) + (x_i - x_j + Mw - 1); indexes rows of a ((2Mh-1)(2Mw-1), heads) table.
torch::Tensor swin_relative_position_index(int64_t window_h, int64_t window_w);

/// Shifted-window attention mask for Mh x Mw windows on an HxW map cyclically shifted by (shift_h,
/// shift_w): (nW, Mh*Mw, Mh*Mw) float32, 0 for token pairs of the same region, -100 otherwise. Regions
/// along each axis as in swin_shift_attention_mask; a shift of 0 along an axis makes that axis one region
/// (what the official slice-based construction yields for slice(-0, None)). Requires H, W multiples of
/// Mh, Mw and 0 <= shift < window per axis; throws srlab::Error otherwise.
torch::Tensor swin_rect_shift_attention_mask(int64_t height, int64_t width, int64_t window_h, int64_t window_w,
                                             int64_t shift_h, int64_t shift_w, torch::Device device = torch::kCPU);

/// The attention core of window self-attention: softmax(q * scale @ k^T + bias + mask) @ v (used by
/// WindowAttention through the qkv overload above, and by DAT's spatial attention directly). q, k, v: (B*nW, heads, N, d); bias: (heads, N, N) or undefined; mask:
/// (nW, N, N) or undefined (windows of one image consecutive, as swin_window_partition orders them).
/// Returns (B*nW, heads, N, d).
torch::Tensor swin_window_attention_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         double scale, const torch::Tensor& bias, const torch::Tensor& mask);

/// Stochastic depth as SwinTransformerBlock applies it: identity unless `training` and p > 0, else
/// x * Bernoulli(1-p) / (1-p) per sample (dim 0), drawn from the CPU generator.
torch::Tensor swin_drop_path(const torch::Tensor& x, double p, bool training);
// --- shared with hat ---
// Generalisations used by HAT (models/arch/hat.h): attention with a caller-supplied bias and unequal
// query/key counts (HAT's overlapping cross-attention), the relative-bias lookup, and the two-layer MLP
// under the official key names (also used by SwinTransformerBlock). HAT's window attention is
// WindowAttention without its own index buffer (own_index false; HAT keeps one relative_position_index_SA).

/// softmax(q k^T * d^-0.5 + bias + mask) v with heads merged back: q (B', h, Nq, d), k and v (B', h, Nk, d),
/// bias (h, Nq, Nk), mask (nW, Nq, Nk) with B' a multiple of nW, or undefined -> (B', Nq, h*d). The same
/// arithmetic as WindowAttentionImpl::forward between qkv and proj (both call swin_window_attention_core).
torch::Tensor swin_biased_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& bias, const torch::Tensor& mask);

/// Rows of `table` (R, h) picked by `index` (Nq, Nk) int64 (negative entries count from the end, as
/// Python indexing) as a (h, Nq, Nk) attention bias.
torch::Tensor swin_relative_bias(const torch::Tensor& table, const torch::Tensor& index);

/// The official Mlp (fc1, GELU (erf form), fc2) registered as child "mlp" of `parent` with fc1, fc2;
/// Linear weights N(0, 0.02) (trunc. +-2), zero biases. (..., C) -> (..., C).
struct SwinMlp {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::Tensor operator()(const torch::Tensor& x);
};
SwinMlp register_swin_mlp(torch::nn::Module& parent, int64_t dim, int64_t hidden);

/// Initialises a Linear as the official _init_weights: N(0, 0.02) truncated at +-2, zero bias.
void swin_init_linear(torch::nn::Linear& linear);

}  // namespace srlab::models
