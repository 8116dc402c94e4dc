#pragma once
// The device the device-taking tests run on (issue 27): SRLAB_TEST_DEVICE selects it.
//   unset, empty or "cpu"  -> the CPU (every test does exactly what it did before this switch existed)
//   "cuda" or "cuda:N"     -> that CUDA device; a test that takes the device fails with a message naming
//                             SRLAB_TEST_DEVICE when this LibTorch build/machine has no CUDA (or no device N)
//   anything else          -> the test fails with a message naming SRLAB_TEST_DEVICE and the accepted values
// Usage: `SRLAB_TEST_DEVICE=cuda ctest --test-dir build` (README, Testing).
//
// Only tests whose assertion means the same on any device take it (shapes, gradients reaching parameters,
// reproducible/resumable training, tensor degradations against OpenCV within a PSNR or max-error bound).
// Tests of CPU-only code paths, bit-exact CPU results, CPU reference fixtures, ONNX and file formats stay on
// the CPU whatever SRLAB_TEST_DEVICE says.
//
// On CUDA the process is set up for comparable, repeatable numbers (see cuda_test_settings() below):
// TF32 off (full float32 matmuls and cuDNN convolutions), cuDNN deterministic without autotuning, and
// PyTorch's deterministic algorithms where an op has one (warn-only for the ops that have none).
// Training configs additionally carry test_device_train_keys(), since the trainer applies its own
// train.tf32 / cudnn_tf32 / cudnn_benchmark settings (train/speed_settings.h) on CUDA.
#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace srlab::testing {

/// The environment variable that selects the test device.
inline constexpr const char* kTestDeviceEnv = "SRLAB_TEST_DEVICE";

/// Parses a SRLAB_TEST_DEVICE value ("" or "cpu" -> CPU, "cuda" / "cuda:N" -> CUDA). Only the syntax is checked
/// here (no CUDA needed); anything else throws srlab::Error naming SRLAB_TEST_DEVICE and the accepted values.
inline torch::Device parse_test_device(const std::string& value) {
  if (value.empty() || value == "cpu") return torch::Device(torch::kCPU);
  const std::string accepted = std::string(kTestDeviceEnv) + "='" + value + "' is not a test device: use cpu (the default), cuda or cuda:N";
  if (value.rfind("cuda", 0) != 0) throw srlab::Error(accepted);
  try {
    return torch::Device(value);  // "cuda" or "cuda:N"; LibTorch rejects "cuda:x", "cuda:-1", "cudax"
  } catch (const std::exception&) {
    throw srlab::Error(accepted);
  }
}

namespace detail {

/// The process-wide settings that make CUDA results comparable with CPU references and repeatable: TF32 off
/// for cuBLAS and cuDNN (TF32 rounds float32 inputs to 10 mantissa bits, ~1e-3 relative error), cuDNN
/// deterministic and not autotuned (autotuning may pick another algorithm in the next run, so bitwise
/// different sums), and deterministic implementations of the ops that have one (warn-only: ops without one
/// still run). CUBLAS_WORKSPACE_CONFIG is what deterministic cuBLAS requires; it must be set before the first
/// cuBLAS handle, hence here, before any CUDA tensor exists. An explicitly set value is kept.
inline void cuda_test_settings() {
  ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  auto& ctx = at::globalContext();
  ctx.setAllowTF32CuBLAS(false);
  ctx.setAllowTF32CuDNN(false);
  ctx.setBenchmarkCuDNN(false);
  ctx.setDeterministicCuDNN(true);
  ctx.setDeterministicAlgorithms(true, /*warn_only=*/true);
}

/// The device SRLAB_TEST_DEVICE names, checked against this machine (see test_device()).
inline torch::Device resolve_test_device() {
  const char* env = std::getenv(kTestDeviceEnv);
  const std::string value = env == nullptr ? "" : env;
  const torch::Device d = parse_test_device(value);
  if (d.is_cpu()) return d;
  if (!torch::cuda::is_available())
    throw srlab::Error(std::string(kTestDeviceEnv) + "=" + value +
                       " asks for CUDA, but this LibTorch build/machine has no CUDA device (torch::cuda::is_available() "
                       "is false); unset " + kTestDeviceEnv + " (or set it to cpu) to run the tests on the CPU");
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (d.has_index() && d.index() >= count)
    throw srlab::Error(std::string(kTestDeviceEnv) + "=" + value + " names CUDA device " + std::to_string(d.index()) +
                       ", but this machine has " + std::to_string(count) + " (cuda:0 .. cuda:" + std::to_string(count - 1) + ")");
  cuda_test_settings();
  return d;
}

}  // namespace detail

/// The device the device-taking tests run on: the CPU unless SRLAB_TEST_DEVICE names CUDA (see the top of
/// this file). Resolved once per process; throws srlab::Error naming SRLAB_TEST_DEVICE for a bad value or
/// missing CUDA, on every call, so every test that takes the device fails with that message (GoogleTest
/// reports the exception) instead of silently running on the CPU.
inline torch::Device test_device() {
  static const struct Resolved {
    std::string error;
    torch::Device device = torch::kCPU;
    Resolved() {
      try {
        device = detail::resolve_test_device();
      } catch (const srlab::Error& e) {
        error = e.what();
      }
    }
  } resolved;
  if (!resolved.error.empty()) throw srlab::Error(resolved.error);
  return resolved.device;
}

/// True when the device-taking tests run on CUDA.
inline bool test_on_cuda() { return test_device().is_cuda(); }

/// The test device as a config's `device:` value ("cpu", "cuda" or "cuda:N").
inline std::string test_device_yaml() { return test_device().str(); }

/// Extra `train:` keys for a training config on `device`, in the ", key: value" form tiny_train_config's
/// train_extra takes: none on the CPU (the config stays as it was); on CUDA full float32 and no cuDNN
/// autotuning, because the trainer applies train.tf32 / cudnn_tf32 (default true) / cudnn_benchmark (default
/// true) itself and would otherwise undo detail::cuda_test_settings() (speed_settings_test checks those
/// defaults, on the CPU).
inline std::string train_keys_for(const torch::Device& device) {
  return device.is_cuda() ? ", tf32: false, cudnn_tf32: false, cudnn_benchmark: false" : "";
}

/// train_keys_for(test_device()).
inline std::string test_device_train_keys() { return train_keys_for(test_device()); }

/// `x` on the test device (a no-op on the CPU).
inline torch::Tensor on_test_device(const torch::Tensor& x) { return x.to(test_device()); }

}  // namespace srlab::testing
