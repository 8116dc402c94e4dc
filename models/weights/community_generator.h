#pragma once
// Building a generator from a community weight file (.pth/.pt torch.save zip or legacy, .safetensors):
// read + unwrap (community_weights.h), detect the architecture (detect.h), load the weights strictly.
// Hyperparameters that leave no trace in the weights take the reference defaults; the user overrides
// them with a sidecar YAML next to the file, "<file>.yaml" (e.g. model.pth.yaml) holding a `model:`
// mapping, and with "key=value" model options (CLI --model-option), applied in that order.
#include <filesystem>
#include <string>
#include <vector>

#include "models/weights/community_weights.h"
#include "models/weights/detect.h"

namespace srlab::models {

/// Options for loading a generator from any weight file.
struct GeneratorLoadOptions {
  std::vector<std::string> model_options;  ///< "key=value" overrides of the detected `model:` section
};

/// What a community weight file held and how it was interpreted.
struct CommunityGenerator {
  WeightFileContents contents;
  DetectedGenerator detected;  ///< generator with the weights loaded, on the CPU, eval mode
  std::filesystem::path sidecar;  ///< the sidecar YAML used, or empty
};

/// "<file>.yaml" next to `file`.
std::filesystem::path sidecar_path(const std::filesystem::path& file);

/// Reads, detects and strictly loads a community weight file (see the file comment).
/// @param prefer_ema  take params_ema over params when both exist
/// @throws srlab::Error naming the file: unreadable/forbidden content, unknown/ambiguous/unimplemented
///         architecture, discriminator weights, a sidecar without a `model:` mapping, bad overrides.
CommunityGenerator load_community_generator(const std::filesystem::path& file, bool prefer_ema,
                                            const GeneratorLoadOptions& options = {});

}  // namespace srlab::models
