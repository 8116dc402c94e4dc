#include "models/weights/detect.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "models/weights/known_architectures.h"

namespace srlab::models {

namespace {
/// The tensors of a module by full name: parameters, then buffers.
StateDict module_tensors(const torch::nn::Module& m) {
  StateDict out;
  for (const auto& p : m.named_parameters(true)) out[p.key()] = p.value();
  for (const auto& b : m.named_buffers(true)) out[b.key()] = b.value();
  return out;
}

/// "body.12.rdb1.conv3.weight" -> "body.#.rdb#.conv#.weight": the layout without the sizes.
std::string key_pattern(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(key[i]))) {
      out += '#';
      while (i + 1 < key.size() && std::isdigit(static_cast<unsigned char>(key[i + 1]))) ++i;
    } else {
      out += key[i];
    }
  }
  return out;
}

std::set<std::string> patterns(const StateDict& sd) {
  std::set<std::string> out;
  for (const auto& kv : sd) out.insert(key_pattern(kv.first));
  return out;
}

/// The detected YAML with the sidecar mapping merged in and the assignments applied.
std::string apply_overrides(const std::string& yaml, const std::string& sidecar, const std::vector<std::string>& options,
                            const std::string& source) {
  if (sidecar.empty() && options.empty()) return yaml;
  core::Config cfg = core::Config::parse(yaml, source + " (detected model)");
  YAML::Node node = cfg.node();
  if (!sidecar.empty()) {
    const core::Config side = core::Config::parse(sidecar, source + ".yaml (model:)");
    for (const auto& key : side.keys()) node[key] = YAML::Clone(side.node()[key]);
  }
  for (const auto& o : options) cfg.set_override(o);
  return cfg.dump();
}

/// "rrdbnet (6 of 9 key patterns shared; not matched: a.#.b, ...; missing: ...)" for the closest types.
std::string closest_architectures(const StateDict& sd) {
  const std::set<std::string> file = patterns(sd);
  struct Score {
    double overlap;
    std::string text;
  };
  std::vector<Score> scores;
  for (const auto& [type, summary] : generator_types()) {
    std::set<std::string> arch;
    try {
      arch = patterns(module_tensors(*make_generator(core::Config::parse("type: " + type, "default " + type), 4)));
    } catch (const std::exception&) {
      continue;  // no default model at x4
    }
    std::vector<std::string> common, extra, missing;
    std::set_intersection(file.begin(), file.end(), arch.begin(), arch.end(), std::back_inserter(common));
    std::set_difference(file.begin(), file.end(), arch.begin(), arch.end(), std::back_inserter(extra));
    std::set_difference(arch.begin(), arch.end(), file.begin(), file.end(), std::back_inserter(missing));
    if (common.empty()) continue;
    const double overlap = static_cast<double>(common.size()) / (file.size() + missing.size());
    if (extra.size() > 5) extra.resize(5);
    if (missing.size() > 5) missing.resize(5);
    scores.push_back({overlap, fmt::format("{} ({} of {} key patterns shared; file keys not in it: {}; its keys missing "
                                           "from the file: {})", type, common.size(), file.size() + missing.size(),
                                           extra.empty() ? "none" : fmt::format("{}", fmt::join(extra, ", ")),
                                           missing.empty() ? "none" : fmt::format("{}", fmt::join(missing, ", ")))});
  }
  std::sort(scores.begin(), scores.end(), [](const Score& a, const Score& b) { return a.overlap > b.overlap; });
  if (scores.empty()) return "none (no registered architecture shares a key name pattern with it)";
  std::string out;
  for (size_t i = 0; i < scores.size() && i < 3; ++i) out += (i ? "; " : "") + scores[i].text;
  return out;
}

[[noreturn]] void fail_undetected(const StateDict& sd, const std::vector<std::string>& problems, const std::string& source) {
  if (const auto known = match_unimplemented_architecture(sd))
    throw Error(fmt::format("'{}' holds {} weights ({}): architecture {} is not implemented in this SRLab", source,
                            known->name, known->reference, known->name));
  if (const auto disc = match_discriminator(sd))
    throw Error(fmt::format("'{}' holds discriminator weights ({}), not a generator: give the generator's weight "
                            "file (e.g. net_g_*.pth, not net_d_*.pth)", source, *disc));
  std::string first_keys;
  size_t n = 0;
  for (auto it = sd.begin(); it != sd.end() && n < 4; ++it, ++n) first_keys += (n ? ", " : "") + it->first;
  throw Error(fmt::format("cannot detect the architecture of '{}' ({} tensors: {}, ...): no SRLab generator matches.{} "
                          "Closest: {}. If it is one of these with other hyperparameters, fix them with "
                          "--model-option key=value or a sidecar {}.yaml holding a `model:` section",
                          source, sd.size(), first_keys,
                          problems.empty() ? "" : fmt::format(" Near misses: {}.", fmt::join(problems, "; ")),
                          closest_architectures(sd), source));
}
}  // namespace

std::vector<std::string> state_dict_mismatches(const torch::nn::Module& module, const StateDict& sd, size_t limit) {
  std::vector<std::string> out;
  const StateDict expected = module_tensors(module);
  for (const auto& [name, t] : expected) {
    if (out.size() >= limit) return out;
    auto it = sd.find(name);
    if (it == sd.end())
      out.push_back(fmt::format("missing '{}' (shape {})", name, c10::str(t.sizes())));
    else if (it->second.sizes() != t.sizes())
      out.push_back(fmt::format("'{}' has shape {}, expected {}", name, c10::str(it->second.sizes()), c10::str(t.sizes())));
    else if (t.is_floating_point() && !it->second.is_floating_point())
      out.push_back(fmt::format("'{}' is {}, expected a float tensor", name, c10::toString(it->second.scalar_type())));
  }
  for (const auto& [name, t] : sd) {
    if (out.size() >= limit) return out;
    if (!expected.count(name)) out.push_back(fmt::format("unexpected '{}' (shape {})", name, c10::str(t.sizes())));
  }
  return out;
}

void load_state_dict_strict(torch::nn::Module& module, const StateDict& sd, const std::string& arch,
                            const std::string& source) {
  const auto problems = state_dict_mismatches(module, sd);
  if (!problems.empty())
    throw Error(fmt::format("'{}' does not match the {} architecture: {}", source, arch, fmt::join(problems, "; ")));
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : module_tensors(module)) t.copy_(sd.at(name));  // copy_ converts dtype and device
}

DetectedGenerator detect_generator(const StateDict& sd, const std::string& sidecar,
                                   const std::vector<std::string>& options, const std::string& source) {
  for (const auto& o : options)
    if (o.find('=') == std::string::npos || o.front() == '=')
      throw Error(fmt::format("--model-option '{}' for '{}': expected key=value (e.g. res_scale=0.1)", o, source));
  std::vector<DetectedGenerator> found;
  std::vector<std::string> problems;
  std::vector<std::string> option_errors;  // architectures the weights match, refused for the user's options
  for (const auto& [type, detect] : generator_detectors()) {
    std::optional<DetectedModel> d;
    try {
      d = detect(sd);
    } catch (const Error& e) {
      problems.push_back(type + ": " + e.what());
      continue;
    }
    if (!d) continue;
    try {
      d->model_yaml = apply_overrides(d->model_yaml, sidecar, options, source);
      Generator g = make_generator(core::Config::parse(d->model_yaml, source + " (detected " + type + ")"), d->scale);
      const auto mismatches = state_dict_mismatches(*g, sd, 4);
      if (mismatches.empty())
        found.push_back({type, *d, g});
      else
        problems.push_back(fmt::format("{} x{} ({})", type, d->scale, fmt::join(mismatches, ", ")));
    } catch (const Error& e) {
      // The weights fit this architecture's detector; what fails is the model built with the overrides.
      if (options.empty() && sidecar.empty()) {
        problems.push_back(type + ": " + e.what());
      } else {
        option_errors.push_back(fmt::format("the weights are {} x{}, but {}", type, d->scale, e.what()));
      }
    }
  }
  if (found.size() == 1) return found.front();
  if (found.size() > 1) {
    std::vector<std::string> names;
    for (const auto& f : found) names.push_back(f.type);
    throw Error(fmt::format("'{}' is ambiguous: its weights fit the architectures {}; choose one with "
                            "--model-option type=<name> or a sidecar {}.yaml `model:` section",
                            source, fmt::join(names, ", "), source));
  }
  if (!option_errors.empty())
    throw Error(fmt::format("invalid model option for '{}' (given: {}{}): {}", source,
                            options.empty() ? "no --model-option" : fmt::format("--model-option {}", fmt::join(options, " ")),
                            sidecar.empty() ? "" : fmt::format(", sidecar {}.yaml", source),
                            fmt::join(option_errors, "; ")));
  fail_undetected(sd, problems, source);
}

}  // namespace srlab::models
