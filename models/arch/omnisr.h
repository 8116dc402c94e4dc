#pragma once
// OmniSR: Wang et al., "Omni Aggregation Networks for Lightweight Image Super-Resolution", CVPR 2023
// (Sec. 3, Fig. 3-5). A shallow 3x3 conv, res_num omni-scale aggregation groups (OSAG, Sec. 3.3) and a
// long skip, then a pixel-shuffle upsampler. Each OSAG is block_num omni self-attention blocks (OSA,
// Sec. 3.2), a 1x1 conv, a group skip and enhanced spatial attention (ESA). An OSA block runs, each with
// its own pre-norm residual: an MBConv (expansion 1, squeeze-excitation 0.25), window ("block")
// self-attention, a gated conv feed-forward, window channel attention, a gated FFN, grid self-attention,
// a gated FFN, grid channel attention, a gated FFN. Window and grid attention both use M x M groups
// (M = window_size): a window is M x M adjacent pixels, a grid group is M x M pixels at stride H/M, W/M.
//
// Layout, state-dict keys and forward follow the official code as copied into chaiNNer-org/spandrel
// (libs/spandrel/spandrel/architectures/OmniSR/__arch/{OmniSR,OSAG,OSA,esa,layernorm,pixelshuffle}.py),
// C = num_feat, s = scale:
//   input                    Conv2d 3 -> C, 3x3 (bias: `bias`)
//   residual_layer.<g>       OSAG, g < res_num:
//     residual_layer.<b>     OSA block, b < block_num; residual_layer.<block_num> Conv2d C -> C 1x1 (bias: `bias`)
//     esa                    ESA(max(C/4, 16), C): conv1, conv_f, conv2, conv3, conv4 (all with bias)
//   output                   Conv2d C -> C, 3x3 (bias: `bias`)
//   up.0                     Conv2d C -> 3 s^2, 3x3 (bias: `bias`), then pixel shuffle by s
// OSA block keys (layer.<i>; the odd gaps are the reference's parameter-free rearrange layers):
//   layer.0   MBConv: fn.0 (1x1), fn.2 (3x3 depthwise), fn.4.gate.1 / gate.3 (Linear, no bias), fn.5 (1x1)
//   layer.2   window attention, layer.8 grid attention: norm (LayerNorm C, eps 1e-5), fn.to_qkv
//             (Linear C -> 3C, no bias), fn.to_out.0 (Linear, no bias), fn.rel_pos_bias.weight
//             ((2M-1)^2, 4) when pe (4 heads of C/4 channels)
//   layer.4, 6, 10, 12   gated FFN: norm (LayerNorm2d C, eps 1e-6), fn.project_in (1x1 C -> 2C),
//             fn.dwconv (3x3 depthwise 2C), fn.project_out (1x1 C -> C), no biases
//   layer.5 (window), layer.11 (grid)   channel attention: norm (LayerNorm2d), fn.temperature (4,1,1),
//             fn.qkv (1x1 C -> 3C), fn.qkv_dwconv (3x3 depthwise 3C), fn.project_out (1x1), no biases
// forward(x): zero-pad x at the bottom/right to a multiple of M (the reference's check_image_size), r =
// input(x), y = output(OSAGs(r)) + r, up, crop to (s*h, s*w). No input normalisation. ESA needs the
// padded map to be >= 15 pixels on each side (its 7x7 / stride 3 max-pool after a stride-2 conv), so
// inputs must be at least that large after padding (spandrel: minimum 16); smaller inputs are an error.
// Initialisation: LibTorch's defaults, as the reference's PyTorch defaults (rel_pos_bias N(0,1) as
// nn.Embedding, temperature 1, LayerNorms 1/0).
//
// YAML (`model:` section; defaults are the reference constructor's):
//   type: omnisr
//   num_feat: 64      # C, a multiple of 4 (4 attention heads)
//   block_num: 1      # OSA blocks per OSAG (>= 1)
//   res_num: 1        # OSAGs (>= 1)
//   window_size: 8    # M (>= 1), window / grid size of the attentions and the padding multiple
//   pe: true          # relative position bias in the window / grid attentions
//   bias: true        # bias of input, output, up.0 and the OSAGs' 1x1 convs
// Supported scales: 1, 2, 3, 4, 8.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

struct OmniSrOptions {
  int scale = 4;
  int num_feat = 64;
  int block_num = 1;
  int res_num = 1;
  int window_size = 8;
  bool pe = true;
  bool bias = true;
};

/// Channel-first layer norm (reference layernorm.py LayerNorm2d): per pixel over C, biased variance,
/// y = weight * (x - mean) / sqrt(var + eps) + bias, eps 1e-6. (N,C,H,W) -> (N,C,H,W). Keys weight, bias.
class OmniLayerNorm2dImpl : public torch::nn::Module {
 public:
  explicit OmniLayerNorm2dImpl(int64_t channels, double eps = 1e-6);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  double eps;
};
TORCH_MODULE(OmniLayerNorm2d);

/// (N,C,H,W) -> (N * H/M * W/M, M*M, C): the reference "b d (x w1) (y w2) -> (b x y) (w1 w2) d" (windows
/// of adjacent pixels, as swin_window_partition on the channels-last map). H, W multiples of M.
torch::Tensor omnisr_window_tokens(const torch::Tensor& x, int64_t window);
/// (N,C,H,W) -> (N * H/M * W/M, M*M, C): the reference "b d (w1 x) (w2 y) -> (b x y) (w1 w2) d" (grid
/// groups: token (w1, w2) of group (x, y) is pixel (w1 * H/M + x, w2 * W/M + y)). H, W multiples of M.
torch::Tensor omnisr_grid_tokens(const torch::Tensor& x, int64_t window);
/// Inverses of the two above: tokens (N*nW, M*M, C) -> (N,C,H,W).
torch::Tensor omnisr_window_map(const torch::Tensor& tokens, int64_t window, int64_t height, int64_t width);
torch::Tensor omnisr_grid_map(const torch::Tensor& tokens, int64_t window, int64_t height, int64_t width);

/// Window / grid multi-head self-attention of OmniSR (reference OSA.py Attention): 4 heads of C/4,
/// softmax(q k^T / sqrt(C/4) + relative position bias) v, then to_out. (B', M*M, C) -> same shape. The
/// bias table is the nn.Embedding `rel_pos_bias` ((2M-1)^2, 4), indexed by swin_relative_position_index
/// (the reference's non-persistent rel_pos_indices: not in the state dict, so held as a plain tensor).
class OmniAttentionImpl : public torch::nn::Module {
 public:
  OmniAttentionImpl(int64_t dim, int64_t window, bool with_pe);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear to_qkv{nullptr}, to_out{nullptr};  ///< to_out: key to_out.0
  torch::nn::Embedding rel_pos_bias{nullptr};           ///< only when with_pe
  torch::Tensor rel_pos_indices;  ///< (M^2, M^2) int64, not registered; follows the table's device in forward
  int64_t heads = 4;
};
TORCH_MODULE(OmniAttention);

/// Window (grid = false; reference Channel_Attention) or grid (grid = true; Channel_Attention_grid)
/// channel attention: per group and head, q, k (head_dim x tokens) L2-normalised over the tokens,
/// softmax(q k^T * temperature) v (a head_dim x head_dim attention), then project_out.
/// qkv = qkv_dwconv(qkv(x)). (N,C,H,W) with H, W multiples of M -> (N,C,H,W).
class OmniChannelAttentionImpl : public torch::nn::Module {
 public:
  OmniChannelAttentionImpl(int64_t dim, int64_t window, bool grid);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor temperature;  ///< (4,1,1)
  torch::nn::Conv2d qkv{nullptr}, qkv_dwconv{nullptr}, project_out{nullptr};
  int64_t heads = 4, window;
  bool grid;
};
TORCH_MODULE(OmniChannelAttention);

/// Gated conv feed-forward (reference Gated_Conv_FeedForward, mult 1, no bias): a, b = dwconv(
/// project_in(x)) split in channels, project_out(gelu(a) * b). (N,C,H,W) -> (N,C,H,W).
class OmniGatedFfnImpl : public torch::nn::Module {
 public:
  explicit OmniGatedFfnImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d project_in{nullptr}, dwconv{nullptr}, project_out{nullptr};
};
TORCH_MODULE(OmniGatedFfn);

/// MBConv of OmniSR (reference OSA.py MBConv, expansion 1, shrinkage 0.25, no batch norm) with its
/// residual: x + fn.5(SE(gelu(fn.2(gelu(fn.0(x)))))), SE(t) = t * sigmoid(gate.3(silu(gate.1(mean_hw t)))).
/// (N,C,H,W) -> (N,C,H,W).
class OmniMbConvImpl : public torch::nn::Module {
 public:
  explicit OmniMbConvImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv_in{nullptr}, dwconv{nullptr}, conv_out{nullptr};  ///< fn.0, fn.2, fn.5
  torch::nn::Linear gate_down{nullptr}, gate_up{nullptr};                 ///< fn.4.gate.1, fn.4.gate.3
};
TORCH_MODULE(OmniMbConv);

/// OSA block (Sec. 3.2; reference OSA.py OSA_Block): the nine residual stages of the file comment.
/// (N,C,H,W) with H, W multiples of M -> (N,C,H,W).
class OsaBlockImpl : public torch::nn::Module {
 public:
  OsaBlockImpl(int64_t dim, int64_t window, bool with_pe);
  torch::Tensor forward(const torch::Tensor& x);
  OmniMbConv mbconv{nullptr};
  torch::nn::LayerNorm window_norm{nullptr}, grid_norm{nullptr};  ///< layer.2.norm, layer.8.norm
  OmniAttention window_attn{nullptr}, grid_attn{nullptr};         ///< layer.2.fn, layer.8.fn
  std::vector<OmniLayerNorm2d> conv_norms;                       ///< layer.4, 5, 6, 10, 11, 12 .norm
  std::vector<OmniGatedFfn> ffns;                                ///< layer.4, 6, 10, 12 .fn
  OmniChannelAttention window_channel{nullptr}, grid_channel{nullptr};  ///< layer.5.fn, layer.11.fn
  int64_t window;
};
TORCH_MODULE(OsaBlock);

/// Enhanced spatial attention as used by OmniSR (reference esa.py ESA, f = esa channels):
/// c1 = conv1(x) (1x1 C -> f); c = conv2(c1) (3x3 stride 2, no padding); c = max_pool(c, 7, stride 3);
/// c = conv3(c) (3x3); c = bilinear resize to H x W (align_corners false); m = sigmoid(conv4(c + conv_f(c1)))
/// (conv_f 1x1 f -> f, conv4 1x1 f -> C); x * m. (N,C,H,W) with H, W >= 15 -> (N,C,H,W).
class OmniEsaImpl : public torch::nn::Module {
 public:
  OmniEsaImpl(int64_t esa_channels, int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv_f{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr};
};
TORCH_MODULE(OmniEsa);

/// OSAG (Sec. 3.3; reference OSAG.py): esa(conv1x1(OSA_b(...OSA_1(x))) + x). (N,C,H,W) -> (N,C,H,W).
class OsagImpl : public torch::nn::Module {
 public:
  OsagImpl(int64_t dim, int64_t block_num, int64_t window, bool with_pe, bool bias);
  torch::Tensor forward(const torch::Tensor& x);
  std::vector<OsaBlock> blocks;  ///< residual_layer.0 .. block_num-1
  torch::nn::Conv2d conv{nullptr};  ///< residual_layer.<block_num>
  OmniEsa esa{nullptr};
};
TORCH_MODULE(Osag);

/// OmniSR generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,s*h,s*w), not
/// clamped. Throws srlab::Error for a malformed batch or an input too small once padded (see
/// omnisr_min_input_size).
class OmniSrImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit OmniSrImpl(const OmniSrOptions& options);
  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "omnisr"; }
  const OmniSrOptions& options() const { return options_; }

  torch::nn::Conv2d input{nullptr}, output{nullptr}, up{nullptr};  ///< up: key up.0
  std::vector<Osag> groups;                                        ///< residual_layer.<g>

 private:
  OmniSrOptions options_;
};

/// The smallest input side the reference runs at for window size M: the least h whose padding to a
/// multiple of M is >= 15 (ESA's max-pool needs 7 rows after its stride-2 conv).
int64_t omnisr_min_input_size(int64_t window);

/// Supported scales: 1, 2, 3, 4, 8.
std::vector<int> omnisr_scales();

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> omnisr_validate(const OmniSrOptions& options);

/// Registry factory for "omnisr": reads the keys of the file comment (errors name the key).
Generator make_omnisr(const core::Config& params, int scale);

/// Infers an OmniSR `model:` section and scale from reference state-dict keys and shapes (as spandrel's
/// OmniSR loader): num_feat from input.weight, bias from input.bias, scale from up.0.weight (3 s^2
/// outputs), res_num / block_num from the residual_layer indices, pe from rel_pos_bias and window_size
/// from its rows ((2M-1)^2; 8 when pe is off). std::nullopt unless the keys
/// residual_layer.0.residual_layer.0.layer.0.fn.0.weight, input.weight and up.0.weight all exist;
/// srlab::Error naming the key for inconsistent weights or non-RGB models.
std::optional<DetectedModel> detect_omnisr(const StateDict& state_dict);

/// Registers "omnisr" (called from builtin_generators.cpp).
void register_omnisr();

}  // namespace srlab::models
