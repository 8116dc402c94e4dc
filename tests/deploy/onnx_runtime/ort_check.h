#pragma once
// Shared by the ONNX Runtime parity tests (tests/deploy/onnx_runtime/test_*.cpp, one binary
// test_onnx_runtime): build a generator from YAML, export it in float32 and float16, run every model on
// random inputs of odd and even sizes (batch 1 and 2) and optionally a real Set5 LR image in one ONNX
// Runtime process, and check max abs diff to LibTorch: <= 1e-4 (float32), <= 1e-2 (float16).
// ONNX Runtime missing is a FAILURE, not a skip: CI runs scripts/setup.sh, which installs it.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "deploy/onnx_verify.h"
#include "models/arch/generator.h"

namespace srlab::testing::ort {

constexpr double kTolFp32 = 1e-4;
constexpr double kTolFp16 = 1e-2;

struct Arch {
  std::string yaml;  // `model:` section
  int scale;
  bool real_image;   // also run on the 128x128 Set5 LR image (cheap architectures only)
  bool fp16_relative = false;  // fp16 tolerance relative to max |output| (networks whose random-weight
                               // outputs are far outside [0,1], e.g. SPAN's x255 input)
  std::function<void(srlab::models::Generator&)> modify = {};  // applied after building (e.g. perturb buffers)
};

/// The generator of `a` in eval mode.
srlab::models::Generator build(const Arch& a);

/// Set5 img_001 x4 LR as (1,3,H,W) RGB in [0,1].
torch::Tensor set5_lr();

/// True when ONNX Runtime is installed; otherwise records a test failure saying how to install it.
bool ort_installed();

/// Exports every architecture in fp32 and fp16, runs all models on all inputs (1x3x17x23, 2x3x32x32,
/// Set5 when real_image) in one ONNX Runtime process and checks the max abs difference to LibTorch,
/// printing one line per model and input. `tag` names the temporary folder.
void check_architectures(const std::vector<Arch>& archs, const std::string& tag);

/// What one ORT job must reproduce: a label for the log, LibTorch's output, the max abs difference allowed.
struct OrtExpect {
  std::string what;
  torch::Tensor ref;
  double tol;
};

/// Runs `jobs` in ONNX Runtime (one process / session per model), removes `dir` (the models' folder), and
/// checks each output against `expected` (same order): shape equal, max abs diff <= tol; prints one
/// "[ORT] ..." line per job.
void run_and_compare(const std::vector<srlab::models::OrtJob>& jobs, const std::vector<OrtExpect>& expected,
                     const std::filesystem::path& dir);

/// Exports `yaml` at `scale` with a fixed N=1, H, W (OnnxExportOptions) and checks ORT against LibTorch
/// on one random input of that size (<= kTolFp32).
void check_static_export(const std::string& yaml, int scale, int64_t height, int64_t width, const std::string& tag);

}  // namespace srlab::testing::ort
