// OmniSR hyperparameters from a reference state dict (keys of the official OmniSR code as copied into
// chaiNNer-org/spandrel; the inference rules follow what the weights determine, as spandrel's loader
// libs/spandrel/spandrel/architectures/OmniSR/__init__.py does).
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/detect_util.h"
#include "models/arch/omnisr.h"
#include "models/arch/state_dict_util.h"

namespace srlab::models {

namespace {
const std::string kOmniSrWhat = "OmniSR weights";
const std::string kOmniSrBlock0 = "residual_layer.0.residual_layer.0.layer.";

}  // namespace

std::optional<DetectedModel> detect_omnisr(const StateDict& sd) {
  for (const std::string& k : {kOmniSrBlock0 + "0.fn.0.weight", std::string("input.weight"), std::string("up.0.weight")})
    if (!sd.count(k)) return std::nullopt;
  const torch::Tensor& in = tensor_of(sd, "input.weight", 4, kOmniSrWhat);
  if (in.size(1) != 3)
    throw Error(fmt::format("{}: 'input.weight' takes {} input channels; SRLab loads RGB models (3)", kOmniSrWhat, in.size(1)));
  OmniSrOptions o;
  o.num_feat = static_cast<int>(in.size(0));
  o.bias = sd.count("input.bias") > 0;
  o.scale = pixel_shuffle_scale(tensor_of(sd, "up.0.weight", 4, kOmniSrWhat), 3, "up.0.weight", kOmniSrWhat);
  o.res_num = sequence_length(sd, "residual_layer");
  o.block_num = sequence_length(sd, "residual_layer.0.residual_layer") - 1;
  for (int g = 0; g < o.res_num; ++g) {
    const std::string p = "residual_layer." + std::to_string(g) + ".residual_layer";
    const int n = sequence_length(sd, p) - 1;
    if (n != o.block_num)
      throw Error(fmt::format("{}: '{}' holds {} OSA blocks but residual_layer.0 holds {}; every group has the same "
                              "block_num", kOmniSrWhat, p, n, o.block_num));
    require_key(sd, p + "." + std::to_string(n) + ".weight", kOmniSrWhat);  // the group's closing 1x1 conv
  }
  const std::string table_key = kOmniSrBlock0 + "2.fn.rel_pos_bias.weight";
  o.pe = sd.count(table_key) > 0;
  if (o.pe) {
    const torch::Tensor& table = tensor_of(sd, table_key, 2, kOmniSrWhat);
    const int64_t side = exact_sqrt(table.size(0));
    if (side < 1 || side % 2 == 0)
      throw Error(fmt::format("{}: '{}' has {} rows, expected (2 x window_size - 1)^2", kOmniSrWhat, table_key, table.size(0)));
    o.window_size = static_cast<int>((side + 1) / 2);
  }  // else the reference default 8: nothing in the weights depends on the window then
  const auto [key, problem] = omnisr_validate(o);
  if (!key.empty()) throw Error(kOmniSrWhat + ": inferred " + key + " " + problem);
  check_scale("omnisr", o.scale, omnisr_scales());
  DetectedModel d;
  d.scale = o.scale;
  d.model_yaml = fmt::format("{{type: omnisr, num_feat: {}, block_num: {}, res_num: {}, window_size: {}, pe: {}, bias: {}}}",
                             o.num_feat, o.block_num, o.res_num, o.window_size, o.pe, o.bias);
  return d;
}

}  // namespace srlab::models
