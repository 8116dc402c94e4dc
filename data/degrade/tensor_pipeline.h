#pragma once
// Degradation pipelines on tensor batches (N,C,H,W) on any device: the parameters of every sample are
// drawn by the OpenCV pipeline itself in plan mode (Degradation::plan(): the same generator, the same
// draws and records as Degradation::apply() for (seed, index)), and the planned ops are then replayed with
// the tensor ops of tensor_ops.h / tensor_jpeg.h. Samples whose next op has the same kind and image
// size are processed together (one grouped convolution for their blurs, one JPEG batch, ...); samples
// that a random resize gave their own size run alone until a resize to the LR size brings them back.
// The OpenCV path (Degradation::apply) stays the reference; tests/data/test_tensor_degrade.cpp checks
// the two against each other.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/degrade/degradation.h"

namespace srlab::data {

/// The drawn parameters of a batch: what the loader hands to the train step.
struct DegradationBatchPlan {
  int scale = 4;
  int hr_h = 0, hr_w = 0, channels = 3;
  std::vector<std::vector<PlannedOp>> ops;  ///< per sample, in application order
  std::vector<nlohmann::json> params;       ///< per sample, equal to DegradedSample::params of apply()
};

/// Draws the plans of samples `indices` (one per batch row) for HR images (channels, hr_h, hr_w).
/// Cheap (no pixel work). Throws srlab::Error like Degradation::apply() for bad shapes.
DegradationBatchPlan plan_degradation_batch(const Degradation& d, int channels, int hr_h, int hr_w, int scale,
                                            uint64_t seed, const std::vector<int64_t>& indices);

/// Replays `plan` on hr (N,C,H,W) float in [0,1] (snapped to 8 bits first, as apply()), on hr's device.
/// Returns the LR batch (N,C,H/scale,W/scale) clipped and rounded to the 8-bit grid. Throws srlab::Error
/// if hr does not match the plan, or a sample does not end at the LR size.
torch::Tensor apply_degradation_plan(const torch::Tensor& hr, const DegradationBatchPlan& plan);

/// plan_degradation_batch() + apply_degradation_plan(); `params` (optional) receives the records.
torch::Tensor degrade_batch(const Degradation& d, const torch::Tensor& hr, int scale, uint64_t seed,
                            const std::vector<int64_t>& indices, std::vector<nlohmann::json>* params = nullptr);

}  // namespace srlab::data
