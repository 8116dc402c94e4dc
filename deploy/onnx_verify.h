#pragma once
// Running exported ONNX models (deploy/onnx_export.h) in other runtimes and comparing them with LibTorch:
//   - OpenCV DNN, in-process (deploy/onnx_opencv.h: imported once per input shape). OpenCV 4.6 reads
//     no float16 initializers; "cannot load/run" is then reported, not treated as a mismatch;
//   - ONNX Runtime (CPU provider) in-process where the build links it (deploy/onnx_ort.h), else
//     through Node.js: the npm package onnxruntime-node, installed by
//     scripts/setup.sh into <source>/tools/onnxruntime (or $SRLAB_ONNXRUNTIME_DIR), driven by
//     scripts/onnx_run.mjs; `node` is taken from $SRLAB_NODE or PATH.
// Tensors exchanged with the runtimes are float32 (N,C,H,W), values as the model defines them (SRLab
// generators: RGB in [0,1] in, (N,3,s*H,s*W) out).
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "models/arch/generator.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_opencv.h"

namespace srlab::models {


/// The ONNX Runtime installation folder (holding node_modules/onnxruntime-node): $SRLAB_ONNXRUNTIME_DIR
/// if set, else <source>/tools/onnxruntime. Empty when onnxruntime-node is not installed there.
std::filesystem::path find_onnxruntime();

/// One model run in ONNX Runtime.
struct OrtJob {
  std::filesystem::path model;  ///< .onnx file
  torch::Tensor input;          ///< float (N,C,H,W), fed to the model's first input
};
struct OrtResult {
  torch::Tensor output;  ///< float32, the model's first output
  double time_ms = 0;    ///< wall time of InferenceSession.run() inside the Node.js process
};

/// Runs every job in ONNX Runtime's CPU provider: in-process when this build links ONNX Runtime
/// (deploy/onnx_ort.h, Debian 13), else in one `node scripts/onnx_run.mjs --manifest` process; sessions
/// are cached per model file; `threads` = intra-op threads (0 = ONNX Runtime's default).
/// Throws srlab::Error when onnxruntime-node is not installed (saying to run scripts/setup.sh), when
/// node cannot be started, or when ONNX Runtime rejects a model (with its message).
std::vector<OrtResult> run_onnx_ort(const std::vector<OrtJob>& jobs, int threads = 0);

/// One comparison of a runtime's output with LibTorch's on one input.
struct OnnxCheck {
  std::string runtime;        ///< "ONNX Runtime" or "OpenCV DNN"
  std::string input;          ///< e.g. "1x3x17x23"
  bool ran = false;           ///< the runtime produced an output of the expected shape
  bool error = false;         ///< the runtime failed although it should work (counts as a failure)
  double max_abs_diff = 0;    ///< max |runtime - LibTorch| when ran
  double time_ms = -1;        ///< inference time reported by the runtime (-1: not measured)
  std::string note;           ///< why it did not run
};

struct OnnxVerifyReport {
  std::vector<OnnxCheck> checks;
  double tolerance = 0;
  /// True when at least one check ran, every check that ran is within `tolerance` and no runtime
  /// failed unexpectedly (ONNX Runtime installed but failing, wrong output shape). OpenCV DNN not
  /// supporting a model and ONNX Runtime not being installed are reported, not failures.
  bool passed() const;
  /// A table: runtime, input, max abs diff, time, note; then the verdict.
  std::string text() const;
};

struct OnnxVerifyOptions {
  double tolerance = 1e-4;            ///< max abs diff allowed (1e-4 for float32, 1e-2 for float16 exports)
  std::vector<torch::Tensor> inputs;  ///< float (N,3,H,W) batches in [0,1]
  bool opencv = true;                 ///< run OpenCV DNN
  bool onnxruntime = true;            ///< run ONNX Runtime (reported as not installed when missing)
  int threads = 0;                    ///< ONNX Runtime intra-op threads (0 = default)
};

/// Runs the exported model (`model_bytes`; also written at `model_path` for the Node.js route of ONNX
/// Runtime, the in-process one uses the bytes) on every
/// input and compares with `g`'s forward() (on CPU, no grad). Throws srlab::Error only for bad inputs.
OnnxVerifyReport verify_onnx(const Generator& g, const std::string& model_bytes,
                             const std::filesystem::path& model_path, const OnnxVerifyOptions& options);

/// Random inputs in [0,1] for verifying an export made with `export_options`: the fixed size when the
/// export is static (batch 1 when N is dynamic), else 1x3x17x23, 2x3x32x32 and 1x3x9x14 (odd sizes).
std::vector<torch::Tensor> onnx_verify_inputs(const OnnxExportOptions& export_options, uint64_t seed = 0);

}  // namespace srlab::models
