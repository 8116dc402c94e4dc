#pragma once
// Tensor shapes as text for error messages: one helper for every library.
#include <torch/torch.h>

#include <string>

namespace srlab::core {

/// "[N, C, H, W]" (LibTorch's own format of IntArrayRef), e.g. "[1, 3, 64, 64]".
std::string shape_text(c10::IntArrayRef sizes);

/// shape_text(t.sizes()), or "undefined" for an undefined tensor.
std::string shape_text(const torch::Tensor& t);

/// "NxCxHxW", e.g. "1x3x64x64" (the form used in file-format and ONNX messages).
std::string dims_text(c10::IntArrayRef sizes);

}  // namespace srlab::core
