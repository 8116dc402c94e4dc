#pragma once
// Reflect padding of the spatial dimensions for any input size (shared by RCAN and Real-CUGAN).
#include <torch/torch.h>

namespace srlab::models {

/// Pads the last two dimensions of `x` (N,C,H,W) by reflection (edge sample not repeated), as
/// torch.nn.functional.pad(x, (left, right, top, bottom), mode="reflect"): output
/// (N,C,H+top+bottom,W+left+right). Pads must be >= 0. Where every pad is smaller than its dimension
/// (the only case PyTorch accepts) the result is PyTorch's reflection_pad2d itself; larger pads reflect
/// again at each edge (period 2(n-1), the unique continuation of the same rule), and a dimension of size
/// 1 is repeated. Differentiable (gradients flow back to the reflected source samples).
torch::Tensor reflect_pad2d_any(const torch::Tensor& x, int64_t left, int64_t right, int64_t top, int64_t bottom);

/// reflect_pad2d_any at the bottom/right only, to the next multiple of `multiple` (>= 1) of H and W
/// (spandrel's pad_to_multiple(x, multiple, mode="reflect")); returns `x` itself when no padding is needed.
torch::Tensor reflect_pad_to_multiple(const torch::Tensor& x, int64_t multiple);

}  // namespace srlab::models
