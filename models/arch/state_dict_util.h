#pragma once
// Small helpers for the state-dict detectors of models/arch/ (registry.h GeneratorDetector): key and
// shape checks with messages that name the key, and hyperparameters read off tensor shapes.
#include <string>

#include "models/arch/registry.h"

namespace srlab::models {

/// Throws srlab::Error "<what>: tensor '<key>' is missing; ..." when `key` is not in `sd`.
void require_key(const StateDict& sd, const std::string& key, const std::string& what);

/// The tensor `key` of `sd`, checked to have `dim` dimensions. Throws srlab::Error naming the key and
/// its shape otherwise (or when it is missing).
const torch::Tensor& tensor_of(const StateDict& sd, const std::string& key, int64_t dim, const std::string& what);

/// The upscaling factor s of a conv weight (channels*s*s, C, k, k) that feeds a pixel shuffle. Throws
/// srlab::Error naming `key` when the output channels are not `channels` times a square.
int pixel_shuffle_scale(const torch::Tensor& weight, int64_t channels, const std::string& key, const std::string& what);

/// Length of a numbered sequence `prefix`.<i>.* in `sd`: the largest i + 1 (0 when there is none).
/// Keys `prefix`.<not a number>... are ignored.
int sequence_length(const StateDict& sd, const std::string& prefix);

}  // namespace srlab::models
