// In-process ONNX inference with OpenCV DNN (see onnx_opencv.h).
#include "deploy/onnx_opencv.h"

#include <onnx/onnx_pb.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include <sstream>

#include "core/error.h"
#include "core/shape.h"

namespace srlab::models {

namespace {

// OpenCV's multi-line "> Node ... parse error: ...\n> " messages as one line.
std::string one_line(const std::string& text) {
  std::string out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) {
    const size_t start = line.find_first_not_of("> \t");
    if (start == std::string::npos) continue;
    out += (out.empty() ? "" : " ") + line.substr(start);
  }
  return out;
}

onnx::ModelProto parse_model(const std::string& bytes, const std::string& who) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw Error(who + ": not a valid ONNX model (protobuf parse failed)");
  return m;
}

std::string hint_for(const std::string& error) {
  if (error.find("Resize") != std::string::npos || error.find("cubic") != std::string::npos)
    return std::string(" (OpenCV DNN ") + CV_VERSION + " has no cubic Resize; re-export the checkpoint with this SRLab version, whose "
           "exporters avoid it, or run the checkpoint itself)";
  if (error.find("FLOAT16") != std::string::npos || error.find("float16") != std::string::npos ||
      error.find("data type") != std::string::npos)
    return std::string(" (OpenCV DNN ") + CV_VERSION + " reads no float16 weights: use an fp32 export)";
  return "";
}

}  // namespace

std::string onnx_with_fixed_input(const std::string& model_bytes, const std::vector<int64_t>& shape) {
  onnx::ModelProto m = parse_model(model_bytes, "onnx_with_fixed_input");
  auto* g = m.mutable_graph();
  if (g->input_size() == 0) throw Error("onnx_with_fixed_input: the model has no input");
  auto* dims = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  if (dims->dim_size() != static_cast<int>(shape.size()))
    throw Error("onnx_with_fixed_input: the model's input has rank " + std::to_string(dims->dim_size()) +
                ", the given shape " + std::to_string(shape.size()));
  for (int i = 0; i < dims->dim_size(); ++i) dims->mutable_dim(i)->set_dim_value(shape[i]);
  g->clear_value_info();
  std::string out;
  m.SerializeToString(&out);
  return out;
}

std::map<std::string, std::string> onnx_metadata(const std::string& model_bytes) {
  const onnx::ModelProto m = parse_model(model_bytes, "onnx_metadata");
  std::map<std::string, std::string> out;
  for (const auto& p : m.metadata_props()) out[p.key()] = p.value();
  return out;
}

struct OpenCvOnnxModel::Impl {
  std::string bytes, source;
  std::map<std::vector<int64_t>, cv::dnn::Net> nets;
};

OpenCvOnnxModel::OpenCvOnnxModel(std::string model_bytes, std::string source) : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  const onnx::ModelProto m = parse_model(model_bytes, impl_->source.empty() ? "OpenCvOnnxModel" : impl_->source);
  if (m.graph().input_size() == 0 || m.graph().output_size() == 0)
    throw Error("ONNX model '" + impl_->source + "' has no graph " + (m.graph().input_size() == 0 ? "input" : "output") +
                "; an upscaling model takes one (N,3,H,W) image input and gives one output: re-export it");
  impl_->bytes = std::move(model_bytes);
}

OpenCvOnnxModel::~OpenCvOnnxModel() = default;

size_t OpenCvOnnxModel::imported_shapes() const { return impl_->nets.size(); }

torch::Tensor OpenCvOnnxModel::forward(const torch::Tensor& input) {
  const std::string who =
      std::string("OpenCV DNN ") + CV_VERSION + (impl_->source.empty() ? "" : " (model " + impl_->source + ")");
  const torch::Tensor x = input.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const std::vector<int64_t> key(x.sizes().begin(), x.sizes().end());
  // OpenCV logs its own copy of import errors to stderr; the exception carries the same message.
  const auto level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  struct RestoreLog {
    cv::utils::logging::LogLevel level;
    ~RestoreLog() { cv::utils::logging::setLogLevel(level); }
  } restore{level};
  auto it = impl_->nets.find(key);
  if (it == impl_->nets.end()) {
    cv::dnn::Net net;
    try {
      const std::string fixed = onnx_with_fixed_input(impl_->bytes, key);
      net = cv::dnn::readNetFromONNX(fixed.data(), fixed.size());
    } catch (const cv::Exception& e) {
      throw Error(who + " cannot load the model" + hint_for(e.err) + ": " + one_line(e.err));
    }
    if (net.empty()) throw Error(who + " cannot load the model (empty network)");
    it = impl_->nets.emplace(key, std::move(net)).first;
  }
  const std::vector<int> sizes(key.begin(), key.end());
  cv::Mat out;
  try {
    it->second.setInput(cv::Mat(static_cast<int>(sizes.size()), sizes.data(), CV_32F, const_cast<void*>(x.data_ptr())));
    out = it->second.forward();
  } catch (const cv::Exception& e) {
    throw Error(who + " cannot run the model on a " + core::dims_text(x.sizes()) + " input" + hint_for(e.err) + ": " +
                one_line(e.err));
  }
  if (out.type() != CV_32F) throw Error(who + " returned a non-float32 output");
  const std::vector<int64_t> shape(out.size.p, out.size.p + out.dims);
  return torch::from_blob(out.data, shape, torch::kFloat32).clone();
}

torch::Tensor run_onnx_opencv(const std::string& model_bytes, const torch::Tensor& input) {
  return OpenCvOnnxModel(model_bytes).forward(input);
}

}  // namespace srlab::models
