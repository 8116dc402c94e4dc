#pragma once
// Process-wide runtime settings: compute device and CPU threads.
#include <torch/torch.h>

#include <string>

namespace srlab::core {

/// Parses a device string: "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU).
/// Throws srlab::Error when CUDA is requested but this LibTorch build/machine has none.
torch::Device select_device(const std::string& spec);

/// Sets LibTorch intra-op threads to `n`, or to all hardware threads when n <= 0
/// (LibTorch's default may be 1 inside containers). Returns the number set.
int configure_threads(int n = 0);

/// The number of hardware threads (>= 1).
int hardware_threads();

}  // namespace srlab::core
