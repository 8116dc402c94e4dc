// RGT ONNX export (deploy/onnx_rgt.cpp) checked in ONNX Runtime against LibTorch: fp32 <= 1e-4, fp16 <= 1e-2
// on 1x3x17x23 and 2x3x32x32 (ort_check.h), for small configurations covering L-SA with square and
// rectangular windows in both orders, shifted blocks in the first and in an odd group, the stored-mask
// size (img_size 32 with a 32x32 input), RG-SA, 1conv/3conv, scales 2, 3, 4, 8, the DPB MLP (embed_dim >= 32) and its
// shortcut for pos_dim 0 (embed_dim < 32); plus the sizes the reference cannot run (input reflect-padded to 16 and to 4^T, the
// reflection repeated) and T = 3 RG-SA reductions (the Loop's trip count from the runtime size).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "core/error.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_verify.h"
#include "tests/deploy/onnx_runtime/ort_check.h"

namespace test_ort_rgt {

namespace sm = srlab::models;
namespace fs = std::filesystem;
using namespace srlab::testing::ort;

const std::string kTiny = "type: rgt, embed_dim: 8, num_heads: [2], mlp_ratio: 2, num_feat: 8, c_ratio: 0.5";

TEST(OnnxRuntimeRgt, SmallConfigsMatchLibTorch) {
  check_architectures(
      {// group 1 block 0 shifted, rectangular 4x8 / 8x4 windows, stored masks used by LibTorch at 32x32
       // embed_dim 32: DPB with pos_dim 1 (Linear, LayerNorm, ReLU stages)
       {"{type: rgt, embed_dim: 32, depth: [2, 2], num_heads: [2, 4], mlp_ratio: 1, split_size: [4, 8], img_size: 32, "
        "num_feat: 8}",
        2, true},
       // group 0 block 2 shifted, 3conv, Sh > Sw, x3
       {"{type: rgt, embed_dim: 12, depth: [3], num_heads: [2], mlp_ratio: 2, split_size: [8, 2], img_size: 16, "
        "resi_connection: 3conv, num_feat: 8}",
        3, false},
       // square windows, no shift, x4 (two pixel-shuffle stages), img_range 255
       {"{type: rgt, embed_dim: 8, depth: [2], num_heads: [2], mlp_ratio: 2, split_size: [4, 4], img_range: 255., "
        "num_feat: 8}",
        4, false},
       // the official windows [8, 32] (q|k|v padded to multiples of 32), img_size 64, shifted block 2
       {"{type: rgt, embed_dim: 8, depth: [3], num_heads: [2], mlp_ratio: 2, split_size: [8, 32], img_size: 64, "
        "num_feat: 8}",
        2, false},
       // embed_dim 4, x8, qkv_bias false (the other configs but the first have pos_dim 0: the DPB is pos3's bias)
       {"{type: rgt, embed_dim: 4, depth: [3], num_heads: [2], mlp_ratio: 2, split_size: [2, 4], img_size: 8, "
        "qkv_bias: false, num_feat: 4}",
        8, false}},
      "rgt");
}

TEST(OnnxRuntimeRgt, PaddedSizesAndThreeReductionsMatchLibTorch) {
  if (!ort_installed()) return;
  // 5x9 -> 16x16 (reflection repeated on both axes); 1030x20 -> T = 3, 1030x64 (20 -> 64 repeats the
  // reflection); 1x1 -> 16x16 (replicate).
  const auto g = build({"{" + kTiny + ", depth: [3], split_size: [4, 8], img_size: 16}", 2, false});
  const fs::path dir = fs::temp_directory_path() / ("srlab_rgt_sizes_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path model = dir / "rgt.onnx";
  std::ofstream(model, std::ios::binary) << sm::export_onnx(g, {});
  torch::manual_seed(3);
  const std::vector<torch::Tensor> inputs{torch::rand({1, 3, 5, 9}), torch::rand({1, 3, 1030, 20}), torch::rand({2, 3, 1, 1})};
  std::vector<sm::OrtJob> jobs;
  std::vector<OrtExpect> expected;
  torch::NoGradGuard ng;
  for (const auto& x : inputs) {
    jobs.push_back({model, x});
    expected.push_back({"rgt " + c10::str(x.sizes()), g->forward(x), kTolFp32});
  }
  run_and_compare(jobs, expected, dir);
}

TEST(OnnxRuntimeRgt, StaticExportMatchesLibTorch) {
  check_static_export("{" + kTiny + ", depth: [2], split_size: [4, 8], img_size: 16}", 2, 13, 10, "rgt");
}

}  // namespace test_ort_rgt
