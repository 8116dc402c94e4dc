// DAT hyperparameters from an official state dict (keys of zhengchen1999/DAT basicsr/archs/dat_arch.py).
// What the weights determine follows spandrel's DAT loader (chaiNNer-org/spandrel libs/spandrel/spandrel/
// architectures/DAT/__init__.py), except split_size: spandrel reads it from the values of rpe_biases
// (floats, which need not be exact offsets); here it comes from the shapes of the relative-position
// buffers, the order of the two sides from the integer relative_position_index.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/dat.h"
#include "models/arch/detect_util.h"

namespace srlab::models {

namespace {
const std::string kDatBlock0 = "layers.0.blocks.0.";


/// split_size [Mh, Mw] of the first spatial branch (attns.0 uses Mh x Mw windows): rpe_biases has
/// R = (2Mh-1)(2Mw-1) rows and relative_position_index is (P, P) with P = Mh*Mw, so Mh + Mw = (4P+1-R)/2
/// and Mh*Mw = P give the two sides; which one is Mh follows from the index's row stride (2Mw - 1).
std::vector<int> dat_split_size_from_keys(const StateDict& sd) {
  const std::string rk = kDatBlock0 + "attn.attns.0.rpe_biases", ik = kDatBlock0 + "attn.attns.0.relative_position_index";
  const torch::Tensor& rpe = require_tensor(sd, rk, 2, "DAT");
  const torch::Tensor& index = require_tensor(sd, ik, 2, "DAT");
  const int64_t r = rpe.size(0), p = index.size(0);
  if (rpe.size(1) != 2 || index.size(1) != p || p < 1)
    throw Error(fmt::format("DAT weights: '{}' [{}, {}] and '{}' [{}, {}] are not a window's offset table and index", rk,
                            rpe.size(0), rpe.size(1), ik, index.size(0), index.size(1)));
  const int64_t twice_sum = 4 * p + 1 - r, sum = twice_sum / 2;
  const int64_t root = twice_sum > 0 && twice_sum % 2 == 0 ? exact_sqrt(sum * sum - 4 * p) : -1;
  if (root < 0 || (sum - root) % 2 != 0 || (sum - root) / 2 < 1)
    throw Error(fmt::format("DAT weights: no window Mh x Mw has Mh*Mw = {} tokens ('{}') and (2Mh-1)(2Mw-1) = {} offsets "
                            "('{}')", p, ik, r, rk));
  const int64_t a = (sum - root) / 2, b = (sum + root) / 2;
  const torch::Tensor stored = index.to(torch::kLong);
  if (torch::equal(stored, swin_relative_position_index(a, b))) return {static_cast<int>(a), static_cast<int>(b)};
  if (torch::equal(stored, swin_relative_position_index(b, a))) return {static_cast<int>(b), static_cast<int>(a)};
  throw Error(fmt::format("DAT weights: '{}' is the index of neither a {}x{} nor a {}x{} window", ik, a, b, b, a));
}

/// Scale and num_feat from the reconstruction keys (pixelshuffle) or upsample.0 (pixelshuffledirect).
std::tuple<bool, int, int> dat_upsampler_from_keys(const StateDict& sd) {
  if (has_key(sd, "conv_before_upsample.0.weight")) {
    const int feat = static_cast<int>(require_tensor(sd, "conv_before_upsample.0.weight", 4, "DAT").size(0));
    int convs = 0;  // upsample.0, upsample.2, ...: one conv per pixel-shuffle stage
    while (has_key(sd, "upsample." + std::to_string(2 * convs) + ".weight")) ++convs;
    if (convs == 0) throw Error("DAT weights: 'conv_before_upsample.0.weight' without 'upsample.0.weight'");
    const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "DAT").size(0);
    if (convs == 1 && out == 9LL * feat) return {false, 3, feat};
    if (out != 4LL * feat)
      throw Error(fmt::format("DAT weights: 'upsample.0.weight' has {} outputs, expected 4 x num_feat ({}) or 9 x num_feat",
                              out, 4 * feat));
    return {false, 1 << convs, feat};
  }
  if (has_key(sd, "upsample.0.weight")) {
    const int64_t out = require_tensor(sd, "upsample.0.weight", 4, "DAT").size(0);
    const int s = subpixel_scale(out);
    if (s < 1) throw Error(fmt::format("DAT weights: 'upsample.0.weight' has {} outputs, expected 3 x scale^2", out));
    return {true, s, 64};
  }
  throw Error("DAT weights without an upsampler (neither 'conv_before_upsample.0.weight' nor 'upsample.0.weight') are "
              "not super-resolution models");
}

}  // namespace

std::optional<DetectedModel> detect_dat(const StateDict& sd) {
  // The SGFN spatial gate and the AIM convolution branch are DAT's own (RGT has mlp.fc1 and gamma; SwinIR,
  // HAT, DRCT and ATD nest blocks under residual_group).
  if (!has_keys(sd, {"before_RG.1.weight", kDatBlock0 + "ffn.sg.conv.weight", kDatBlock0 + "attn.dwconv.0.weight",
                     kDatBlock0 + "attn.attns.0.rpe_biases"}))
    return std::nullopt;
  const torch::Tensor& first = require_tensor(sd, "conv_first.weight", 4, "DAT");
  if (first.size(1) != 3)
    throw Error(fmt::format("DAT weights: 'conv_first.weight' takes {} input channels; SRLab loads RGB models (3)", first.size(1)));
  DatOptions o;
  std::tie(o.direct_upsampler, o.scale, o.num_feat) = dat_upsampler_from_keys(sd);
  o.embed_dim = static_cast<int>(first.size(0));

  const std::vector<int> groups = key_indices(sd, "layers.", ".blocks.0.norm1.weight");
  if (groups.empty() || !is_contiguous_from_zero(groups))
    throw Error("DAT weights: residual groups 'layers.<i>.blocks.0' are not numbered 0, 1, ...");
  o.depth.clear();
  o.num_heads.clear();
  for (int i : groups) {
    const std::string p = "layers." + std::to_string(i) + ".blocks.";
    const std::vector<int> blocks = key_indices(sd, p, ".norm1.weight");
    if (!is_contiguous_from_zero(blocks))
      throw Error("DAT weights: blocks '" + p + "<j>' are not numbered 0, 1, ...");
    o.depth.push_back(static_cast<int>(blocks.size()));
    // DCTB (odd blocks): temperature (heads,1,1); with one block only the spatial branch's heads/2 remain
    // (an odd head count then builds the same model as the even one below it).
    if (blocks.size() >= 2)
      o.num_heads.push_back(static_cast<int>(require_tensor(sd, p + "1.attn.temperature", 3, "DAT").size(0)));
    else
      o.num_heads.push_back(2 * static_cast<int>(require_tensor(sd, p + "0.attn.attns.0.pos.pos3.2.weight", 2, "DAT").size(0)));
  }
  o.split_size = dat_split_size_from_keys(sd);

  const int64_t hidden = require_tensor(sd, kDatBlock0 + "ffn.fc1.weight", 2, "DAT").size(0);
  o.expansion_factor = static_cast<double>(hidden) / o.embed_dim;
  if (static_cast<int64_t>(o.embed_dim * o.expansion_factor) != hidden)
    throw Error(fmt::format("DAT weights: ffn.fc1 width {} is not int(embed_dim {} x expansion_factor) for any representable "
                            "factor", hidden, o.embed_dim));

  o.img_size = 64;  // official default; revealed by the first shifted block's attn_mask_0 when one exists
  for (size_t i = 0; i < o.depth.size(); ++i) {
    int j = 0;
    while (j < o.depth[i] && !dat_block_shifted(static_cast<int64_t>(i), j)) j += 2;
    const std::string mk = fmt::format("layers.{}.blocks.{}.attn.attn_mask_0", i, j);
    if (j >= o.depth[i] || !has_key(sd, mk)) continue;
    const int64_t windows = require_tensor(sd, mk, 3, "DAT").size(0);
    const int64_t side = exact_sqrt(windows * o.split_size[0] * o.split_size[1]);
    if (side < 1)
      throw Error(fmt::format("DAT weights: '{}' holds {} windows of {}x{}, not a square image", mk, windows,
                              o.split_size[0], o.split_size[1]));
    o.img_size = static_cast<int>(side);
    break;
  }
  o.three_conv = !has_key(sd, "conv_after_body.weight");
  o.qkv_bias = has_key(sd, kDatBlock0 + "attn.qkv.bias");

  const auto [key, problem] = dat_validate(o);
  if (!key.empty()) throw Error("DAT weights: inferred " + key + " " + problem);
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: dat, upsampler: {}, embed_dim: {}, split_size: {}, depth: {}, num_heads: {}, expansion_factor: {}, "
      "qkv_bias: {}, img_size: {}, resi_connection: {}, num_feat: {}, img_range: 1.0}}",
      o.direct_upsampler ? "pixelshuffledirect" : "pixelshuffle", o.embed_dim, int_list(o.split_size), int_list(o.depth),
      int_list(o.num_heads), o.expansion_factor, o.qkv_bias, o.img_size, o.three_conv ? "3conv" : "1conv", o.num_feat);
  return d;
}

}  // namespace srlab::models
