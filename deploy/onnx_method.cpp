#include "deploy/onnx_method.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <system_error>

#include "core/error.h"
#include "core/fs.h"
#include "deploy/onnx_opencv.h"
#include "deploy/onnx_ort.h"

namespace srlab::eval {
namespace fs = std::filesystem;
namespace {

bool is_onnx_file(const std::string& spec) {
  std::string ext = fs::path(spec).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::error_code ec;
  return ext == ".onnx" && fs::is_regular_file(spec, ec);
}

}  // namespace

UpscaleModel load_onnx_model(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error("ONNX file '" + path.string() + "' does not exist");
  std::string bytes = core::read_file(path);
  std::map<std::string, std::string> meta;
  try {
    meta = models::onnx_metadata(bytes);  // throws for a non-ONNX file
  } catch (const Error& e) {
    throw Error("ONNX model '" + path.string() + "': " + e.what());
  }
  // The runtime: ONNX Runtime where this build links it (deploy/onnx_ort.h), else OpenCV DNN.
  UpscaleModel m;
  if (models::onnxruntime_in_process()) {
    auto model = std::make_shared<const models::OrtInProcessModel>(bytes, path.string());
    m = ort_model(model, 1);
  } else {
    m = opencv_model(std::make_shared<models::OpenCvOnnxModel>(std::move(bytes), path.string()), 1);
  }
  int scale = 0;
  if (auto it = meta.find("scale"); it != meta.end()) scale = std::atoi(it->second.c_str());
  if (scale < 1) {  // not an SRLab export: measure the factor on a small input
    const torch::Tensor y = m.forward(torch::zeros({1, 3, 16, 16}));
    if (y.dim() != 4 || y.size(2) % 16 != 0 || y.size(2) != y.size(3))
      throw Error("ONNX model '" + path.string() + "': cannot tell the upscaling factor (no 'scale' metadata, and a "
                  "16x16 input gave " + c10::str(y.sizes()) + ")");
    scale = static_cast<int>(y.size(2) / 16);
  }
  m.scale = scale;
  return m;
}

Method onnx_method(const fs::path& path, int scale) {
  const UpscaleModel model = load_onnx_model(path);
  if (model.scale != scale)
    throw Error(fmt::format("ONNX model '{}' upscales x{} but the evaluation asks for scale {}; evaluate it on x{} data",
                            path.string(), model.scale, scale, model.scale));
  Method m;
  m.name = path.stem().string();
  m.upscale = [model](const torch::Tensor& lr) {
    const bool gray = lr.size(0) == 1;
    const torch::Tensor x = (gray ? lr.expand({3, lr.size(1), lr.size(2)}) : lr).unsqueeze(0).to(torch::kFloat32);
    const torch::Tensor y = model.forward(x.contiguous()).squeeze(0).clamp(0.0, 1.0);
    return gray ? y.mean(0, /*keepdim=*/true) : y;
  };
  return m;
}

void register_onnx_method() {
  static const bool registered = [] {
    register_method_factory([](const std::string& spec, int scale, torch::Device) -> std::optional<Method> {
      if (!is_onnx_file(spec)) return std::nullopt;
      return onnx_method(spec, scale);
    });
    return true;
  }();
  (void)registered;
}

}  // namespace srlab::eval
