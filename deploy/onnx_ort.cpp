// In-process ONNX Runtime (deploy/onnx_ort.h): ONNX Runtime's C++ API (onnxruntime_cxx_api.h), compiled
// only when CMake found libonnxruntime-dev (SRLAB_ORT_IN_PROCESS).
#include "deploy/onnx_ort.h"

#include <opencv2/core/version.hpp>

#include <atomic>
#include <chrono>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "deploy/onnx_verify.h"

#if SRLAB_ORT_IN_PROCESS
#include <onnxruntime_cxx_api.h>
#endif

namespace srlab::models {

bool onnxruntime_in_process() { return SRLAB_ORT_IN_PROCESS != 0; }

bool onnxruntime_available() { return onnxruntime_in_process() || !find_onnxruntime().empty(); }

#if SRLAB_ORT_IN_PROCESS

namespace {

/// Runs `make` with file descriptor 2 (stderr, std::cerr) captured, then passes on what it printed except
/// ONNX's "Schema error: Trying to register schema ... already registered" lines. ONNX Runtime registers
/// ONNX's operator schemas when it creates its environment and sessions; Debian's build takes them from
/// the shared libonnx this process also links for the exporter, which has registered them already, so
/// ONNX prints one such line per operator (same definitions, same library: nothing is wrong).
template <class Make>
auto without_schema_noise(Make&& make) {
  std::fflush(stderr);
  std::cerr.flush();
  std::FILE* sink = std::tmpfile();
  const int saved = sink ? ::dup(2) : -1;
  if (saved < 0 || ::dup2(::fileno(sink), 2) < 0) {  // cannot capture: run it as is
    if (sink) std::fclose(sink);
    if (saved >= 0) ::close(saved);
    return make();
  }
  const auto restore = [&] {
    std::fflush(stderr);
    std::cerr.flush();
    ::dup2(saved, 2);
    ::close(saved);
    std::rewind(sink);
    std::string text;
    for (char buf[4096]; const size_t n = std::fread(buf, 1, sizeof buf, sink);) text.append(buf, n);
    std::fclose(sink);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line.rfind("Schema error: Trying to register schema", 0) != 0) std::cerr << line << "\n";
  };
  try {
    auto result = make();
    restore();
    return result;
  } catch (...) {
    restore();
    throw;
  }
}

/// One ONNX Runtime environment per process (its logging and global thread state).
Ort::Env& ort_env() {
  static const std::unique_ptr<Ort::Env> env =
      without_schema_noise([] { return std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "srlab"); });
  return *env;
}

}  // namespace

std::string onnxruntime_description() {
  return "ONNX Runtime " + std::string(Ort::GetVersionString()) + ", in-process (C++ API, CPU execution provider)";
}

struct OrtInProcessModel::Impl {
  std::string source;
  std::unique_ptr<Ort::Session> session;
  std::string input_name, output_name;
  mutable std::atomic<double> last_ms{0.0};
};

OrtInProcessModel::OrtInProcessModel(const std::string& model_bytes, std::string source, int threads)
    : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  try {
    Ort::SessionOptions options;
    if (threads > 0) options.SetIntraOpNumThreads(threads);
    options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    Ort::Env& env = ort_env();
    impl_->session = without_schema_noise(
        [&] { return std::make_unique<Ort::Session>(env, model_bytes.data(), model_bytes.size(), options); });
    if (impl_->session->GetInputCount() < 1 || impl_->session->GetOutputCount() < 1)
      throw Error("ONNX model '" + impl_->source + "' has no input or no output");
    Ort::AllocatorWithDefaultOptions allocator;
    impl_->input_name = impl_->session->GetInputNameAllocated(0, allocator).get();
    impl_->output_name = impl_->session->GetOutputNameAllocated(0, allocator).get();
  } catch (const Ort::Exception& e) {
    throw Error("ONNX Runtime cannot load the model '" + impl_->source + "': " + e.what());
  }
}

OrtInProcessModel::~OrtInProcessModel() = default;

torch::Tensor OrtInProcessModel::forward(const torch::Tensor& input) const {
  if (!input.defined() || input.dim() != 4)
    throw Error("ONNX model '" + impl_->source + "': expected an (N,C,H,W) input");
  torch::Tensor x = input.to(torch::kCPU, torch::kFloat32).contiguous();
  const std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  try {
    const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    Ort::Value in = Ort::Value::CreateTensor<float>(cpu, x.data_ptr<float>(), static_cast<size_t>(x.numel()), shape.data(),
                                                    shape.size());
    const char* in_names[] = {impl_->input_name.c_str()};
    const char* out_names[] = {impl_->output_name.c_str()};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Ort::Value> out = impl_->session->Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 1);
    impl_->last_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const auto info = out.at(0).GetTensorTypeAndShapeInfo();
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
      throw Error("ONNX model '" + impl_->source + "': the first output is not float32");
    torch::Tensor y = torch::empty(info.GetShape(), torch::kFloat32);
    std::memcpy(y.data_ptr<float>(), out[0].GetTensorData<float>(), static_cast<size_t>(y.numel()) * sizeof(float));
    return y;
  } catch (const Ort::Exception& e) {
    throw Error("ONNX Runtime cannot run the model '" + impl_->source + "' on a " + c10::str(x.sizes()) + " input: " + e.what());
  }
}

double OrtInProcessModel::last_run_ms() const { return impl_->last_ms; }

#else  // no in-process ONNX Runtime in this build

std::string onnxruntime_description() {
  const auto dir = find_onnxruntime();
  return "upscale/eval in OpenCV DNN " CV_VERSION " (built without libonnxruntime-dev); export --verify and "
         "bench-runtimes in ONNX Runtime " +
         (dir.empty() ? std::string("(not installed: scripts/setup.sh --tests installs onnxruntime-node)")
                      : "through Node.js (onnxruntime-node in " + dir.string() + ")");
}

struct OrtInProcessModel::Impl {};

OrtInProcessModel::OrtInProcessModel(const std::string&, std::string source, int) {
  throw Error("cannot run '" + source + "' in ONNX Runtime in-process: this srlab was built without libonnxruntime-dev "
              "(Debian 13: apt install libonnxruntime-dev and rebuild)");
}

OrtInProcessModel::~OrtInProcessModel() = default;

torch::Tensor OrtInProcessModel::forward(const torch::Tensor&) const { return {}; }

double OrtInProcessModel::last_run_ms() const { return 0.0; }

#endif

}  // namespace srlab::models
