#pragma once
// Registry from YAML `type:` names to generator factories.
//
// Adding an architecture = one file (the module + a `register_<name>()` function that calls
// register_generator) plus one line in builtin_generators.cpp. Registration is explicit (not static
// initialisers) so that nothing is dropped when linking static libraries.
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/generator.h"

namespace srlab::models {

/// Builds a generator from its `model:` section (`type` already read) at `scale`.
/// Factories read every parameter through `params` (so unknown keys are detected) and throw
/// srlab::Error (via params.fail) for invalid values or unsupported scales.
using GeneratorFactory = std::function<Generator(const core::Config& params, int scale)>;

void register_generator(const std::string& type, GeneratorFactory factory, const std::string& summary);

/// Builds the generator described by `model_cfg` (a mapping with `type:` and parameters) at `scale`.
/// Throws srlab::Error naming the config key for unknown types (listing the known ones), unknown
/// parameter keys or bad values.
Generator make_generator(const core::Config& model_cfg, int scale);

/// Registered type names with a one-line summary each, sorted.
std::vector<std::pair<std::string, std::string>> generator_types();

}  // namespace srlab::models
