#pragma once
// DAT: Chen et al., "Dual Aggregation Transformer for Image Super-Resolution", ICCV 2023 (Sec. 3.1,
// Fig. 2): shallow feature conv, residual groups of alternating dual spatial / dual channel Transformer
// blocks (dat_blocks.h) with a long skip, and the SwinIR-style reconstruction:
//   pixelshuffle        conv_before_upsample (Conv2d C->F 3x3 + LeakyReLU 0.01), upsample (log2(s) x
//                       [Conv2d F->4F, PixelShuffle 2], or Conv2d F->9F, PixelShuffle 3 at x3; keys
//                       upsample.0, upsample.2, ...), conv_last (F->3)      (DAT, DAT-S, DAT-2)
//   pixelshuffledirect  upsample.0 (Conv2d C -> 3s^2) + PixelShuffle s     (DAT-light)
// (C = embed_dim, F = num_feat = 64 in the official code.)
//
// Layout, state-dict keys and forward follow the official code (zhengchen1999/DAT basicsr/archs/dat_arch.py,
// as copied into chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/DAT/__arch/DAT.py):
// conv_first, before_RG.1 (LayerNorm C on the tokens), layers.<i> (residual groups: blocks.<j>, conv),
// norm, conv_after_body (1conv: Conv2d; 3conv: conv_after_body.0/.2/.4), then the upsampler keys above.
// forward(x): x = (x - mean) * img_range with the DIV2K mean (0.4488, 0.4371, 0.4040), f = conv_first(x),
// f = conv_after_body(norm(groups(before_RG(f)))) + f, reconstruct, y = y / img_range + mean. No image
// padding: the spatial attention zero-pads q, k, v to a multiple of max(split_size) itself, so any
// h, w >= 1 works and the output is exactly (s*h, s*w).
// Initialisation as the official _init_weights: Linear N(0, 0.02) (trunc. at +-2) with zero bias,
// LayerNorm / BatchNorm 1/0, temperature 1; convs keep LibTorch's default init. In training, stochastic
// depth rises linearly from 0 to drop_path_rate over all blocks and the BatchNorms use batch statistics.
//
// YAML (`model:` section; defaults are the official constructor's; official models: DAT embed_dim 180,
// depth [6]*6, num_heads [6]*6, split_size [8, 32]; DAT-S split_size [8, 16]; DAT-2 expansion_factor 2;
// DAT-light embed_dim 60, depth [18], num_heads [6], expansion_factor 2, pixelshuffledirect, 3conv):
//   type: dat
//   upsampler: pixelshuffle   # pixelshuffle | pixelshuffledirect
//   embed_dim: 180            # C: even, >= 16, divisible by every num_heads entry
//   split_size: [2, 4]        # [Mh, Mw] spatial window (branch 0 Mh x Mw, branch 1 Mw x Mh); max % min == 0
//   depth: [2, 2, 2, 2]       # blocks per residual group (one group per entry)
//   num_heads: [2, 2, 2, 2]   # heads per group (>= 2; the spatial branches use num_heads/2 each)
//   expansion_factor: 4.0     # SGFN hidden = int(C * expansion_factor), even
//   qkv_bias: true
//   img_size: 64              # training patch size the attn_mask_* buffers are built for (a multiple of Mh and Mw)
//   resi_connection: 1conv    # 1conv | 3conv
//   num_feat: 64              # F of pixelshuffle (official: fixed 64)
//   img_range: 1.0            # > 0
//   drop_path_rate: 0.1       # stochastic depth in training, [0, 1)
// Scales: 2, 3, 4, 8.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/dat_blocks.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"
#include "models/arch/swinir.h"

namespace srlab::models {

struct DatOptions {
  int scale = 4;
  bool direct_upsampler = false;  ///< upsampler "pixelshuffledirect" (else "pixelshuffle")
  int embed_dim = 180;
  std::vector<int> split_size{2, 4};
  std::vector<int> depth{2, 2, 2, 2};
  std::vector<int> num_heads{2, 2, 2, 2};
  double expansion_factor = 4.0;
  bool qkv_bias = true;
  int img_size = 64;
  bool three_conv = false;  ///< resi_connection "3conv" (else "1conv")
  int num_feat = 64;
  double img_range = 1.0;
  double drop_path_rate = 0.1;
};

/// DAT generator (see the file comment). forward: (N,3,h,w) float in [0,1], any h, w >= 1 ->
/// (N,3,s*h,s*w), not clamped. Throws srlab::Error for a malformed batch.
class DatImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid options (message names the option).
  explicit DatImpl(const DatOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "dat"; }
  const DatOptions& options() const { return options_; }

  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::LayerNorm before_rg{nullptr}, norm{nullptr};  ///< before_rg: key before_RG.1
  std::vector<DatResidualGroup> layers;
  SwinResiConv conv_after_body;
  torch::nn::Conv2d conv_before_upsample{nullptr};  ///< key conv_before_upsample.0
  std::vector<torch::nn::Conv2d> upsample;          ///< keys upsample.0, upsample.2, ...
  torch::nn::Conv2d conv_last{nullptr};

 private:
  bool any_shifted() const;
  DatOptions options_;
};

/// The first invalid option as {key, problem}, or {"", ""} when all are valid (scale not checked).
std::pair<std::string, std::string> dat_validate(const DatOptions& options);

/// Registry factory for "dat": reads the keys of the file comment (errors name the key).
Generator make_dat(const core::Config& params, int scale);

/// Infers a DAT `model:` section and scale from official state-dict keys and shapes (dat_detect.cpp):
/// recognised by the SGFN spatial gate and the AIM of block 0 (layers.0.blocks.0.ffn.sg.conv.weight,
/// layers.0.blocks.0.attn.dwconv.0.weight) next to before_RG.1.weight; split_size from the shapes of the
/// first branch's rpe_biases ((2Mh-1)(2Mw-1) rows) and relative_position_index ((MhMw)^2), its order from the
/// index's values; img_size from a shifted block's attn_mask_0; the rest as spandrel's DAT loader.
/// Returns std::nullopt for other architectures' keys; throws srlab::Error naming the key for
/// inconsistent or unsupported DAT weights.
std::optional<DetectedModel> detect_dat(const StateDict& state_dict);

/// Registers "dat" (called from builtin_generators.cpp).
void register_dat();

}  // namespace srlab::models
