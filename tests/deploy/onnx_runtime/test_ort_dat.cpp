// DAT ONNX export (deploy/onnx_dat.cpp) in ONNX Runtime against LibTorch: fp32 <= 1e-4, fp16 <= 1e-2 on
// 1x3x17x23 (q, k, v zero-padded to 20x24 in the graph, runtime shifted-window masks) and 2x3x32x32, for
// both upsamplers, both resi_connections, split_size orders [2, 4] / [4, 2] / [1, 2] (a zero shift on one
// axis), num_heads 2 and 4, expansion_factor 2 and 4, qkv_bias off, img_range 255, x2 / x3 / x4 / x8, and
// img_size 32 (the 32x32 input is where LibTorch uses the stored attn_mask buffers). BatchNorm running
// statistics and the channel attention's temperature are randomised in one test (fresh models have the
// identity statistics).
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

TEST(OnnxRuntimeDat, RandomisedBatchNormStatisticsAndTemperatureMatchLibTorch) {
  if (!ort_installed()) return;
  const sm::Generator g = build({"{" + kTiny + ", split_size: [2, 4]}", 2, false});
  torch::manual_seed(7);
  {
    torch::NoGradGuard ng;
    for (auto& kv : g->named_buffers())
      if (kv.key().find("running_mean") != std::string::npos) kv.value().normal_(0.0, 0.5);
      else if (kv.key().find("running_var") != std::string::npos) kv.value().uniform_(0.5, 2.0);
    for (auto& kv : g->named_parameters()) {
      const std::string& k = kv.key();
      const bool bn = k.find("interaction.") != std::string::npos || k.find("dwconv.1.") != std::string::npos;
      if (k.find("temperature") != std::string::npos) kv.value().uniform_(0.5, 3.0);
      else if (bn && k.find(".weight") != std::string::npos && kv.value().dim() == 1) kv.value().uniform_(0.5, 1.5);
      else if (bn && k.find(".bias") != std::string::npos) kv.value().normal_(0.0, 0.2);
    }
  }
  const auto x = torch::rand({2, 3, 15, 18});
  torch::Tensor ref;
  {
    torch::NoGradGuard ng;
    ref = g->forward(x);
  }
  const fs::path model = fs::temp_directory_path() / ("srlab_dat_bn_" + std::to_string(::getpid()) + ".onnx");
  std::ofstream(model, std::ios::binary) << sm::export_onnx(g, {});
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
  std::cout << "[ORT] dat randomised BatchNorm/temperature fp32 2x3x15x18: max abs diff " << diff << "\n";
  EXPECT_LE(diff, kTolFp32);
}

}  // namespace test_ort_dat
