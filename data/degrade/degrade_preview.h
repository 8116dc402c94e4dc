#pragma once
// A contact sheet of degraded samples, so a user can see what a degradation config does before
// training on it (`srlab degrade`).
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <vector>

#include "data/degrade/degradation.h"

namespace srlab::data {

/// Renders the HR image and each sample's LR side by side in a grid (ceil(sqrt(n + 1)) columns). Every
/// LR tile is enlarged with nearest-neighbour interpolation to the HR size (so pixels, blur, noise and
/// JPEG blocks stay visible at the same scale); below each tile, one caption line per applied step
/// (describe_step()). hr: float (C,H,W) in [0,1], C = 1 or 3; samples' lr (C,H/scale,W/scale).
/// Returns an 8-bit BGR cv::Mat ready for cv::imwrite. Throws srlab::Error on inconsistent sizes.
cv::Mat render_degradation_grid(const torch::Tensor& hr, const std::vector<DegradedSample>& samples);

}  // namespace srlab::data
