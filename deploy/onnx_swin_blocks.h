#pragma once
// ONNX emitters shared by the exporters of the Swin-family generators (SwinIR, and the zoo transformers
// HAT, DRCT, ATD, RGT, DAT, OmniSR that reuse models/arch/swinir_blocks.h): token LayerNorm, Linear,
// cyclic shift, window partition/reverse, window attention with relative position bias and the
// shifted-window mask computed from the runtime size, the Swin Transformer layer, resi_connection, the
// reflect padding to a window multiple and SwinIR's reconstruction tails. Each mirrors the LibTorch
// module of swinir_blocks.h node for node (reference: SwinIR, Liang et al., ICCVW 2021;
// github.com/JingyunLiang/SwinIR models/network_swinir.py).
//
// Size-dependent values are computed in the graph from the runtime shape (a traced export would freeze
// them, SwinIR issue 145): ceil(H/M), ceil(W/M) is the shape of x[:, :, ::M, ::M], so padding, partition
// Reshapes and the final crop need no integer Div/Mod.
// LayerNorm is ReduceMean/Sub/Mul/Sqrt/Div (opsets 13-17; LayerNormalization is opset 17), GELU is the
// erf form (onnx_blocks.h), Linear is MatMul with the transposed weight (+ Add of the bias).
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "deploy/onnx_blocks.h"
#include "deploy/onnx_export.h"
#include "models/arch/swinir_blocks.h"

namespace srlab::models {

/// Slice end meaning "to the end of the axis" (ends are clamped to the dims).
constexpr int64_t kOnnxSliceEnd = std::numeric_limits<int32_t>::max();

/// Runtime-size values of a window-attention trunk with square windows of M tokens and C channels
/// (swin_onnx_pad_to_windows builds them). All are int64 1-D graph values.
struct SwinOnnxShapes {
  int64_t m = 0, c = 0;
  std::string n;          ///< [N]
  std::string hw;         ///< [H, W] of the input
  std::string blocks;     ///< [ceil(H/M), ceil(W/M)]
  std::string padded_hw;  ///< [Hp, Wp] = blocks * M
  std::string part;       ///< [N, Hp/M, M, Wp/M, M, C]: map -> windows before the Transpose
  std::string rev;        ///< [N, Hp/M, Wp/M, M, M, C]: windows -> map before the Transpose
  std::string map4;       ///< [N, Hp, Wp, C]
  std::string mask;       ///< (nW, M^2, M^2) shifted-window mask (swin_onnx_shift_mask), or ""
};

/// Reflect-pads (N,3,H,W) `lr` at the bottom/right to multiples of `window` (as the references'
/// check_image_size) and fills `s` (m = window, c = dim, mask empty). Returns the padded input.
std::string swin_onnx_pad_to_windows(OnnxGraph& g, const std::string& lr, int64_t window, int64_t dim, SwinOnnxShapes& s);

/// The shifted-window mask of swin_shift_attention_mask(Hp, Wp, M, shift) for the runtime padded size:
/// (nW, M^2, M^2), 0 within a region, -100 across regions. Values are named "mask_*" (one per graph).
std::string swin_onnx_shift_mask(OnnxGraph& g, const SwinOnnxShapes& s, int64_t shift);

/// Unsqueeze of `x` at `axis`.
std::string onnx_unsqueeze(OnnxGraph& g, const std::string& x, int64_t axis, const std::string& hint);

/// torch::nn::LayerNorm over the last axis of (..., C) `x`; initializers "<key>.weight", "<key>.bias".
std::string onnx_layer_norm(OnnxGraph& g, const std::string& x, const torch::nn::LayerNormImpl& ln, const std::string& key);

/// torch::nn::Linear on (..., in) `x`; initializers "<key>.weight" (out, in) and "<key>.bias" when present.
std::string onnx_linear(OnnxGraph& g, const std::string& x, const torch::nn::LinearImpl& l, const std::string& key);

/// torch::roll(x, {d, d}, {1, 2}) of channels-last (N, Hp, Wp, C) `x`, |d| < min(Hp, Wp).
std::string swin_onnx_roll(OnnxGraph& g, const std::string& x, int64_t d, const std::string& key);

/// swin_window_partition of the (N, Hp, Wp, C) map `x` (any value Reshape accepts as s.map4):
/// -> (N*nW, M^2, C).
std::string swin_onnx_partition(OnnxGraph& g, const std::string& x, const SwinOnnxShapes& s, const std::string& key);

/// swin_window_reverse: (N*nW, M^2, C) -> (N, Hp, Wp, C).
std::string swin_onnx_reverse(OnnxGraph& g, const std::string& windows, const SwinOnnxShapes& s, const std::string& key);

/// The attention core softmax(q k^T * d^-0.5 + bias + mask) v with heads merged: `q`, `k`, `v`
/// (B*nW, h, Nq|Nk, d); `bias` (h, Nq, Nk) or ""; when `masked`, s.mask (nW, Nq, Nk) is added per image.
/// Returns (B*nW, Nq, h*d) (swin_biased_attention / swin_window_attention_core).
std::string swin_onnx_attention_core(OnnxGraph& g, const std::string& q, const std::string& k, const std::string& v,
                                     double scale, const std::string& bias, const SwinOnnxShapes& s, bool masked,
                                     int64_t heads, int64_t queries, int64_t keys, int64_t channels, const std::string& key);

/// Gathers rows of the bias `table` initializer by the `index` initializer into a (h, N, N) bias
/// (swin_relative_bias). `table_key`/`index_key` are the state-dict keys.
std::string swin_onnx_relative_bias(OnnxGraph& g, const torch::Tensor& table, const std::string& table_key,
                                    const torch::Tensor& index, const std::string& index_key, const std::string& key);

/// WindowAttentionImpl::forward on (B*nW, M^2, C) windows (qkv, relative bias, mask when `masked`, proj).
std::string swin_onnx_window_attention(OnnxGraph& g, const std::string& x, const WindowAttentionImpl& a,
                                       const std::string& key, const SwinOnnxShapes& s, bool masked);

/// SwinMlp (fc1, GELU, fc2) on (..., C); keys "<key>.fc1", "<key>.fc2".
std::string swin_onnx_mlp(OnnxGraph& g, const std::string& x, const SwinMlp& mlp, const std::string& key);

/// SwinTransformerBlockImpl::forward on (N, Hp*Wp, C) tokens (shift from its options; s.mask must be set
/// when it shifts).
std::string swin_onnx_block(OnnxGraph& g, const std::string& t, const SwinTransformerBlockImpl& b, const std::string& key,
                            const SwinOnnxShapes& s);

/// SwinResiConv (1conv / 3conv with LeakyReLU 0.2) on (N,C,H,W); keys "<key>" or "<key>.0/.2/.4".
std::string swin_onnx_resi_conv(OnnxGraph& g, const std::string& x, const SwinResiConv& rc, const std::string& key,
                                const std::string& type);

/// (N, Hp*Wp, C) tokens -> (N, C, Hp, Wp) map (swin_tokens_to_map) and back (swin_map_to_tokens).
std::string swin_onnx_tokens_to_map(OnnxGraph& g, const std::string& t, const SwinOnnxShapes& s, const std::string& key);
std::string swin_onnx_map_to_tokens(OnnxGraph& g, const std::string& map, const std::string& key);

/// (x - mean) * img_range with SwinIR's DIV2K mean (kSwinIrRgbMean); returns the normalised input and
/// sets `mean`/`range` to the constants for swin_onnx_denormalize.
std::string swin_onnx_normalize(OnnxGraph& g, const std::string& x, double img_range, std::string& mean, std::string& range);
/// y / img_range + mean, then the crop to (s*H, s*W) of the input (s.hw).
std::string swin_onnx_denormalize_crop(OnnxGraph& g, const std::string& y, const std::string& mean, const std::string& range,
                                       const SwinOnnxShapes& s, int64_t scale);

/// SwinIR's reconstruction modules, as the zoo transformers copy them (keys conv_before_upsample.0,
/// upsample.<2k>, conv_up1/2/3, conv_hr, conv_last). Unused members stay null.
struct SwinOnnxTail {
  enum class Kind { kPixelShuffle, kPixelShuffleDirect, kNearestConv } kind = Kind::kPixelShuffle;
  int64_t scale = 4;
  const torch::nn::Conv2dImpl* conv_before_upsample = nullptr;  ///< + LeakyReLU 0.01
  std::vector<const torch::nn::Conv2dImpl*> upsample;           ///< pixel shuffle stages (x2 each, one x3)
  const torch::nn::Conv2dImpl* conv_up[3] = {nullptr, nullptr, nullptr};  ///< nearest+conv, LeakyReLU 0.2
  const torch::nn::Conv2dImpl* conv_hr = nullptr;
  const torch::nn::Conv2dImpl* conv_last = nullptr;
};

namespace detail {
template <class T, class = void> struct HasConvHr : std::false_type {};
template <class T> struct HasConvHr<T, std::void_t<decltype(std::declval<T>().conv_hr)>> : std::true_type {};
template <class T, class = void> struct HasConvUp3 : std::false_type {};
template <class T> struct HasConvUp3<T, std::void_t<decltype(std::declval<T>().conv_up3)>> : std::true_type {};
inline const torch::nn::Conv2dImpl* conv_or_null(const torch::nn::Conv2d& c) { return c.is_empty() ? nullptr : c.get(); }
}  // namespace detail

/// The SwinOnnxTail of a generator whose members carry SwinIR's names: conv_before_upsample, upsample
/// (std::vector<Conv2d>), conv_last, and where the model has them conv_up1/2(/3) and conv_hr (the
/// nearest+conv upsampler). Empty modules stay null.
template <class Net>
SwinOnnxTail swin_onnx_tail_of(const Net& net, SwinOnnxTail::Kind kind, int64_t scale) {
  SwinOnnxTail t;
  t.kind = kind;
  t.scale = scale;
  t.conv_before_upsample = detail::conv_or_null(net.conv_before_upsample);
  for (const auto& u : net.upsample) t.upsample.push_back(u.get());
  t.conv_last = detail::conv_or_null(net.conv_last);
  if constexpr (detail::HasConvHr<Net>::value) {
    t.conv_up[0] = detail::conv_or_null(net.conv_up1);
    t.conv_up[1] = detail::conv_or_null(net.conv_up2);
    t.conv_hr = detail::conv_or_null(net.conv_hr);
  }
  if constexpr (detail::HasConvUp3<Net>::value) t.conv_up[2] = detail::conv_or_null(net.conv_up3);
  return t;
}

/// The tail on the (N, C, Hp, Wp) feature map `f`: pixelshuffle = LeakyReLU_0.01(conv_before_upsample),
/// (conv + DepthToSpace) stages, conv_last; pixelshuffledirect = upsample.0 + DepthToSpace(scale);
/// nearest+conv = conv_before_upsample + LeakyReLU 0.01, (nearest x2, conv, LeakyReLU 0.2) per conv_up,
/// LeakyReLU_0.2(conv_hr), conv_last. `type` names the generator in refusals.
std::string swin_onnx_tail(OnnxGraph& g, const std::string& f, const SwinOnnxTail& tail, const std::string& type);

// --- shared with omnisr ---

/// swin_onnx_pad_to_windows with the ONNX Pad `mode` of the bottom/right padding: "reflect" (the overload
/// above) or "constant" (zeros, as OmniSR's check_image_size). Pad node named "<mode>_pad".
std::string swin_onnx_pad_to_windows(OnnxGraph& g, const std::string& lr, int64_t window, int64_t dim, SwinOnnxShapes& s,
                                     const std::string& mode);

/// swin_onnx_relative_bias for an index that is no state-dict key (a non-persistent buffer such as OmniSR's
/// rel_pos_indices): the index is a Constant node, the table the initializer `table_key`. Returns (h, N, N).
std::string swin_onnx_relative_bias_const(OnnxGraph& g, const torch::Tensor& table, const std::string& table_key,
                                          const torch::Tensor& index, const std::string& key);

/// swin_window_attention_core(qkv, heads, table, index, mask) (the qkv overload): (B', N, 3C) `qkv` split
/// into heads as (3, B', h, N, C/h), softmax(q k^T (C/h)^-0.5 + bias + mask) v, heads merged: (B', N, C).
/// `bias` (h, N, N) or ""; s.mask added when `masked` (as swin_onnx_attention_core).
std::string swin_onnx_qkv_attention(OnnxGraph& g, const std::string& qkv, int64_t heads, int64_t tokens, int64_t channels,
                                    const std::string& bias, const SwinOnnxShapes& s, bool masked, const std::string& key);

}  // namespace srlab::models

// --- shared with rgt, dat ---
// Rectangular-window generalisations (RGT's L-SA, DAT's spatial windows (Chen et al., ICCV 2023, Sec. 3.2): Mh x Mw windows, the rect shift
// mask, roll by (dh, dw)), mirroring swin_window_partition/swin_window_reverse(x, Mh, Mw, ...) and
// swin_rect_shift_attention_mask of models/arch/swinir_blocks.h. The map size is a runtime value (int64
// [Hp, Wp], multiples of Mh, Mw); the channel count is given per call, so one SwinOnnxRectShapes serves
// maps of any width (e.g. packed q|k|v and the attention output).
namespace srlab::models {

/// Runtime-size values of Mh x Mw windows on an (N, Hp, Wp, C) map. All are int64 1-D graph values.
struct SwinOnnxRectShapes {
  int64_t mh = 0, mw = 0;
  std::string n;          ///< [N], or [-1] for any leading batch (e.g. q, k, v stacked as 3N)
  std::string padded_hw;  ///< [Hp, Wp]
  std::string hb, wb;     ///< [Hp/Mh], [Wp/Mw]
};

/// Fills SwinOnnxRectShapes for Mh x Mw windows on a map of runtime size `padded_hw` (int64 [Hp, Wp],
/// multiples of Mh, Mw; integer Div) and batch `n` (int64 [N]). Values are named "<key>.*".
SwinOnnxRectShapes swin_onnx_rect_shapes(OnnxGraph& g, const std::string& n, const std::string& padded_hw, int64_t mh,
                                         int64_t mw, const std::string& key);

/// swin_window_partition(x, Mh, Mw) of the (N, Hp, Wp, C) map `x`: -> (N*nW, Mh*Mw, C), windows row-major.
std::string swin_onnx_rect_partition(OnnxGraph& g, const std::string& x, const SwinOnnxRectShapes& r, int64_t c,
                                     const std::string& key);

/// swin_window_reverse(windows, Mh, Mw, Hp, Wp): (N*nW, Mh*Mw, C) -> (N, Hp, Wp, C).
std::string swin_onnx_rect_reverse(OnnxGraph& g, const std::string& windows, const SwinOnnxRectShapes& r, int64_t c,
                                   const std::string& key);

/// torch::roll(x, {dh, dw}, {1, 2}) of channels-last (N, Hp, Wp, C) `x` (Slice + Concat per axis; an axis
/// with d == 0 is left alone), |dh| < Hp, |dw| < Wp.
std::string swin_onnx_rect_roll(OnnxGraph& g, const std::string& x, int64_t dh, int64_t dw, const std::string& key);

/// swin_rect_shift_attention_mask(Hp, Wp, Mh, Mw, shift_h, shift_w) for the runtime size of `r`:
/// (nW, Mh*Mw, Mh*Mw) in the compute type, 0 within a region, -100 across regions (a shift of 0 makes
/// its axis one region). 0 <= shift < window per axis. Values are named "<key>.*".
std::string swin_onnx_rect_shift_mask(OnnxGraph& g, const SwinOnnxRectShapes& r, int64_t shift_h, int64_t shift_w,
                                      const std::string& key);

// --- shared with atd ---

/// Fills `s` (m = window, c = dim, mask empty) for the (N,3,H,W) input `lr` as swin_onnx_pad_to_windows
/// does, without emitting a padding: for exporters whose model pads differently (ATD's mirror with the
/// edge repeated).
void swin_onnx_window_shapes(OnnxGraph& g, const std::string& lr, int64_t window, int64_t dim, SwinOnnxShapes& s);

}  // namespace srlab::models

// --- shared with hat, drct ---
namespace srlab::models {

/// WindowAttentionImpl::forward(x, index, mask) for attention without its own index buffer (HAT's HAB,
/// own_index false): as swin_onnx_window_attention on (B*nW, M^2, C) windows, with the caller's (h, N, N)
/// `bias` value (swin_onnx_table_bias) instead of the module's table and index.
std::string swin_onnx_window_attention_biased(OnnxGraph& g, const std::string& x, const WindowAttentionImpl& a,
                                              const std::string& bias, const std::string& key, const SwinOnnxShapes& s,
                                              bool masked);

/// swin_relative_bias(table, index) of graph values: Gather rows of `table` (R, h) by `index` (Nq, Nk)
/// int64 (negative entries count from the end, as ONNX Gather and Python do; entries must lie in [-R, R))
/// -> (h, Nq, Nk). For an index shared by several modules (HAT's relative_position_index_SA / _OCA).
std::string swin_onnx_table_bias(OnnxGraph& g, const std::string& table, const std::string& index, const std::string& key);

/// A copy of `s` for a trunk of `c` channels (s.c = c; part, rev, map4 rebuilt; same N, sizes and mask):
/// DRCT's dense layers run Swin layers on C + k*gc channels over the same padded map.
SwinOnnxShapes swin_onnx_shapes_with_dim(OnnxGraph& g, const SwinOnnxShapes& s, int64_t c, const std::string& key);

/// The shifted-window mask each block uses, for every "*attn_mask" buffer of `net` (LibTorch uses the
/// stored buffer when the padded input is img_size x img_size, else the mask computed for the runtime
/// size, `s.mask`): a buffer equal to swin_shift_attention_mask(img_size, img_size, M, shift) is marked
/// reproduced and maps to s.mask; one that differs (weight files in the wild carry modified masks) is
/// stored under its key and selected at run time by onnx_select_at_size. Returns buffer key -> mask
/// value. Refuses (refuse_onnx_export(type, ...)) a buffer that exists although no window is shifted.
std::map<std::string, std::string> swin_onnx_block_masks(const torch::nn::Module& net, OnnxGraph& g, const SwinOnnxShapes& s,
                                                         int64_t img_size, int64_t shift, const std::string& type);

/// `s` with the mask of the block whose attn_mask buffer is `buffer_key` (from swin_onnx_block_masks),
/// or `s` unchanged when there is none.
SwinOnnxShapes swin_onnx_with_block_mask(const SwinOnnxShapes& s, const std::map<std::string, std::string>& masks,
                                         const std::string& buffer_key);

/// If node: `at_size` when the runtime `padded_hw` ([Hp, Wp]) equals [height, width], else `otherwise`
/// (both float values of the compute type; each branch an Identity of the outer value). Nodes "<key>.*".
std::string onnx_select_at_size(OnnxGraph& g, const std::string& padded_hw, int64_t height, int64_t width,
                                const std::string& at_size, const std::string& otherwise, const std::string& key);

}  // namespace srlab::models
