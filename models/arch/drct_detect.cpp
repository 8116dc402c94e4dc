// DRCT hyperparameters from an official state dict (keys of ming053l/DRCT DRCT_arch.py; the inference
// rules follow what the weights determine, as spandrel's DRCT loader does:
// chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/DRCT/__init__.py).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/drct.h"
#include "models/arch/detect_util.h"

namespace srlab::models {

namespace {
const std::string kSwin1 = "layers.0.swin1.";


}  // namespace

std::optional<DetectedModel> detect_drct(const StateDict& sd) {
  if (!has_key(sd, kSwin1 + "attn.relative_position_bias_table") || !has_key(sd, "layers.0.adjust1.weight")) return std::nullopt;
  if (has_key(sd, "absolute_pos_embed"))
    throw Error("DRCT weights with 'absolute_pos_embed' (ape=True) are not supported: the official models use none");
  const torch::Tensor& first = require_tensor(sd, "conv_first.weight", 4, "DRCT");
  if (first.size(1) != 3)
    throw Error(fmt::format("DRCT weights: 'conv_first.weight' takes {} input channels; SRLab loads RGB models (3)", first.size(1)));
  DrctOptions o;
  o.embed_dim = static_cast<int>(first.size(0));

  if (!has_key(sd, "conv_before_upsample.0.weight") || !has_key(sd, "conv_last.weight"))
    throw Error("DRCT weights without the pixelshuffle upsampler (conv_before_upsample.0 / conv_last: the official "
                "upsampler '' returns the features unchanged) are not super-resolution models SRLab loads");
  const int64_t feat = require_tensor(sd, "conv_before_upsample.0.weight", 4, "DRCT").size(0);
  if (feat != kDrctNumFeat)
    throw Error(fmt::format("DRCT weights: 'conv_before_upsample.0.weight' has {} outputs; the official DRCT fixes num_feat at {}",
                            feat, kDrctNumFeat));
  int convs = 0;
  while (has_key(sd, "upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
  if (convs == 0) throw Error("DRCT weights: 'conv_before_upsample.0.weight' without 'upsample.0.weight'");
  const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "DRCT").size(0);
  if (convs == 1 && out == 9 * feat)
    o.scale = 3;
  else if (out == 4 * feat)
    o.scale = 1 << convs;
  else
    throw Error(fmt::format("DRCT weights: 'upsample.0.weight' has {} outputs, expected 4 x 64 or 9 x 64", out));

  int layers = 0;
  while (has_key(sd, "layers." + std::to_string(layers) + ".swin1.attn.relative_position_bias_table")) ++layers;
  o.depths.assign(layers, 6);  // no trace in the weights: the reference's per-RDG default
  o.num_heads.clear();
  for (int i = 0; i < layers; ++i)
    o.num_heads.push_back(
        static_cast<int>(require_tensor(sd, "layers." + std::to_string(i) + ".swin1.attn.relative_position_bias_table", 2, "DRCT").size(1)));
  const int64_t rows = require_tensor(sd, kSwin1 + "attn.relative_position_bias_table", 2, "DRCT").size(0);
  const int64_t side = exact_sqrt(rows);
  if (side < 1 || side % 2 == 0)
    throw Error(fmt::format("DRCT weights: swin1 relative_position_bias_table has {} rows, expected (2 x window - 1)^2", rows));
  o.window_size = static_cast<int>((side + 1) / 2);

  const int64_t hidden = require_tensor(sd, kSwin1 + "mlp.fc1.weight", 2, "DRCT").size(0);
  o.mlp_ratio = static_cast<double>(hidden) / o.embed_dim;
  if (static_cast<int64_t>(o.embed_dim * o.mlp_ratio) != hidden)
    throw Error(fmt::format("DRCT weights: swin1 mlp.fc1 width {} is not int(embed_dim {} x mlp_ratio) for any representable ratio",
                            hidden, o.embed_dim));
  o.gc = static_cast<int>(require_tensor(sd, "layers.0.adjust1.weight", 4, "DRCT").size(0));

  const std::string mask_key = "layers.0.swin2.attn_mask";
  if (has_key(sd, mask_key)) {
    const int64_t per_side = exact_sqrt(require_tensor(sd, mask_key, 3, "DRCT").size(0));
    if (per_side < 1) throw Error("DRCT weights: '" + mask_key + "' does not hold a square number of windows");
    o.img_size = static_cast<int>(per_side * o.window_size);
  } else {
    o.img_size = o.window_size;  // swin2 unshifted: the official model had img_size <= window_size
  }
  o.identity_resi = !has_key(sd, "conv_after_body.weight");
  o.patch_norm = has_key(sd, "patch_embed.norm.weight");
  o.qkv_bias = has_key(sd, kSwin1 + "attn.qkv.bias");

  const auto [key, problem] = drct_validate(o);
  if (!key.empty()) throw Error("DRCT weights: inferred " + key + " " + problem);
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: drct, embed_dim: {}, depths: {}, num_heads: {}, window_size: {}, mlp_ratio: {}, img_size: {}, "
      "resi_connection: {}, gc: {}, img_range: 1.0, patch_norm: {}, qkv_bias: {}}}",
      o.embed_dim, int_list(o.depths), int_list(o.num_heads), o.window_size, o.mlp_ratio, o.img_size,
      o.identity_resi ? "identity" : "1conv", o.gc, o.patch_norm, o.qkv_bias);
  return d;
}

}  // namespace srlab::models
