// ATD hyperparameters from an official state dict (keys of the official atd_arch.py; the inference rules
// follow spandrel's ATD loader: chaiNNer-org/spandrel libs/spandrel/spandrel/architectures/ATD/__init__.py).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/atd.h"
#include "models/arch/detect_util.h"

namespace srlab::models {

namespace {
const std::string kLayer0 = "layers.0.residual_group.layers.0.";


/// Upsampler, scale and num_feat from the reconstruction keys.
std::tuple<AtdUpsampler, int, int> atd_upsampler_from_keys(const StateDict& sd) {
  if (has_key(sd, "conv_up1.weight")) {
    const int feat = static_cast<int>(require_tensor(sd, "conv_before_upsample.0.weight", 4, "ATD").size(0));
    return {AtdUpsampler::kNearestConv, 4, feat};
  }
  if (has_key(sd, "conv_before_upsample.0.weight")) {
    const int feat = static_cast<int>(require_tensor(sd, "conv_before_upsample.0.weight", 4, "ATD").size(0));
    int convs = 0;  // upsample.0, upsample.2, ...: one conv per pixel-shuffle stage
    while (has_key(sd, "upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
    if (convs == 0) throw Error("ATD weights: 'conv_before_upsample.0.weight' without 'upsample.0.weight'");
    const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "ATD").size(0);
    if (convs == 1 && out == 9LL * feat) return {AtdUpsampler::kPixelShuffle, 3, feat};
    if (out != 4LL * feat)
      throw Error(fmt::format("ATD weights: 'upsample.0.weight' has {} outputs, expected 4 x num_feat ({}) or 9 x num_feat",
                              out, 4 * feat));
    return {AtdUpsampler::kPixelShuffle, 1 << convs, feat};
  }
  if (has_key(sd, "upsample.0.weight")) {
    const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "ATD").size(0);
    const int64_t s = out % 3 == 0 ? exact_sqrt(out / 3) : -1;
    if (s < 1) throw Error(fmt::format("ATD weights: 'upsample.0.weight' has {} outputs, expected 3 x scale^2", out));
    return {AtdUpsampler::kPixelShuffleDirect, static_cast<int>(s), 64};
  }
  throw Error("ATD weights without upsampler (the denoising / JPEG-artifact models, scale 1) are not super-resolution "
              "models; SRLab loads the pixelshuffle, pixelshuffledirect and nearest+conv variants");
}

}  // namespace

std::optional<DetectedModel> detect_atd(const StateDict& sd) {
  // The dictionary and the ATD-CA / AC-MSA parameters exist in no other architecture (SwinIR, HAT, DRCT,
  // DAT and RGT share the layers.<i>.residual_group... prefix, HAT also relative_position_index_SA).
  if (!has_key(sd, "relative_position_index_SA") || !has_key(sd, "layers.0.residual_group.td") ||
      !has_key(sd, kLayer0 + "attn_atd.scale") || !has_key(sd, kLayer0 + "attn_aca.logit_scale"))
    return std::nullopt;
  if (has_key(sd, "absolute_pos_embed"))
    throw Error("ATD weights with 'absolute_pos_embed' (ape=True) are not supported: the official SR models use none");
  const torch::Tensor& first = require_tensor(sd, "conv_first.weight", 4, "ATD");
  if (first.size(1) != 3)
    throw Error(fmt::format("ATD weights: 'conv_first.weight' takes {} input channels; SRLab loads RGB models (3)", first.size(1)));
  AtdOptions o;
  std::tie(o.upsampler, o.scale, o.num_feat) = atd_upsampler_from_keys(sd);
  o.embed_dim = static_cast<int>(first.size(0));

  const torch::Tensor& rpi = require_tensor(sd, "relative_position_index_SA", 2, "ATD");
  const int64_t window = exact_sqrt(rpi.size(0));
  if (window < 1 || rpi.size(1) != rpi.size(0))
    throw Error(fmt::format("ATD weights: 'relative_position_index_SA' has shape {}, expected (window^2, window^2)",
                            c10::str(rpi.sizes())));
  o.window_size = static_cast<int>(window);

  const int blocks = count_indexed(sd, "layers.", ".residual_group.td");
  o.depths.clear();
  o.num_heads.clear();
  for (int i = 0; i < blocks; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".residual_group.layers.";
    const int depth = count_indexed(sd, p, ".norm1.weight");
    if (depth == 0) throw Error("ATD weights: 'layers." + std::to_string(i) + ".residual_group.td' without transformer layers");
    o.depths.push_back(depth);
    const std::string table = p + "0.attn_win.relative_position_bias_table";
    const torch::Tensor& t = require_tensor(sd, table, 2, "ATD");
    if (t.size(0) != (2 * window - 1) * (2 * window - 1))
      throw Error(fmt::format("ATD weights: '{}' has {} rows, expected (2 x window - 1)^2 = {} for window {}", table, t.size(0),
                              (2 * window - 1) * (2 * window - 1), window));
    o.num_heads.push_back(static_cast<int>(t.size(1)));
  }
  o.num_tokens = static_cast<int>(require_tensor(sd, kLayer0 + "attn_atd.scale", 1, "ATD").size(0));
  o.reducted_dim = static_cast<int>(require_tensor(sd, kLayer0 + "attn_atd.wq.weight", 2, "ATD").size(0));
  o.convffn_kernel_size = static_cast<int>(require_tensor(sd, kLayer0 + "convffn.dwconv.depthwise_conv.0.weight", 4, "ATD").size(2));
  const int64_t hidden = require_tensor(sd, kLayer0 + "convffn.fc1.weight", 2, "ATD").size(0);
  o.mlp_ratio = static_cast<double>(hidden) / o.embed_dim;
  if (static_cast<int64_t>(o.embed_dim * o.mlp_ratio) != hidden)
    throw Error(fmt::format("ATD weights: convffn.fc1 width {} is not int(embed_dim {} x mlp_ratio) for any representable ratio",
                            hidden, o.embed_dim));
  o.qkv_bias = has_key(sd, kLayer0 + "wqkv.bias");
  o.patch_norm = has_key(sd, "patch_embed.norm.weight");
  o.three_conv = !has_key(sd, "layers.0.conv.weight");
  o.norm = !has_key(sd, "no_norm");
  // category_size is not stored: spandrel's rule (ATD-light, 128, is the pixelshuffledirect model of width 48).
  o.category_size = o.upsampler == AtdUpsampler::kPixelShuffleDirect && o.embed_dim == 48 ? 128 : 256;

  const auto [key, problem] = atd_validate(o);
  if (!key.empty()) throw Error("ATD weights: inferred " + key + " " + problem);
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: atd, upsampler: {}, embed_dim: {}, depths: {}, num_heads: {}, window_size: {}, category_size: {}, "
      "num_tokens: {}, reducted_dim: {}, convffn_kernel_size: {}, mlp_ratio: {}, qkv_bias: {}, patch_norm: {}, "
      "resi_connection: {}, num_feat: {}, img_range: 1.0, norm: {}}}",
      atd_upsampler_name(o.upsampler), o.embed_dim, int_list(o.depths), int_list(o.num_heads), o.window_size,
      o.category_size, o.num_tokens, o.reducted_dim, o.convffn_kernel_size, o.mlp_ratio, o.qkv_bias, o.patch_norm,
      o.three_conv ? "3conv" : "1conv", o.num_feat, o.norm);
  return d;
}

}  // namespace srlab::models
