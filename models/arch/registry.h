#pragma once
// Registry from YAML `type:` names to generator factories.
//
// Adding an architecture = one file (the module + a `register_<name>()` function that calls
// register_generator) plus one line in builtin_generators.cpp. Registration is explicit (not static
// initialisers) so that nothing is dropped when linking static libraries.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/generator.h"

namespace srlab::models {

/// Builds a generator from its `model:` section (`type` already read) at `scale`.
/// Factories read every parameter through `params` (so unknown keys are detected) and throw
/// srlab::Error (via params.fail) for invalid values or unsupported scales.
using GeneratorFactory = std::function<Generator(const core::Config& params, int scale)>;

/// A generator's weights as found in a weight file after unwrapping (`params_ema`, `params`, ...) and
/// prefix stripping (`module.`, `netG.`): state-dict key -> tensor, key names as in the reference code.
using StateDict = std::map<std::string, torch::Tensor>;

/// What a detector infers from a state dict: the complete `model:` section as YAML text (`type:` plus
/// every hyperparameter the weights reveal; the rest take the reference defaults) and the scale.
struct DetectedModel {
  std::string model_yaml;
  int scale = 0;
};

/// Infers an architecture and its hyperparameters from key names and shapes. Returns std::nullopt when
/// the keys are not this architecture's; throws srlab::Error when they are but are inconsistent (e.g. a
/// missing block). The weights are loaded strictly afterwards, so a detector need not check every key.
using GeneratorDetector = std::function<std::optional<DetectedModel>(const StateDict& state_dict)>;

/// Registers an architecture: its factory, a one-line summary (`srlab models`) and, optionally, its
/// state-dict detector (for community weight files, models/weights/).
void register_generator(const std::string& type, GeneratorFactory factory, const std::string& summary,
                        GeneratorDetector detect = {});

/// Builds the generator described by `model_cfg` (a mapping with `type:` and parameters) at `scale`.
/// Throws srlab::Error naming the config key for unknown types (listing the known ones), unknown
/// parameter keys or bad values.
Generator make_generator(const core::Config& model_cfg, int scale);

/// Registered type names with a one-line summary each, sorted.
std::vector<std::pair<std::string, std::string>> generator_types();

/// The registered detectors as (type, detector), sorted by type (built-ins registered first).
std::vector<std::pair<std::string, GeneratorDetector>> generator_detectors();

}  // namespace srlab::models
