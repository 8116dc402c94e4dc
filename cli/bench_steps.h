#pragma once
// Shared by the timing commands `srlab bench-train` and `srlab bench-degrade` (issue 27): the step clock
// (device-synchronised wall time around a loop of steps) and the --degradation / --type argument.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <string>

#include "data/degrade/degradation.h"

namespace srlab::cli {

/// Waits until the work queued on `device` has finished (CUDA: torch::cuda::synchronize on that device,
/// or the current one when it has no index); nothing on the CPU, where every op is synchronous.
inline void sync_device(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

/// Calls step(k) for k = 0 .. warmup-1 untimed, then for k = warmup .. warmup+steps-1 timed, and returns
/// the wall-clock seconds of the timed steps. The device is synchronised before the clock starts and
/// before it is read, so asynchronous CUDA work is counted where it runs. `steps` >= 1.
template <typename Step>
double time_steps(const torch::Device& device, int warmup, int steps, Step&& step) {
  for (int k = 0; k < warmup; ++k) step(k);
  sync_device(device);
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = warmup; k < warmup + steps; ++k) step(k);
  sync_device(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The degradation of a bench command: a registered type name ("second_order" -> `type: second_order`)
/// or a whole `degradation:` mapping as YAML ("{type: bicubic}"). Throws srlab::Error naming the key for
/// unknown types and bad values (data::Degradation::parse).
inline data::Degradation bench_degradation(const std::string& spec) {
  const bool mapping = spec.find('{') != std::string::npos || spec.find(':') != std::string::npos;
  return data::Degradation::parse(mapping ? spec : "type: " + spec, "--degradation");
}

}  // namespace srlab::cli
