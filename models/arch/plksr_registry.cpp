// YAML factories and state-dict detectors of PLKSR / RealPLKSR (models/arch/plksr.h).
#include <sstream>

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/plksr.h"
#include "models/arch/state_dict_util.h"

namespace srlab::models {

namespace {

/// Reads the parameters both variants share.
PlksrOptions read_common(const core::Config& params, int scale, PlksrVariant variant) {
  PlksrOptions o;
  o.variant = variant;
  o.scale = scale;
  o.dim = params.get<int>("dim", o.dim);
  o.n_blocks = params.get<int>("n_blocks", o.n_blocks);
  o.kernel_size = params.get<int>("kernel_size", o.kernel_size);
  o.split_ratio = params.get<double>("split_ratio", o.split_ratio);
  o.use_ea = params.get<bool>("use_ea", o.use_ea);
  return o;
}

Generator build(const core::Config& params, const PlksrOptions& o) {
  const auto [key, problem] = plksr_invalid_option(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<PlksrImpl>(o);
}

std::string yaml_bool(bool b) { return b ? "true" : "false"; }

/// The shared part of both detectors: dim, blocks (feats length minus `extra` non-block layers), scale,
/// kernel size, split ratio and use_ea, as YAML lines.
std::string detect_common(const StateDict& sd, int extra, const std::string& what, int& scale) {
  const int64_t dim = tensor_of(sd, "feats.0.weight", 4, what).size(0);
  const int len = sequence_length(sd, "feats");
  const int blocks = len - extra;
  if (blocks < 1) throw Error(what + ": found " + std::to_string(len) + " feats layers, too few for any block");
  const std::string last = "feats." + std::to_string(len - 1) + ".weight";
  scale = pixel_shuffle_scale(tensor_of(sd, last, 4, what), 3, last, what);
  check_scale("PLKSR", scale, kPlksrScales);
  for (int i = 1; i <= blocks; ++i) require_key(sd, "feats." + std::to_string(i) + ".refine.weight", what);
  const torch::Tensor& lk = tensor_of(sd, "feats.1.lk.conv.weight", 4, what);
  // split_ratio = p / dim (as spandrel), printed with 17 digits so that int(dim * ratio) = p again.
  const double ratio = static_cast<double>(lk.size(0)) / static_cast<double>(dim);
  if (lk.size(0) > dim || static_cast<int64_t>(static_cast<double>(dim) * ratio) != lk.size(0))
    throw Error(what + ": feats.1.lk.conv.weight has " + std::to_string(lk.size(0)) +
                " channels, not a split of dim " + std::to_string(dim));
  std::ostringstream y;
  y.precision(17);
  y << "dim: " << dim << "\nn_blocks: " << blocks << "\nkernel_size: " << lk.size(2) << "\nsplit_ratio: " << ratio
    << "\nuse_ea: " << yaml_bool(sd.count("feats.1.attn.f.0.weight") > 0) << "\n";
  return y.str();
}

bool is_plksr_family(const StateDict& sd, const std::string& mixer) {
  return sd.count("feats.0.weight") && sd.count("feats.1.refine.weight") && sd.count("feats.1." + mixer + ".0.weight") &&
         (sd.count("feats.1.lk.conv.weight") || sd.count("feats.1.lk.convs.0.weight") ||
          sd.count("feats.1.lk.mn_conv.weight"));
}

void refuse_sparse(const StateDict& sd, const std::string& what) {
  if (!sd.count("feats.1.lk.conv.weight"))
    throw Error(what + ": the large kernel is a SparsePLK/RectSparsePLK ablation (keys feats.1.lk.convs.* or "
                       "lk.mn_conv); SRLab implements the plain PLK conv (lk.conv) only");
}
}  // namespace

Generator make_plksr(const core::Config& params, int scale) {
  check_scale(params, "plksr", scale, kPlksrScales);
  PlksrOptions o = read_common(params, scale, PlksrVariant::kPlksr);
  const std::string ccm = params.get<std::string>("ccm_type", "CCM");
  if (ccm == "CCM")
    o.ccm_type = CcmType::kCcm;
  else if (ccm == "ICCM")
    o.ccm_type = CcmType::kIccm;
  else if (ccm == "DCCM")
    o.ccm_type = CcmType::kDccm;
  else
    params.fail("ccm_type", "unknown channel mixer '" + ccm + "'; use CCM, ICCM or DCCM");
  o.with_idt = params.get<bool>("with_idt", o.with_idt);
  return build(params, o);
}

Generator make_realplksr(const core::Config& params, int scale) {
  check_scale(params, "realplksr", scale, kPlksrScales);
  PlksrOptions o = read_common(params, scale, PlksrVariant::kRealPlksr);
  o.norm_groups = params.get<int>("norm_groups", o.norm_groups);
  o.layer_norm = params.get<bool>("layer_norm", o.layer_norm);
  o.dysample = params.get<bool>("dysample", o.dysample);
  o.dropout = params.get<double>("dropout", o.dropout);
  return build(params, o);
}

std::optional<DetectedModel> detect_plksr(const StateDict& sd) {
  if (!is_plksr_family(sd, "channe_mixer")) return std::nullopt;
  const std::string what = "PLKSR weights";
  refuse_sparse(sd, what);
  DetectedModel m;
  const std::string common = detect_common(sd, 2, what, m.scale);
  const int64_t k0 = tensor_of(sd, "feats.1.channe_mixer.0.weight", 4, what).size(2);
  const int64_t k2 = tensor_of(sd, "feats.1.channe_mixer.2.weight", 4, what).size(2);
  std::string ccm;
  if (k0 == 3 && k2 == 1)
    ccm = "CCM";
  else if (k0 == 3 && k2 == 3)
    ccm = "DCCM";
  else if (k0 == 1 && k2 == 3)
    ccm = "ICCM";
  else
    throw Error(what + ": channe_mixer kernel sizes " + std::to_string(k0) + "/" + std::to_string(k2) +
                " match no CCM type (CCM 3/1, ICCM 1/3, DCCM 3/3)");
  m.model_yaml = "type: plksr\n" + common + "ccm_type: " + ccm + "\n";
  return m;
}

std::optional<DetectedModel> detect_realplksr(const StateDict& sd) {
  if (!is_plksr_family(sd, "channel_mixer")) return std::nullopt;
  const std::string what = "RealPLKSR weights";
  refuse_sparse(sd, what);
  DetectedModel m;
  const std::string common = detect_common(sd, 3, what, m.scale);
  m.model_yaml = "type: realplksr\n" + common + "layer_norm: " + yaml_bool(sd.count("feats.1.layer_norm.bias") > 0) +
                 "\ndysample: " + yaml_bool(sd.count("to_img.init_pos") > 0) + "\n";
  return m;
}

void register_plksr() {
  const std::string common =
      "params dim (D, default 64), n_blocks (28), kernel_size (odd, 17), split_ratio (large-kernel share of D, "
      "0.25), use_ea (element-wise attention, true)";
  register_generator("plksr", make_plksr,
                     "PLKSR (Lee et al. 2024), spandrel layout; " + common +
                         ", ccm_type (CCM | ICCM | DCCM), with_idt (false); scales 1,2,3,4,8",
                     detect_plksr);
  register_generator("realplksr", make_realplksr,
                     "RealPLKSR (Lee et al. 2024, real-world variant), spandrel layout; " + common +
                         ", norm_groups (GroupNorm, 4), layer_norm (LayerNorm instead, false), dysample (DySample "
                         "upsampler, false), dropout (Dropout2d rate, 0); scales 1,2,3,4,8",
                     detect_realplksr);
}

}  // namespace srlab::models
