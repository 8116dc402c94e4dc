// HAT hyperparameters from an official state dict (keys of XPixelGroup/HAT hat_arch.py; the inference
// rules follow what the weights determine, as spandrel's HAT loader does:
// chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/HAT/__init__.py).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/detect_util.h"
#include "models/arch/hat.h"

namespace srlab::models {

namespace {
const std::string kGroup0 = "layers.0.residual_group.";
const std::string kHatBlock0 = kGroup0 + "blocks.0.";


/// The integer ratio r with dim / r == width (integer division), preferring dim / width when exact (the
/// reference _inv_int_div for integer ratios); throws naming `key` when there is none.
int inverse_int_div(int64_t dim, int64_t width, const std::string& name, const std::string& key) {
  if (width >= 1) {
    if (dim % width == 0) return static_cast<int>(dim / width);
    for (int64_t r : {dim / width + 1, dim / width})
      if (r >= 1 && dim / r == width) return static_cast<int>(r);
  }
  throw Error(fmt::format("HAT weights: '{}' has {} channels, which is embed_dim {} // {} for no integer {}", key, width,
                          dim, name, name));
}

/// overlap_ratio r with int(M * r) + M == Mo: the reference's "nice" ratios first, else (Mo - M + 0.5) / M.
double overlap_ratio_for(int64_t m, int64_t mo) {
  for (double r : {0.0, 1.0, 0.5, 0.25, 0.75, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9})
    if (static_cast<int64_t>(static_cast<double>(m) * r) + m == mo) return r;
  return (static_cast<double>(mo - m) + 0.5) / static_cast<double>(m);
}

}  // namespace

std::optional<DetectedModel> detect_hat(const StateDict& sd) {
  if (!has_key(sd, kHatBlock0 + "conv_block.cab.0.weight") || !has_key(sd, kGroup0 + "overlap_attn.relative_position_bias_table"))
    return std::nullopt;
  if (has_key(sd, "absolute_pos_embed"))
    throw Error("HAT weights with 'absolute_pos_embed' (ape=True) are not supported: the official models use none");
  const torch::Tensor& first = require_tensor(sd, "conv_first.weight", 4, "HAT");
  if (first.size(1) != 3)
    throw Error(fmt::format("HAT weights: 'conv_first.weight' takes {} input channels; SRLab loads RGB models (3)", first.size(1)));
  HatOptions o;
  o.embed_dim = static_cast<int>(first.size(0));

  // Reconstruction: conv_before_upsample.0 (C -> F), upsample.0, .2, ... (F -> 4F each, or one F -> 9F at x3).
  if (!has_key(sd, "conv_before_upsample.0.weight") || !has_key(sd, "upsample.0.weight"))
    throw Error("HAT weights without the pixelshuffle upsampler (conv_before_upsample.0 / upsample.0; scale-1 "
                "restoration models) are not super-resolution models SRLab loads");
  o.num_feat = static_cast<int>(require_tensor(sd, "conv_before_upsample.0.weight", 4, "HAT").size(0));
  int convs = 0;
  while (has_key(sd, "upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
  const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "HAT").size(0);
  if (convs == 1 && out == 9LL * o.num_feat)
    o.scale = 3;
  else if (out == 4LL * o.num_feat)
    o.scale = 1 << convs;
  else
    throw Error(fmt::format("HAT weights: 'upsample.0.weight' has {} outputs, expected 4 x num_feat ({}) or 9 x num_feat",
                            out, 4 * o.num_feat));

  const int layers = count_indexed(sd, "layers.", ".residual_group.overlap_attn.relative_position_bias_table");
  o.depths.clear();
  o.num_heads.clear();
  for (int i = 0; i < layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".residual_group.";
    o.depths.push_back(count_indexed(sd, p + "blocks.", ".norm1.weight"));
    o.num_heads.push_back(static_cast<int>(require_tensor(sd, p + "overlap_attn.relative_position_bias_table", 2, "HAT").size(1)));
  }
  const std::string sa_table = kHatBlock0 + "attn.relative_position_bias_table";
  const int64_t side = exact_sqrt(require_tensor(sd, sa_table, 2, "HAT").size(0));
  if (side < 1 || side % 2 == 0)
    throw Error(fmt::format("HAT weights: '{}' has {} rows, expected (2 x window - 1)^2", sa_table, require_tensor(sd, sa_table, 2, "HAT").size(0)));
  o.window_size = static_cast<int>((side + 1) / 2);
  const std::string oca_table = kGroup0 + "overlap_attn.relative_position_bias_table";
  const int64_t oca_side = exact_sqrt(require_tensor(sd, oca_table, 2, "HAT").size(0));  // M + Mo - 1
  if (oca_side < 2 * o.window_size - 1)
    throw Error(fmt::format("HAT weights: '{}' has {} rows, expected (window + overlap window - 1)^2 with window {}",
                            oca_table, require_tensor(sd, oca_table, 2, "HAT").size(0), o.window_size));
  o.overlap_ratio = overlap_ratio_for(o.window_size, oca_side + 1 - o.window_size);

  const std::string cab0 = kHatBlock0 + "conv_block.cab.0.weight", att1 = kHatBlock0 + "conv_block.cab.3.attention.1.weight";
  o.compress_ratio = inverse_int_div(o.embed_dim, require_tensor(sd, cab0, 4, "HAT").size(0), "compress_ratio", cab0);
  o.squeeze_factor = inverse_int_div(o.embed_dim, require_tensor(sd, att1, 4, "HAT").size(0), "squeeze_factor", att1);

  const int64_t hidden = require_tensor(sd, kHatBlock0 + "mlp.fc1.weight", 2, "HAT").size(0);
  o.mlp_ratio = static_cast<double>(hidden) / o.embed_dim;
  if (static_cast<int64_t>(o.embed_dim * o.mlp_ratio) != hidden)
    throw Error(fmt::format("HAT weights: mlp.fc1 width {} is not int(embed_dim {} x mlp_ratio) for any representable ratio",
                            hidden, o.embed_dim));
  o.identity_resi = !has_key(sd, "conv_after_body.weight");
  o.patch_norm = has_key(sd, "patch_embed.norm.weight");
  o.qkv_bias = has_key(sd, kHatBlock0 + "attn.qkv.bias");

  const auto [key, problem] = hat_validate(o);
  if (!key.empty()) throw Error("HAT weights: inferred " + key + " " + problem);
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: hat, embed_dim: {}, depths: {}, num_heads: {}, window_size: {}, compress_ratio: {}, squeeze_factor: {}, "
      "conv_scale: 0.01, overlap_ratio: {}, mlp_ratio: {}, img_size: 64, resi_connection: {}, num_feat: {}, "
      "img_range: 1.0, patch_norm: {}, qkv_bias: {}}}",
      o.embed_dim, int_list(o.depths), int_list(o.num_heads), o.window_size, o.compress_ratio, o.squeeze_factor,
      o.overlap_ratio, o.mlp_ratio, o.identity_resi ? "identity" : "1conv", o.num_feat, o.patch_norm, o.qkv_bias);
  return d;
}

}  // namespace srlab::models
