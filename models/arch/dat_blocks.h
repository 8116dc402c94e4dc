#pragma once
// Building blocks of DAT: Chen et al., "Dual Aggregation Transformer for Image Super-Resolution",
// ICCV 2023 (Sec. 3.2-3.3, Fig. 2-3): the dual spatial Transformer block (DSTB: rectangular-window
// self-attention with a dynamic position bias), the dual channel Transformer block (DCTB: transposed
// channel self-attention), the adaptive interaction module (AIM) that couples each attention branch with
// a parallel depth-wise convolution branch, and the spatial-gate feed-forward network (SGFN).
//
// Module layout and state-dict keys follow the official code (zhengchen1999/DAT, basicsr/archs/dat_arch.py;
// the copy in chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/DAT/__arch/DAT.py). C = embed dim,
// h = heads of the residual group, (Mh, Mw) = split_size:
//   DSTB attn   qkv (Linear C -> 3C), proj (Linear C -> C), attns.<0|1> (one window branch per half of the
//               channels: branch 0 Mh x Mw windows, branch 1 Mw x Mh windows, h/2 heads each) holding the
//               buffers rpe_biases ((2Mh-1)(2Mw-1), 2) float and relative_position_index (MhMw, MhMw) int64
//               and pos (pos_proj Linear 2 -> P, pos1/pos2/pos3 = [LayerNorm P, ReLU, Linear]; pos3 ends
//               in h/2 outputs; P = ((C/2)/4)/4, integer division: P = 0 for C < 32),
//               attn_mask_0 / attn_mask_1 buffers on shifted blocks, dwconv, channel_interaction,
//               spatial_interaction (AIM, below)
//   DCTB attn   temperature (h,1,1), qkv, proj, dwconv, channel_interaction, spatial_interaction
//   AIM         dwconv = [Conv2d C->C 3x3 depth-wise, BatchNorm2d, GELU] (keys .0, .1);
//               channel_interaction = [AdaptiveAvgPool 1, Conv2d C->C/8 1x1, BatchNorm2d, GELU,
//               Conv2d C/8->C 1x1] (keys .1, .2, .4); spatial_interaction = [Conv2d C->C/16 1x1,
//               BatchNorm2d, GELU, Conv2d C/16->1 1x1] (keys .0, .1, .3)
//   block       norm1, attn, norm2 (LayerNorm C), ffn (SGFN: fc1 C->E, GELU, sg = spatial gate on the
//               second half of the E channels: sg.norm LayerNorm E/2, sg.conv depth-wise 3x3, times the first
//               half; fc2 E/2 -> C), E = int(C * expansion_factor)
//   group       blocks.<j> (even j: DSTB, odd j: DCTB), conv (resi_connection, SwinResiConv)
// Token layout (B, L = H*W, C), token t = pixel (t / W, t % W). GELU is the erf form; LayerNorm eps 1e-5;
// BatchNorm eps 1e-5, momentum 0.1 (running statistics in eval mode, batch statistics in training).
#include <torch/torch.h>

#include <utility>
#include <vector>

#include "models/arch/swinir_blocks.h"

namespace srlab::models {

/// True for the DSTBs whose windows are shifted: in even residual groups blocks 2, 6, 10, ..., in odd
/// groups blocks 0, 4, 8, ... (official Adaptive_Spatial_Attention).
bool dat_block_shifted(int64_t group_index, int64_t block_index);

/// The pair of shifted-window masks of a DSTB for an H x W (padded) map: branch 0 for Mh x Mw windows
/// shifted by (Mh/2, Mw/2), branch 1 for Mw x Mh windows shifted by (Mw/2, Mh/2). Each (nW, MhMw, MhMw)
/// float32 with 0 / -100 (official calculate_mask). H, W multiples of max(Mh, Mw).
std::pair<torch::Tensor, torch::Tensor> dat_shift_masks(int64_t height, int64_t width, int64_t split_h, int64_t split_w,
                                                        torch::Device device = torch::kCPU);

/// GELU (erf form, as torch::gelu / nn.GELU) whose backward is correct for any memory layout of the incoming
/// gradient. x any shape/dtype -> same values as torch::gelu(x), in a contiguous tensor; a gradient hook hands
/// at::gelu_backward a gradient and an input in the same (contiguous) layout. Reason: LibTorch 1.13's CPU
/// at::gelu_backward (erf form, float32) returns wrong values (garbage that changes from call to call) when the
/// gradient's strides differ from the input's, which DAT's AIM produces: its dwconv branch (NCHW) leaves as
/// tokens through a permute, so the gradient arriving at that GELU is channels-last while its input is NCHW.
torch::Tensor dat_gelu(const torch::Tensor& x);

/// dat_gelu as a parameter-free module, for the nn.Sequential slots where the reference has nn.GELU().
class DatGeluImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x) { return dat_gelu(x); }
};
TORCH_MODULE(DatGelu);

/// The AIM convolution branch and the two interaction maps (see the file comment), registered on the
/// owning attention module under dwconv, channel_interaction, spatial_interaction.
struct DatInteraction {
  torch::nn::Sequential dwconv{nullptr}, channel_interaction{nullptr}, spatial_interaction{nullptr};
};
/// Registers a DatInteraction of width `dim` (>= 16) on `parent`.
DatInteraction register_dat_interaction(torch::nn::Module& parent, int64_t dim);

/// Linear layer of the dynamic position bias (weight (out, in), bias (out); keys as torch::nn::Linear).
/// Unlike torch::nn::Linear it accepts in = 0 or out = 0 (the official pos_dim is 0 for embed_dim < 32,
/// where PyTorch's nn.Linear builds empty weights and LibTorch's refuses). Initialised N(0, 0.02), zero bias.
class DatPosLinearImpl : public torch::nn::Module {
 public:
  DatPosLinearImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
};
TORCH_MODULE(DatPosLinear);

/// Dynamic relative position bias (official DynamicPosBias, residual=False): (R, 2) relative offsets ->
/// (R, heads) = pos3(pos2(pos1(pos_proj(offsets)))), each posK = LayerNorm, ReLU, Linear.
class DatDynamicPosBiasImpl : public torch::nn::Module {
 public:
  DatDynamicPosBiasImpl(int64_t pos_dim, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& offsets);
  DatPosLinear pos_proj{nullptr};
  torch::nn::Sequential pos1{nullptr}, pos2{nullptr}, pos3{nullptr};
};
TORCH_MODULE(DatDynamicPosBias);

/// One window branch of a DSTB (official Spatial_Attention; key attns.<branch>): multi-head attention
/// inside Mh x Mw windows (branch 0) or Mw x Mh windows (branch 1) on precomputed q, k, v.
/// forward: qkv (3, B, H*W, c) with H, W multiples of the window, mask (nW, N, N) or undefined ->
/// (B, H, W, c). Uses the rpe_biases and relative_position_index buffers as stored (loaded weights included).
class DatWindowBranchImpl : public torch::nn::Module {
 public:
  DatWindowBranchImpl(int64_t dim, int64_t window_h, int64_t window_w, int64_t num_heads);
  torch::Tensor forward(const torch::Tensor& qkv, int64_t height, int64_t width, const torch::Tensor& mask);
  torch::Tensor rpe_biases, relative_position_index;
  DatDynamicPosBias pos{nullptr};
  int64_t window_h, window_w, num_heads;
};
TORCH_MODULE(DatWindowBranch);

/// Hyperparameters of one DAT block.
struct DatBlockOptions {
  int64_t dim = 180;
  int64_t num_heads = 2;
  int64_t split_h = 2, split_w = 4;  ///< split_size
  int64_t img_size = 64;             ///< the size the attn_mask_* buffers are built for (official reso)
  double expansion_factor = 4.0;
  bool qkv_bias = true;
  int64_t group_index = 0, block_index = 0;  ///< rg_idx, b_idx: even b_idx = DSTB, else DCTB
  double drop_path = 0.0;
};

/// Adaptive spatial self-attention (DSTB attention, official Adaptive_Spatial_Attention): x (B, H*W, C)
/// -> same shape, any H, W >= 1 (q, k, v are zero-padded at the bottom/right to a multiple of
/// max(Mh, Mw), attended, cropped). `masks` are the dat_shift_masks for the padded size, used by shifted
/// blocks when that size differs from img_size x img_size (else the block's own buffers); may be undefined.
class DatSpatialAttentionImpl : public torch::nn::Module {
 public:
  explicit DatSpatialAttentionImpl(const DatBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width,
                        const std::pair<torch::Tensor, torch::Tensor>& masks);
  bool shifted() const { return shifted_; }

  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  std::vector<DatWindowBranch> attns;
  torch::Tensor attn_mask_0, attn_mask_1;  ///< shifted blocks only
  DatInteraction aim;

 private:
  DatBlockOptions options_;
  bool shifted_;
};
TORCH_MODULE(DatSpatialAttention);

/// Adaptive channel self-attention (DCTB attention, official Adaptive_Channel_Attention): per head,
/// softmax(normalize(q) normalize(k)^T * temperature) over the channel dimension. x (B, H*W, C) -> same.
class DatChannelAttentionImpl : public torch::nn::Module {
 public:
  DatChannelAttentionImpl(int64_t dim, int64_t num_heads, bool qkv_bias);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width);

  torch::Tensor temperature;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  DatInteraction aim;
  int64_t num_heads;
};
TORCH_MODULE(DatChannelAttention);

/// Spatial-gate feed-forward network (official SGFN; key ffn): x (B, H*W, C) -> same shape.
class DatSgfnImpl : public torch::nn::Module {
 public:
  DatSgfnImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  std::shared_ptr<torch::nn::Module> sg;  ///< child "sg" holding norm and conv
  torch::nn::LayerNorm sg_norm{nullptr};
  torch::nn::Conv2d sg_conv{nullptr};
};
TORCH_MODULE(DatSgfn);

/// DAT block (official DATB): x + DropPath(attn(LN(x))), then x + DropPath(SGFN(LN(x))).
/// x (B, H*W, C) -> same shape.
class DatBlockImpl : public torch::nn::Module {
 public:
  explicit DatBlockImpl(const DatBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width,
                        const std::pair<torch::Tensor, torch::Tensor>& masks);
  const DatBlockOptions& options() const { return options_; }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  DatSpatialAttention spatial{nullptr};  ///< key attn (even blocks)
  DatChannelAttention channel{nullptr};  ///< key attn (odd blocks)
  DatSgfn ffn{nullptr};

 private:
  DatBlockOptions options_;
};
TORCH_MODULE(DatBlock);

/// Residual group (official ResidualGroup): x + tokens(conv(map(blocks(x)))). x (B, H*W, C) -> same.
class DatResidualGroupImpl : public torch::nn::Module {
 public:
  DatResidualGroupImpl(const std::vector<DatBlockOptions>& blocks, bool three_conv);
  torch::Tensor forward(const torch::Tensor& x, int64_t height, int64_t width,
                        const std::pair<torch::Tensor, torch::Tensor>& masks);
  std::vector<DatBlock> blocks;
  SwinResiConv conv;
};
TORCH_MODULE(DatResidualGroup);

}  // namespace srlab::models
