// SwinIR hyperparameters from an official state dict (keys of JingyunLiang/SwinIR network_swinir.py; the
// inference rules follow what the weights determine, as spandrel's SwinIR loader does:
// chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/SwinIR/__init__.py).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/swinir.h"
#include "models/arch/detect_util.h"

namespace srlab::models {

namespace {
const std::string kSwinIrBlock0 = "layers.0.residual_group.blocks.0.";


/// Upsampler, scale and num_feat from the reconstruction keys.
std::tuple<SwinIrUpsampler, int, int> swinir_upsampler_from_keys(const StateDict& sd) {
  if (has_key(sd, "conv_before_upsample.0.weight")) {
    const int feat = static_cast<int>(require_tensor(sd, "conv_before_upsample.0.weight", 4, "SwinIR").size(0));
    if (has_key(sd, "conv_up1.weight")) {
      int n = 0;  // conv_up1, conv_up2, conv_up3: one per x2 stage
      while (has_key(sd, "conv_up" + std::to_string(n + 1) + ".weight")) ++n;
      if (n > 3) throw Error(fmt::format("SwinIR weights: {} conv_up layers; the official nearest+conv has 1 to 3", n));
      return {SwinIrUpsampler::kNearestConv, 1 << n, feat};
    }
    int convs = 0;  // upsample.0, upsample.2, ...: one conv per pixel-shuffle stage
    while (has_key(sd, "upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
    if (convs == 0) throw Error("SwinIR weights: 'conv_before_upsample.0.weight' without 'upsample.0.weight'");
    const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "SwinIR").size(0);
    if (convs == 1 && out == 9LL * feat) return {SwinIrUpsampler::kPixelShuffle, 3, feat};
    if (out != 4LL * feat)
      throw Error(fmt::format("SwinIR weights: 'upsample.0.weight' has {} outputs, expected 4 x num_feat ({}) or 9 x num_feat",
                              out, 4 * feat));
    return {SwinIrUpsampler::kPixelShuffle, 1 << convs, feat};
  }
  if (has_key(sd, "upsample.0.weight")) {
    const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "SwinIR").size(0);
    const int64_t s = out % 3 == 0 ? exact_sqrt(out / 3) : -1;
    if (s < 1)
      throw Error(fmt::format("SwinIR weights: 'upsample.0.weight' has {} outputs, expected 3 x scale^2", out));
    return {SwinIrUpsampler::kPixelShuffleDirect, static_cast<int>(s), 64};
  }
  throw Error("SwinIR weights without upsampler (the denoising / JPEG-artifact models, scale 1) are not super-resolution "
              "models; SRLab loads the pixelshuffle, pixelshuffledirect and nearest+conv variants");
}

}  // namespace

std::optional<DetectedModel> detect_swinir(const StateDict& sd) {
  if (!has_key(sd, kSwinIrBlock0 + "attn.relative_position_bias_table") || !has_key(sd, kSwinIrBlock0 + "norm1.weight")) return std::nullopt;
  if (has_key(sd, "conv_first.1.weight"))
    throw Error("SwinIR weights with 'conv_first.1.weight' (an input pixel-unshuffle, not in the official code) are not supported");
  if (has_key(sd, "absolute_pos_embed"))
    throw Error("SwinIR weights with 'absolute_pos_embed' (ape=True) are not supported: the official SR models use none");
  const torch::Tensor& first = require_tensor(sd, "conv_first.weight", 4, "SwinIR");
  if (first.size(1) != 3)
    throw Error(fmt::format("SwinIR weights: 'conv_first.weight' takes {} input channels; SRLab loads RGB models (3)", first.size(1)));
  SwinIrOptions o;
  std::tie(o.upsampler, o.scale, o.num_feat) = swinir_upsampler_from_keys(sd);
  o.embed_dim = static_cast<int>(first.size(0));

  const int layers = count_indexed(sd, "layers.", ".residual_group.blocks.0.norm1.weight");
  o.depths.clear();
  o.num_heads.clear();
  for (int i = 0; i < layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".residual_group.blocks.";
    o.depths.push_back(count_indexed(sd, p, ".norm1.weight"));
    o.num_heads.push_back(static_cast<int>(require_tensor(sd, p + "0.attn.relative_position_bias_table", 2, "SwinIR").size(1)));
  }
  const int64_t table_rows = require_tensor(sd, kSwinIrBlock0 + "attn.relative_position_bias_table", 2, "SwinIR").size(0);
  const int64_t side = exact_sqrt(table_rows);
  if (side < 1 || side % 2 == 0)
    throw Error(fmt::format("SwinIR weights: relative_position_bias_table has {} rows, expected (2 x window - 1)^2", table_rows));
  o.window_size = static_cast<int>((side + 1) / 2);

  const int64_t hidden = require_tensor(sd, kSwinIrBlock0 + "mlp.fc1.weight", 2, "SwinIR").size(0);
  o.mlp_ratio = static_cast<double>(hidden) / o.embed_dim;
  if (static_cast<int64_t>(o.embed_dim * o.mlp_ratio) != hidden)
    throw Error(fmt::format("SwinIR weights: mlp.fc1 width {} is not int(embed_dim {} x mlp_ratio) for any representable ratio",
                            hidden, o.embed_dim));

  o.img_size = 64;  // official default; revealed by a shifted block's attn_mask when one exists
  int shifted_layer = -1;  // a layer with a second (shifted) block
  for (int i = 0; i < layers && shifted_layer < 0; ++i)
    if (o.depths[i] > 1) shifted_layer = i;
  const std::string mask_key = "layers." + std::to_string(shifted_layer) + ".residual_group.blocks.1.attn_mask";
  if (shifted_layer >= 0 && has_key(sd, mask_key)) {
    const int64_t per_side = exact_sqrt(require_tensor(sd, mask_key, 3, "SwinIR").size(0));
    if (per_side < 1) throw Error("SwinIR weights: '" + mask_key + "' does not hold a square number of windows");
    o.img_size = static_cast<int>(per_side * o.window_size);
  } else if (shifted_layer >= 0) {
    o.img_size = o.window_size;  // second blocks unshifted: the official model had img_size <= window_size
  }
  o.three_conv = !has_key(sd, "conv_after_body.weight");
  o.patch_norm = has_key(sd, "patch_embed.norm.weight");
  o.qkv_bias = has_key(sd, kSwinIrBlock0 + "attn.qkv.bias");

  const auto [key, problem] = swinir_validate(o);
  if (!key.empty()) throw Error("SwinIR weights: inferred " + key + " " + problem);
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: swinir, upsampler: {}, embed_dim: {}, depths: {}, num_heads: {}, window_size: {}, mlp_ratio: {}, "
      "img_size: {}, resi_connection: {}, num_feat: {}, img_range: 1.0, patch_norm: {}, qkv_bias: {}}}",
      swinir_upsampler_name(o.upsampler), o.embed_dim, int_list(o.depths), int_list(o.num_heads), o.window_size,
      o.mlp_ratio, o.img_size, o.three_conv ? "3conv" : "1conv", o.num_feat, o.patch_norm, o.qkv_bias);
  return d;
}

}  // namespace srlab::models
