#pragma once
// ONNX emitters of DAT's blocks (models/arch/dat_blocks.h), used by deploy/onnx_dat.cpp; each mirrors the
// LibTorch module's eval-mode forward node for node:
//   DatBlock             LayerNorm, spatial or channel attention, residual; LayerNorm, SGFN, residual
//   spatial attention    qkv Linear; q, k, v stacked as (3B, H, W, C) and zero-padded (Pad) to multiples of
//                        max(Mh, Mw); per half of the channels: roll (shifted blocks), Mh x Mw (branch 0) or
//                        Mw x Mh (branch 1) window partition, attention with the dynamic position bias
//                        (pos MLP on the rpe_biases buffer, Gather by relative_position_index) and the runtime
//                        shift mask, window reverse, roll back, crop (Slice); AIM; proj Linear
//   channel attention    qkv Linear; L2-normalised q, k (ReduceL2, Max eps, Div) over the tokens, softmax of
//                        q k^T * temperature, context; AIM; proj Linear
//   AIM                  dwconv (depth-wise Conv, BatchNormalization, GELU) on v; channel interaction
//                        (GlobalAveragePool, Conv, BatchNormalization, GELU, Conv) and spatial interaction
//                        (Conv, BatchNormalization, GELU, Conv) as Sigmoid gates
//   SGFN                 fc1, GELU, Slice halves, LayerNorm + depth-wise Conv gate on the second, Mul, fc2
// In float16 graphs the normalisation's eps 1e-12 rounds to 0 (only an all-zero q or k row, which LibTorch
// maps to 0, would differ).
#include <array>
#include <map>
#include <string>

#include "deploy/onnx_swin_blocks.h"
#include "models/arch/dat_blocks.h"

namespace srlab::models {

/// Runtime-size values shared by every block of one DAT graph (int64 1-D values unless noted).
struct DatOnnxShapes {
  int64_t c = 0;                   ///< embed_dim
  std::string n;                   ///< [B]
  std::string hw;                  ///< [H, W] of the input (= the token map)
  std::string pads;                ///< Pad of the (3B, H, W, C) q, k, v map to (3B, Hp, Wp, C), Hp, Wp multiples of max(Mh, Mw)
  SwinOnnxRectShapes win[2];       ///< branch 0: Mh x Mw windows, branch 1: Mw x Mh
  int64_t win_channels = 0;        ///< C/2 channels per branch
  std::string mask[2];             ///< the branches' shifted-window masks (float), "" when no block shifts
  /// The masks each shifted block uses (key "layers.<i>.blocks.<j>.attn"): `mask` where its attn_mask_*
  /// buffers are the formula, else the If that picks the stored buffer at the padded size img_size x img_size.
  std::map<std::string, std::array<std::string, 2>> block_masks;
};

/// DatBlockImpl::forward (eval) on (B, H*W, C) tokens `t`; `key` = "layers.<i>.blocks.<j>".
std::string dat_onnx_block(OnnxGraph& g, const std::string& t, const DatBlockImpl& b, const std::string& key,
                           const DatOnnxShapes& s);

/// The parameters of the dynamic position bias MLP that are not stored when pos_dim is 0 (embed_dim < 32:
/// zero-size pos_proj, pos1, pos2, pos3.0 and pos3.2.weight, which hold no values; the bias is pos3.2.bias,
/// see dat_onnx_block). For pos_dim > 0 the exporter stores them all (the tests compare initializers with
/// the state dict), so the exemption only matters for the zero-size ones.
bool dat_onnx_folded_parameter(const std::string& key);

/// (B, H*W, C') tokens -> (B, C', H, W) map (swin_tokens_to_map at the runtime s.hw).
std::string dat_onnx_to_map(OnnxGraph& g, const std::string& t, const DatOnnxShapes& s, int64_t channels, const std::string& key);

}  // namespace srlab::models
