#pragma once
// `srlab models inspect FILE`: what a weight file holds and how SRLab interprets it.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "models/weights/community_generator.h"

namespace srlab::models {

struct WeightFileReport {
  std::vector<std::pair<std::string, std::string>> fields;  ///< label -> value, in print order
  bool detected = false;  ///< false when the architecture could not be determined (reason in "architecture")
};

/// Describes `file` (SRLab checkpoint or community weight file): container, wrapper key and stripped
/// prefixes, EMA or raw weights, other entries, architecture (type), scale, hyperparameters (the
/// `model:` section), parameter count, tensor count and stored dtypes, safetensors metadata.
/// Detection failures are reported in the "architecture" field (detected = false), not thrown.
/// @throws srlab::Error naming the file when it cannot be read at all.
WeightFileReport inspect_weight_file(const std::filesystem::path& file, const GeneratorLoadOptions& options = {});

}  // namespace srlab::models
