// ONNX Runtime parity of the ATD exporter (deploy/onnx_atd.cpp). ATD exports only fixed input sizes whose
// padded token count fits one AC-MSA category group, so each input (1x3x17x23, 2x3x32x32) gets its own
// fixed-size export (batch N stays symbolic), in float32 (<= 1e-4) and float16 (<= 1e-2). The configs cover
// the three upsamplers, 1conv/3conv, shifted and unshifted layers, dictionary refinement (non-last layers),
// several ATDBs, qkv_bias false, patch_norm false, norm false and img_range 255, window sizes 8 and 4.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "deploy/onnx_export.h"
#include "deploy/onnx_verify.h"
#include "tests/deploy/onnx_runtime/ort_check.h"

namespace test_ort_atd {

namespace sm = srlab::models;
namespace fs = std::filesystem;
using namespace srlab::testing::ort;

void check_fixed_sizes(const std::vector<Arch>& archs, const std::string& tag) {
  if (!ort_installed()) return;
  torch::manual_seed(42);
  const std::vector<torch::Tensor> inputs{torch::rand({1, 3, 17, 23}), torch::rand({2, 3, 32, 32})};
  const fs::path dir = fs::temp_directory_path() / ("srlab_onnx_ort_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<sm::OrtJob> jobs;
  std::vector<OrtExpect> expected;
  for (size_t i = 0; i < archs.size(); ++i) {
    const sm::Generator g = build(archs[i]);
    for (size_t k = 0; k < inputs.size(); ++k) {
      torch::Tensor ref;
      {
        torch::NoGradGuard ng;
        ref = g->forward(inputs[k]);
      }
      for (bool fp16 : {false, true}) {
        sm::OnnxExportOptions o;
        o.fp16 = fp16;
        o.height = inputs[k].size(2);
        o.width = inputs[k].size(3);
        const fs::path model = dir / (std::to_string(i) + "_" + std::to_string(k) + (fp16 ? "_fp16" : "_fp32") + ".onnx");
        std::ofstream(model, std::ios::binary) << sm::export_onnx(g, o);
        jobs.push_back({model, inputs[k]});
        expected.push_back({archs[i].yaml + " x" + std::to_string(archs[i].scale) + (fp16 ? " fp16 " : " fp32 ") +
                                c10::str(inputs[k].sizes()),
                            ref, fp16 ? kTolFp16 : kTolFp32});
      }
    }
  }
  run_and_compare(jobs, expected, dir);
}

TEST(OnnxRuntimeAtd, EveryVariantMatchesLibTorchAtFixedSizes) {
  check_fixed_sizes(
      {{"{type: atd, upsampler: pixelshuffle, embed_dim: 16, depths: [2], num_heads: [2], window_size: 8, "
        "category_size: 1024, num_tokens: 8, reducted_dim: 4, convffn_kernel_size: 3, num_feat: 16}",
        2, false},
       {"{type: atd, upsampler: pixelshuffledirect, embed_dim: 12, depths: [3, 1], num_heads: [2, 3], window_size: 4, "
        "category_size: 1024, num_tokens: 6, reducted_dim: 3, convffn_kernel_size: 5, mlp_ratio: 1.5, qkv_bias: false, "
        "patch_norm: false, resi_connection: 3conv, norm: false}",
        3, false},
       {"{type: atd, upsampler: nearest+conv, embed_dim: 16, depths: [2], num_heads: [4], window_size: 8, "
        "category_size: 1100, num_tokens: 5, reducted_dim: 2, convffn_kernel_size: 3, num_feat: 8, img_range: 255.0}",
        4, false},
       {"{type: atd, upsampler: pixelshuffle, embed_dim: 8, depths: [1], num_heads: [1], window_size: 8, "
        "category_size: 1024, num_tokens: 4, reducted_dim: 2, convffn_kernel_size: 3, num_feat: 8}",
        3, false}},
      "atd");
}

}  // namespace test_ort_atd
