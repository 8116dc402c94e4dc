#pragma once
// Divergence guards: a checkpoint never stores non-finite weights.
#include <torch/torch.h>

#include <string>

namespace srlab::train {

/// The name of the first parameter or floating buffer of `module` (recursively) holding a NaN or an
/// infinity, or "" when every value is finite. Any device; reads each tensor once (isfinite().all()).
std::string first_non_finite(const torch::nn::Module& module);

}  // namespace srlab::train
