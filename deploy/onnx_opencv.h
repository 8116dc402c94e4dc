#pragma once
// Running ONNX models in-process with OpenCV DNN (cv::dnn::readNetFromONNX, CPU backend): the in-process
// runtime of `srlab upscale` and the second check of `srlab export --verify`.
//
// OpenCV 4.6 imports DepthToSpace (pixel shuffle) only for a fixed input size (it becomes reshapes
// computed at import). Dynamic-size models are therefore imported once per input shape: the model's
// first input is rewritten to that fixed shape (onnx_with_fixed_input) and the imported network is cached.
// OpenCV 4.6 also has no cubic Resize (SRLab's exporters avoid it, see deploy/onnx_bicubic.h) and reads no
// float16 initializers: such models are refused with srlab::Error when imported.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace srlab::models {

/// `model_bytes` (a serialized ONNX ModelProto) with its first graph input's dimensions set to `shape`
/// (e.g. {1,3,64,64}); intermediate shape annotations (value_info) are dropped, runtimes re-derive them.
/// @throws srlab::Error when the bytes are no ONNX model, it has no input, or the rank differs.
std::string onnx_with_fixed_input(const std::string& model_bytes, const std::vector<int64_t>& shape);

/// The metadata_props of a serialized ONNX model (empty map when none).
/// @throws srlab::Error when the bytes are no ONNX model.
std::map<std::string, std::string> onnx_metadata(const std::string& model_bytes);

/// An ONNX model run by OpenCV DNN on the CPU, imported lazily once per distinct input shape.
class OpenCvOnnxModel {
 public:
  /// @param model_bytes  serialized ONNX model (float32 interface).
  /// @param source       the file it came from, used in error messages.
  /// @throws srlab::Error when the bytes are no ONNX model.
  explicit OpenCvOnnxModel(std::string model_bytes, std::string source = "");
  ~OpenCvOnnxModel();
  OpenCvOnnxModel(const OpenCvOnnxModel&) = delete;
  OpenCvOnnxModel& operator=(const OpenCvOnnxModel&) = delete;

  /// Runs the model on `input` (float (N,C,H,W); any device, copied to the CPU) and returns its first
  /// output as a float32 CPU tensor.
  /// @throws srlab::Error "OpenCV DNN <version> cannot load the model ..." / "... cannot run the model
  ///         on a NxCxHxW input: ..." naming the source file when OpenCV does not support the graph.
  torch::Tensor forward(const torch::Tensor& input);

  /// Number of distinct input shapes imported so far.
  size_t imported_shapes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One-shot convenience: OpenCvOnnxModel(model_bytes).forward(input).
torch::Tensor run_onnx_opencv(const std::string& model_bytes, const torch::Tensor& input);

}  // namespace srlab::models
