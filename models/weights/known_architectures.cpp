#include "models/weights/known_architectures.h"

#include <algorithm>
#include <set>

#include "core/config.h"
#include "models/arch/detect_util.h"
#include "models/disc/discriminator_registry.h"

namespace srlab::models {

const std::vector<KnownArchitecture>& known_unimplemented_architectures() {
  // Remove an entry once its architecture is registered (it is skipped automatically until then).
  static const std::vector<KnownArchitecture> table{
      // Swin2SR (Conde et al., ECCVW 2022): SwinIR's layout with SwinV2 attention (logit_scale, cpb_mlp).
      {{"swin2sr"}, "Swin2SR", "mv-lab/swin2sr models/network_swin2sr.py",
       {"conv_first.weight", "layers.0.residual_group.blocks.0.attn.logit_scale"}},
  };
  return table;
}

std::optional<KnownArchitecture> match_unimplemented_architecture(const StateDict& sd) {
  const auto detectors = generator_detectors();
  auto registered = [&](const std::string& type) {
    return std::any_of(detectors.begin(), detectors.end(), [&](const auto& d) { return d.first == type; });
  };
  for (const auto& a : known_unimplemented_architectures()) {
    if (std::any_of(a.types.begin(), a.types.end(), registered)) continue;
    if (has_keys(sd, a.keys)) return a;
  }
  return std::nullopt;
}

std::optional<std::string> match_discriminator(const StateDict& sd) {
  std::set<std::string> keys;
  for (const auto& kv : sd) keys.insert(kv.first);
  for (const auto& [type, summary] : discriminator_types()) {
    std::set<std::string> names;
    try {
      Discriminator d = make_discriminator(core::Config::parse("type: " + type, "default " + type));
      for (const auto& p : d->named_parameters(true)) names.insert(p.key());
      for (const auto& b : d->named_buffers(true)) names.insert(b.key());
    } catch (const Error&) {
      continue;
    }
    // SRLab discriminators use BasicSR's names; their parameters (buffers may be absent in BasicSR files)
    size_t common = 0;
    for (const auto& k : keys) common += names.count(k);
    if (common == keys.size() && !keys.empty()) return "the '" + type + "' discriminator (" + summary.substr(0, 60) + "...)";
  }
  for (const auto& k : keys)
    if (k.size() > 11 && (k.rfind(".weight_orig") == k.size() - 12 || k.rfind(".weight_u") == k.size() - 9))
      return std::string("a spectral-norm discriminator (key '") + k + "')";
  return std::nullopt;
}

}  // namespace srlab::models
