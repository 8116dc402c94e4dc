// RCAN hyperparameters from a reference state dict (keys of spandrel's rcan_arch.py; the inference rules
// follow spandrel's RCAN loader, libs/spandrel/spandrel/architectures/RCAN/__init__.py).
#include <fmt/format.h>

#include "core/error.h"
#include "models/arch/rcan.h"
#include "models/arch/detect_util.h"
#include "models/arch/state_dict_util.h"

namespace srlab::models {

namespace {
const std::string kRcanWhat = "RCAN weights";
}  // namespace

std::optional<DetectedModel> detect_rcan(const StateDict& sd) {
  const bool unshuffle = !has_key(sd, "head.0.weight") && has_key(sd, "head.1.weight");
  if (!(has_key(sd, "head.0.weight") || unshuffle) || !has_key(sd, "tail.1.weight") || !has_key(sd, "body.0.body.0.body.0.weight") ||
      !has_key(sd, "body.0.body.0.body.3.conv_du.0.weight"))
    return std::nullopt;
  RcanOptions o;
  const torch::Tensor& last = tensor_of(sd, "tail.1.weight", 4, kRcanWhat);
  if (last.size(0) != 3)
    throw Error(fmt::format("{}: 'tail.1.weight' has {} output channels; SRLab's RCAN is RGB (3) only", kRcanWhat, last.size(0)));
  const std::string head_key = unshuffle ? "head.1.weight" : "head.0.weight";
  const torch::Tensor& head = tensor_of(sd, head_key, 4, kRcanWhat);
  o.n_feats = static_cast<int>(head.size(0));
  o.kernel_size = static_cast<int>(head.size(3));
  const int64_t f = o.n_feats;

  int convs = 0;  // tail.0.0, tail.0.2, ...: one conv per pixel-shuffle stage
  while (has_key(sd, "tail.0." + std::to_string(2 * convs) + ".weight")) ++convs;
  int tail_scale = 1;
  for (int i = 0; i < convs; ++i) {
    const std::string key = "tail.0." + std::to_string(2 * i) + ".weight";
    const torch::Tensor& up = tensor_of(sd, key, 4, kRcanWhat);
    if (up.size(1) != f) throw Error(fmt::format("{}: '{}' takes {} channels, expected n_feats = {}", kRcanWhat, key, up.size(1), f));
    if (convs == 1 && up.size(0) == 9 * f)
      tail_scale = 3;
    else if (up.size(0) == 4 * f)
      tail_scale *= 2;
    else
      throw Error(fmt::format("{}: '{}' has {} outputs, expected 4 x n_feats ({}) or 9 x n_feats", kRcanWhat, key, up.size(0), 4 * f));
  }
  if (unshuffle) {
    const int64_t in = head.size(1);
    const int64_t d = in == 12 ? 2 : (in == 48 ? 4 : 0);
    if (d == 0)
      throw Error(fmt::format("{}: 'head.1.weight' takes {} channels after the pixel unshuffle; expected 12 (x2) or 48 (x1)",
                              kRcanWhat, in));
    if (tail_scale != 4)
      throw Error(fmt::format("{}: the pixel-unshuffle stem needs an x4 tail, got x{}", kRcanWhat, tail_scale));
    o.unshuffle_mod = true;
    o.scale = static_cast<int>(4 / d);
  } else {
    if (head.size(1) != 3)
      throw Error(fmt::format("{}: 'head.0.weight' takes {} channels; SRLab's RCAN is RGB (3) only", kRcanWhat, head.size(1)));
    o.scale = tail_scale;
  }

  o.n_resgroups = sequence_length(sd, "body") - 1;
  o.n_resblocks = sequence_length(sd, "body.0.body") - 1;
  if (o.n_resgroups < 1 || !has_key(sd, "body." + std::to_string(o.n_resgroups) + ".weight"))
    throw Error(fmt::format("{}: the last body entry 'body.{}.weight' (the conv after the residual groups) is missing", kRcanWhat,
                            o.n_resgroups));
  for (int g = 0; g < o.n_resgroups; ++g)
    require_key(sd, fmt::format("body.{}.body.{}.weight", g, o.n_resblocks), kRcanWhat);
  const int64_t squeezed = tensor_of(sd, "body.0.body.0.body.3.conv_du.0.weight", 4, kRcanWhat).size(0);
  if (squeezed < 1 || squeezed > f || f / (f / squeezed) != squeezed)
    throw Error(fmt::format("{}: 'body.0.body.0.body.3.conv_du.0.weight' has {} outputs, not n_feats / reduction for any "
                            "reduction (n_feats = {})", kRcanWhat, squeezed, f));
  o.reduction = static_cast<int>(f / squeezed);
  o.norm = has_key(sd, "sub_mean.weight");

  const auto [key, problem] = rcan_validate(o);
  if (!key.empty()) throw Error(kRcanWhat + ": inferred " + key + " " + problem);
  // rgb_range and act_mode leave no trace: the reference defaults (255, relu)
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format(
      "{{type: rcan, n_resgroups: {}, n_resblocks: {}, n_feats: {}, reduction: {}, kernel_size: {}, norm: {}, "
      "rgb_range: 255, act_mode: relu, unshuffle_mod: {}}}",
      o.n_resgroups, o.n_resblocks, o.n_feats, o.reduction, o.kernel_size, o.norm, o.unshuffle_mod);
  return d;
}

}  // namespace srlab::models
