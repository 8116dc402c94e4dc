// Shared helpers of the ONNX Runtime parity tests (ort_check.h).
#include "tests/deploy/onnx_runtime/ort_check.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "core/config.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_ort.h"
#include "deploy/onnx_verify.h"
#include "models/arch/registry.h"

namespace srlab::testing::ort {

namespace sm = srlab::models;
namespace fs = std::filesystem;

sm::Generator build(const Arch& a) {
  auto cfg = srlab::core::Config::parse("model: " + a.yaml, "test_onnx_runtime.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), a.scale);
  g->eval();
  if (a.modify) {
    torch::NoGradGuard ng;
    a.modify(g);
  }
  return g;
}

torch::Tensor set5_lr() {
  const fs::path p = srlab::core::shared_data_dir() / "benchmarks/Set5/x4/LR/img_001.png";
  return srlab::data::to_rgb(srlab::data::read_image(p).pixels).unsqueeze(0);
}

bool ort_installed() {
  if (sm::onnxruntime_available()) return true;
  ADD_FAILURE() << "ONNX Runtime is neither linked in-process (libonnxruntime-dev, Debian 13) nor installed under "
                   "tools/onnxruntime (or $SRLAB_ONNXRUNTIME_DIR; npm onnxruntime-node): run scripts/setup.sh --tests";
  return false;
}

// Exports every architecture in fp32 and fp16, runs all models on all inputs in one ONNX Runtime
// process and checks the max abs difference to LibTorch, printing one line per model and input.
void check_architectures(const std::vector<Arch>& archs, const std::string& tag) {
  if (!ort_installed()) return;
  torch::manual_seed(42);
  const std::vector<torch::Tensor> random_inputs{torch::rand({1, 3, 17, 23}), torch::rand({2, 3, 32, 32})};
  const torch::Tensor real = set5_lr();
  const fs::path dir = fs::temp_directory_path() / ("srlab_onnx_ort_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);

  std::vector<sm::OrtJob> jobs;
  std::vector<OrtExpect> expected;
  for (size_t i = 0; i < archs.size(); ++i) {
    const sm::Generator g = build(archs[i]);
    std::vector<torch::Tensor> inputs = random_inputs;
    if (archs[i].real_image) inputs.push_back(real);
    std::vector<torch::Tensor> refs;
    {
      torch::NoGradGuard ng;
      for (const auto& x : inputs) refs.push_back(g->forward(x));
    }
    for (bool fp16 : {false, true}) {
      sm::OnnxExportOptions o;
      o.fp16 = fp16;
      const fs::path model = dir / (std::to_string(i) + (fp16 ? "_fp16" : "_fp32") + ".onnx");
      std::ofstream(model, std::ios::binary) << sm::export_onnx(g, o);
      for (size_t k = 0; k < inputs.size(); ++k) {
        jobs.push_back({model, inputs[k]});
        std::string shape = c10::str(inputs[k].sizes());
        expected.push_back({archs[i].yaml + " x" + std::to_string(archs[i].scale) + (fp16 ? " fp16 " : " fp32 ") +
                                shape + (k == 2 ? " Set5/img_001" : ""),
                            refs[k],
                            fp16 ? kTolFp16 * (archs[i].fp16_relative ? std::max(1.0, refs[k].abs().max().item<double>()) : 1.0)
                                 : kTolFp32});
      }
    }
  }
  run_and_compare(jobs, expected, dir);
}

void run_and_compare(const std::vector<sm::OrtJob>& jobs, const std::vector<OrtExpect>& expected, const fs::path& dir) {
  std::vector<sm::OrtResult> results;
  try {
    results = sm::run_onnx_ort(jobs);
  } catch (const srlab::Error& e) {
    ADD_FAILURE() << e.what();
  }
  fs::remove_all(dir);
  ASSERT_EQ(results.size(), expected.size());
  for (size_t j = 0; j < results.size(); ++j) {
    const OrtExpect& e = expected[j];
    ASSERT_EQ(results[j].output.sizes(), e.ref.sizes()) << e.what;
    const double diff = (results[j].output - e.ref).abs().max().item<double>();
    std::cout << "[ORT] " << e.what << ": max abs diff " << diff << " (" << results[j].time_ms << " ms, max |ref| "
              << e.ref.abs().max().item<double>() << ")\n";
    EXPECT_LE(diff, e.tol) << e.what;
  }
}

void check_static_export(const std::string& yaml, int scale, int64_t height, int64_t width, const std::string& tag) {
  if (!ort_installed()) return;
  const sm::Generator g = build({yaml, scale, false});
  sm::OnnxExportOptions o;
  o.height = height;
  o.width = width;
  o.batch = 1;
  const fs::path model = fs::temp_directory_path() / ("srlab_" + tag + "_static_" + std::to_string(::getpid()) + ".onnx");
  std::ofstream(model, std::ios::binary) << sm::export_onnx(g, o);
  torch::manual_seed(5);
  const auto x = torch::rand({1, 3, height, width});
  torch::Tensor ref;
  {
    torch::NoGradGuard ng;
    ref = g->forward(x);
  }
  std::vector<sm::OrtResult> r;
  try {
    r = sm::run_onnx_ort({{model, x}});
  } catch (const srlab::Error& e) {
    ADD_FAILURE() << e.what();
  }
  fs::remove(model);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].output.sizes(), ref.sizes());
  const double diff = (r[0].output - ref).abs().max().item<double>();
  std::cout << "[ORT] " << tag << " static " << height << "x" << width << " x" << scale << ": max abs diff " << diff << "\n";
  EXPECT_LE(diff, kTolFp32);
}

}  // namespace srlab::testing::ort
