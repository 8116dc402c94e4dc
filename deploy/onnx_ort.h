#pragma once
// ONNX Runtime inside the srlab process, where the system has it: Debian 13's libonnxruntime-dev (ONNX
// Runtime's C/C++ API, CMake target onnxruntime::onnxruntime) is found at configure time and linked into
// srlab_deploy (SRLAB_ORT_IN_PROCESS). Then `srlab upscale MODEL.onnx`, `srlab eval -m MODEL.onnx`,
// `srlab export --verify` and `srlab bench-runtimes` run ONNX Runtime's CPU execution provider through
// this class. Without it (Debian 12 has no package) the same commands use the Node.js route of
// deploy/onnx_verify.h (onnxruntime-node) for verification/benchmarks and OpenCV DNN for upscale/eval.
// `srlab --version` prints onnxruntime_description().
#include <torch/torch.h>

#include <memory>
#include <string>

namespace srlab::models {

/// True when this build links ONNX Runtime (in-process route).
bool onnxruntime_in_process();

/// True when some ONNX Runtime route works: in-process, or onnxruntime-node installed (find_onnxruntime()).
bool onnxruntime_available();

/// One line for `srlab --version`: which runtime `.onnx` files use, e.g. "ONNX Runtime 1.21.0, in-process
/// (C++ API, CPU execution provider)" or "upscale/eval in OpenCV DNN 4.6.0 (built without
/// libonnxruntime-dev); export --verify and bench-runtimes in ONNX Runtime through Node.js (...)".
std::string onnxruntime_description();

/// An ONNX model in an in-process ONNX Runtime session (CPU execution provider, all graph optimisations).
/// Only available when onnxruntime_in_process(); the constructor throws srlab::Error otherwise.
class OrtInProcessModel {
 public:
  /// @param model_bytes  serialized ONNX model; one float32 (N,C,H,W) input and a float32 first output.
  /// @param source       the file it came from, for error messages.
  /// @param threads      intra-op threads (0 = ONNX Runtime's default, one per core).
  /// @throws srlab::Error naming `source` when ONNX Runtime rejects the model (with its message), or
  ///         when this build has no in-process ONNX Runtime.
  OrtInProcessModel(const std::string& model_bytes, std::string source, int threads = 0);
  ~OrtInProcessModel();
  OrtInProcessModel(const OrtInProcessModel&) = delete;
  OrtInProcessModel& operator=(const OrtInProcessModel&) = delete;

  /// Runs the model on `input` (float (N,C,H,W); copied to a contiguous float32 CPU tensor) and returns
  /// its first output as a float32 CPU tensor. Thread-safe (ONNX Runtime sessions allow concurrent Run).
  /// @throws srlab::Error naming the source when the run fails (e.g. a size the model cannot take).
  torch::Tensor forward(const torch::Tensor& input) const;

  /// Wall time of the last forward()'s Session::Run, in milliseconds.
  double last_run_ms() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace srlab::models
