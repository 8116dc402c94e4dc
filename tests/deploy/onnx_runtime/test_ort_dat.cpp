// DAT ONNX export (deploy/onnx_dat.cpp) in ONNX Runtime against LibTorch: fp32 <= 1e-4, fp16 <= 1e-2 on
// 1x3x17x23 (q, k, v zero-padded to 20x24 in the graph, runtime shifted-window masks) and 2x3x32x32, for
// both upsamplers, both resi_connections, split_size orders [2, 4] / [4, 2] / [1, 2] (a zero shift on one
// axis), num_heads 2 and 4, expansion_factor 2 and 4, qkv_bias off, img_range 255, x2 / x3 / x4 / x8, and
// img_size 32 (the 32x32 input is where LibTorch uses the stored attn_mask buffers), embed_dim 24 (pos_dim
// 0). One test randomises BatchNorm statistics, the channel attention's temperature and the attn_mask
// buffers (fresh models have identity statistics and formula masks).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "deploy/onnx_export.h"
#include "deploy/onnx_verify.h"
#include "tests/deploy/onnx_runtime/ort_check.h"

namespace sm = srlab::models;
namespace fs = std::filesystem;
using namespace srlab::testing::ort;

namespace test_ort_dat {

const std::string kTiny = "type: dat, embed_dim: 32, depth: [2, 2], num_heads: [2, 4], img_size: 8, num_feat: 8";

TEST(OnnxRuntimeDat, PixelShuffleVariantsMatchLibTorch) {
  check_architectures({{"{" + kTiny + ", split_size: [2, 4]}", 2, false},
                       {"{" + kTiny + ", split_size: [4, 2], expansion_factor: 2, qkv_bias: false}", 3, false},
                       {"{" + kTiny + ", split_size: [2, 4], resi_connection: 3conv, img_range: 255.}", 4, false},
                       {"{type: dat, embed_dim: 32, depth: [1, 1], num_heads: [2, 2], split_size: [1, 2], img_size: 8, num_feat: 8, "
                        "expansion_factor: 2}", 8, false}},
                      "dat_ps");
}

TEST(OnnxRuntimeDat, PixelShuffleDirectAndStoredMaskSizeMatchLibTorch) {
  // DAT-light's tail; img_size 32: the 2x3x32x32 input pads to 32x32, where LibTorch uses attn_mask_0/1.
  check_architectures({{"{type: dat, upsampler: pixelshuffledirect, resi_connection: 3conv, embed_dim: 32, depth: [4], "
                        "num_heads: [2], split_size: [2, 4], img_size: 8, expansion_factor: 2}", 4, true},
                       {"{type: dat, upsampler: pixelshuffledirect, embed_dim: 32, depth: [2, 1], num_heads: [2, 2], "
                        "split_size: [4, 8], img_size: 32, expansion_factor: 2}", 2, false}},
                      "dat_direct");
}

TEST(OnnxRuntimeDat, ZeroWidthPositionBiasMatchesLibTorch) {
  // embed_dim < 32: the dynamic position bias has pos_dim 0 (zero-size pos_proj / pos1 / pos2 weights), so the
  // bias is pos3's bias alone (the zoo fixture's configuration: embed_dim 24, split_size [2, 4]).
  check_architectures({{"{type: dat, embed_dim: 24, depth: [2, 2], num_heads: [2, 2], split_size: [2, 4], img_size: 64, "
                        "expansion_factor: 2, num_feat: 8}", 4, false}},
                      "dat_p0");
}

TEST(OnnxRuntimeDat, StaticExportMatchesLibTorch) {
  check_static_export("{type: dat, upsampler: pixelshuffledirect, embed_dim: 32, depth: [2], num_heads: [2], split_size: [2, 4], "
                      "img_size: 8, expansion_factor: 2}", 2, 13, 10, "dat");
}

TEST(OnnxRuntimeDat, PerturbedBuffersAndStatisticsMatchLibTorch) {
  // Randomised BatchNorm statistics / affine parameters and temperature, and perturbed attn_mask buffers
  // (the zoo fixture's are): at 2x3x8x8 (= img_size) LibTorch uses the stored masks, which the graph stores
  // and selects with If; at 1x3x15x18 the computed ones. fp32 at opset 13, fp16 at opset 17.
  if (!ort_installed()) return;
  const sm::Generator g = build({"{" + kTiny + ", split_size: [2, 4]}", 2, false});
  torch::manual_seed(7);
  {
    torch::NoGradGuard ng;
    for (auto& kv : g->named_buffers())
      if (kv.key().find("attn_mask") != std::string::npos) kv.value().add_(torch::randn_like(kv.value()) * 5.0);
      else if (kv.key().find("running_mean") != std::string::npos) kv.value().normal_(0.0, 0.5);
      else if (kv.key().find("running_var") != std::string::npos) kv.value().uniform_(0.5, 2.0);
    for (auto& kv : g->named_parameters()) {
      const std::string& k = kv.key();
      const bool bn = k.find("interaction.") != std::string::npos || k.find("dwconv.1.") != std::string::npos;
      if (k.find("temperature") != std::string::npos) kv.value().uniform_(0.5, 3.0);
      else if (bn && k.find(".weight") != std::string::npos && kv.value().dim() == 1) kv.value().uniform_(0.5, 1.5);
      else if (bn && k.find(".bias") != std::string::npos) kv.value().normal_(0.0, 0.2);
    }
  }
  const std::vector<torch::Tensor> inputs{torch::rand({2, 3, 8, 8}), torch::rand({1, 3, 15, 18})};
  std::vector<torch::Tensor> refs;
  {
    torch::NoGradGuard ng;
    for (const auto& x : inputs) refs.push_back(g->forward(x));
  }
  const fs::path dir = fs::temp_directory_path() / ("srlab_dat_perturbed_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<sm::OrtJob> jobs;
  std::vector<OrtExpect> expected;
  for (bool fp16 : {false, true}) {
    sm::OnnxExportOptions o;
    o.fp16 = fp16;
    o.opset = fp16 ? 17 : 13;  // the oldest supported opset in fp32 (Reduce* axes attributes, If, Pad inputs)
    const fs::path model = dir / (fp16 ? "fp16.onnx" : "fp32.onnx");
    std::ofstream(model, std::ios::binary) << sm::export_onnx(g, o);
    for (size_t k = 0; k < inputs.size(); ++k) {
      jobs.push_back({model, inputs[k]});
      expected.push_back({std::string("dat perturbed buffers ") + (fp16 ? "fp16 opset 17 " : "fp32 opset 13 ") +
                              c10::str(refs[k].sizes()),
                          refs[k], fp16 ? kTolFp16 : kTolFp32});
    }
  }
  run_and_compare(jobs, expected, dir);
}

}  // namespace test_ort_dat
