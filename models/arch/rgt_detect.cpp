// RGT hyperparameters from a reference state dict (keys of zhengchen1999/RGT rgt_arch.py; the inference
// rules follow what the weights determine, as spandrel's RGT loader does: chaiNNer-org/spandrel
// libs/spandrel/spandrel/architectures/RGT/__init__.py).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/detect_util.h"
#include "models/arch/rgt.h"

namespace srlab::models {

namespace {
const std::string kRgtBlock0 = "layers.0.blocks.0.";


/// [Sh, Sw] of the L-SA windows. The shapes give Sh*Sw (relative_position_index rows) and
/// (2Sh-1)(2Sw-1) (rpe_biases rows), i.e. the pair up to order; the first stored offset of branch 0,
/// (1-Sh, 1-Sw), gives the order (spandrel assumes Sh <= Sw when Sh != Sw, wrong for e.g. [16, 8]).
std::vector<int> rgt_split_size_from_keys(const StateDict& sd) {
  const std::string p = kRgtBlock0 + "attn.attns.0.";
  const torch::Tensor& index = require_tensor(sd, p + "relative_position_index", 2, "RGT");
  const torch::Tensor& rpe = require_tensor(sd, p + "rpe_biases", 2, "RGT");
  const int64_t a = index.size(0), b = rpe.size(0);
  std::vector<std::pair<int64_t, int64_t>> solutions;
  for (int64_t sh = 1; sh * sh <= a; ++sh)
    if (a % sh == 0 && (2 * sh - 1) * (2 * (a / sh) - 1) == b) solutions.push_back({sh, a / sh});
  if (solutions.empty() || rpe.size(1) != 2)
    throw Error(fmt::format("RGT weights: '{}rpe_biases' ({} rows) and 'relative_position_index' ({} rows) fit no "
                            "split_size [Sh, Sw] (expected (2Sh-1)(2Sw-1) and Sh*Sw rows)", p, b, a));
  auto [sh, sw] = solutions.front();  // sh <= sw
  if (sh != sw) {
    // The buffer holds exact integers in files saved by the reference, but is only a buffer: take the
    // nearer of the two orders (ties keep Sh <= Sw, spandrel's choice).
    const torch::Tensor first = rpe[0].to(torch::kFloat64);
    const double dy = first[0].item<double>(), dx = first[1].item<double>();
    const auto dist = [&](int64_t h, int64_t w) { return std::abs(dy - (1.0 - h)) + std::abs(dx - (1.0 - w)); };
    if (dist(sw, sh) < dist(sh, sw)) std::swap(sh, sw);
  }
  if (sh < 2 || sw < 2)
    throw Error(fmt::format("RGT weights: split_size [{}, {}] is not supported (entries must be >= 2)", sh, sw));
  return {static_cast<int>(sh), static_cast<int>(sw)};
}

/// Scale and num_feat from conv_before_upsample.0 and the upsample.<2i> convs.
std::pair<int, int> rgt_upsampler_from_keys(const StateDict& sd) {
  const int feat = static_cast<int>(require_tensor(sd, "conv_before_upsample.0.weight", 4, "RGT").size(0));
  int convs = 0;  // upsample.0, upsample.2, ...: one conv per pixel-shuffle stage
  while (has_key(sd, "upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
  if (convs == 0) throw Error("RGT weights: 'upsample.0.weight' is missing (scale 1 models are not supported)");
  const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "RGT").size(0);
  if (convs == 1 && out == 9LL * feat) return {3, feat};
  if (out != 4LL * feat)
    throw Error(fmt::format("RGT weights: 'upsample.0.weight' has {} outputs, expected 4 x num_feat ({}) or 9 x num_feat",
                            out, 4 * feat));
  return {1 << convs, feat};
}

}  // namespace

std::optional<DetectedModel> detect_rgt(const StateDict& sd) {
  // Distinguishing keys: the HAI scale `gamma` and the gated MLP under `mlp.sg` directly below
  // layers.<i>.blocks.<j> (DAT: `ffn.sg`, no gamma; SwinIR/HAT/DRCT/ATD: layers.<i>.residual_group...).
  if (!has_keys(sd, {kRgtBlock0 + "gamma", kRgtBlock0 + "mlp.sg.conv.weight", kRgtBlock0 + "attn.attns.0.rpe_biases",
                     kRgtBlock0 + "attn.get_v.weight", "before_RG.1.weight"}))
    return std::nullopt;
  const torch::Tensor& first = require_tensor(sd, "conv_first.weight", 4, "RGT");
  if (first.size(1) != 3)
    throw Error(fmt::format("RGT weights: 'conv_first.weight' takes {} input channels; SRLab loads RGB models (3)", first.size(1)));
  RgtOptions o;
  o.embed_dim = static_cast<int>(first.size(0));
  std::tie(o.scale, o.num_feat) = rgt_upsampler_from_keys(sd);

  const int layers = count_indexed(sd, "layers.", ".blocks.0.norm1.weight");
  o.depth.clear();
  o.num_heads.clear();
  for (int i = 0; i < layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".blocks.";
    o.depth.push_back(count_indexed(sd, p, ".norm1.weight"));
    // L-SA halves have num_heads / 2 heads each: num_heads is 2h or 2h + 1, whichever divides embed_dim.
    const int half = static_cast<int>(require_tensor(sd, p + "0.attn.attns.0.pos.pos3.2.weight", 2, "RGT").size(0));
    o.num_heads.push_back(o.embed_dim % (2 * half) == 0 ? 2 * half : 2 * half + 1);
  }
  const torch::Tensor& fc1 = require_tensor(sd, kRgtBlock0 + "mlp.fc1.weight", 2, "RGT");
  o.mlp_ratio = static_cast<double>(fc1.size(0)) / static_cast<double>(fc1.size(1));
  if (static_cast<int64_t>(o.embed_dim * o.mlp_ratio) != fc1.size(0))
    throw Error(fmt::format("RGT weights: mlp.fc1 width {} is not int(embed_dim {} x mlp_ratio) for any representable ratio",
                            fc1.size(0), o.embed_dim));
  o.qkv_bias = has_key(sd, kRgtBlock0 + "attn.qkv.bias");
  o.three_conv = !has_key(sd, "conv_after_body.weight");
  for (int i = 0; i < layers; ++i)  // c_ratio: from the first RG-SA block (reference default 0.5 without one)
    if (o.depth[i] >= 2) {
      const torch::Tensor& conv = require_tensor(sd, "layers." + std::to_string(i) + ".blocks.1.attn.conv.weight", 4, "RGT");
      o.c_ratio = static_cast<double>(conv.size(0)) / static_cast<double>(conv.size(1));
      break;
    }
  o.split_size = rgt_split_size_from_keys(sd);
  o.img_size = 64;  // the reference's; a shifted block's attn_mask_0 ((img/Sh)*(img/Sw) windows) shows it
  bool found = false;
  for (int i = 0; i < layers && !found; ++i)
    for (int j = 0; j < o.depth[i] && !found; ++j) {
      const std::string key = fmt::format("layers.{}.blocks.{}.attn.attn_mask_0", i, j);
      if (!rgt_block_shifted(i, j) || !has_key(sd, key)) continue;
      const int64_t windows = require_tensor(sd, key, 3, "RGT").size(0), area = windows * o.split_size[0] * o.split_size[1];
      const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(area))));
      if (side * side != area) throw Error("RGT weights: '" + key + "' does not hold the windows of a square img_size");
      o.img_size = static_cast<int>(side);
      found = true;
    }

  const auto [key, problem] = rgt_validate(o);
  if (!key.empty()) throw Error("RGT weights: inferred " + key + " " + problem);
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: rgt, embed_dim: {}, depth: {}, num_heads: {}, mlp_ratio: {}, qkv_bias: {}, split_size: {}, c_ratio: {}, "
      "img_size: {}, resi_connection: {}, num_feat: {}, img_range: 1.0}}",
      o.embed_dim, int_list(o.depth), int_list(o.num_heads), o.mlp_ratio, o.qkv_bias, int_list(o.split_size), o.c_ratio,
      o.img_size, o.three_conv ? "3conv" : "1conv", o.num_feat);
  return d;
}

}  // namespace srlab::models
