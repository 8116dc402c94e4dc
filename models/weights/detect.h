#pragma once
// Architecture detection for community weight files: runs every registered GeneratorDetector
// (models/arch/registry.h; each architecture's own .cpp supplies one) on a state dict, applies the
// user's overrides (sidecar YAML `model:` section, then --model-option key=value) to each candidate,
// builds it and keeps the candidates whose parameter/buffer names and shapes equal the file's exactly.
// Exactly one must remain. Otherwise srlab::Error:
//   - ambiguous: the matching architectures are listed;
//   - a recognised but unimplemented architecture (known_architectures.h): "architecture SPAN is not
//     implemented in this SRLab";
//   - discriminator weights: says so;
//   - unknown: the closest registered architectures (by overlap of key-name patterns with their
//     default models) with the keys that did not match.
#include <filesystem>
#include <string>
#include <vector>

#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

/// Up to `limit` differences between `module`'s parameters+buffers and `state_dict`: "missing 'k'
/// (shape [..])", "'k' has shape [..], expected [..]", "unexpected 'k'"; empty when they agree exactly.
std::vector<std::string> state_dict_mismatches(const torch::nn::Module& module, const StateDict& state_dict,
                                               size_t limit = 8);

/// Copies `state_dict` into `module`'s parameters and buffers (converted to their dtype and device,
/// under NoGradGuard) after checking that names and shapes agree exactly.
/// @throws srlab::Error "<source> does not match the <arch> architecture: <mismatches>".
void load_state_dict_strict(torch::nn::Module& module, const StateDict& state_dict, const std::string& arch,
                            const std::string& source);

struct DetectedGenerator {
  std::string type;        ///< registered type of the detector that matched
  DetectedModel model;     ///< final `model:` YAML (overrides applied) and scale
  Generator generator;     ///< built on the CPU from `model`, weights NOT yet loaded
};

/// Detects the architecture of `state_dict` (see the file comment).
/// @param sidecar_model  YAML text of a `model:` mapping to merge into the detected one ("" for none)
/// @param model_options  "key=value" overrides (value parsed as YAML), applied last
/// @param source  the file, for messages
DetectedGenerator detect_generator(const StateDict& state_dict, const std::string& sidecar_model,
                                   const std::vector<std::string>& model_options, const std::string& source);

}  // namespace srlab::models
