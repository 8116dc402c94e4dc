// HAT ONNX export (deploy/onnx_hat.cpp) run in ONNX Runtime against LibTorch: fp32 <= 1e-4, fp16 <= 1e-2 on
// 1x3x17x23 (reflect padding to window multiples, the runtime shift mask) and 2x3x32x32.
#include <gtest/gtest.h>

#include "tests/deploy/onnx_runtime/ort_check.h"

namespace test_ort_hat {

using namespace srlab::testing::ort;

TEST(OnnxRuntime, HatMatchesLibTorch) {
  // Shifted HABs (img_size > M) with conv_scale 1 so the CAB branch weighs; unshifted (img_size == M),
  // identity resi_connection, no patch_norm, no qkv bias; overlap ratios 0.5 (Mo = 6), 1 (Mo = 8), 0 (Mo = M);
  // scales 2, 3, 4, 8; img_range 255.
  const std::string small = "type: hat, embed_dim: 8, window_size: 4, compress_ratio: 2, squeeze_factor: 4, num_feat: 8, mlp_ratio: 2";
  check_architectures({{"{" + small + ", depths: [2], num_heads: [2], img_size: 8, conv_scale: 1.0}", 2, true},
                       {"{" + small + ", depths: [2, 1], num_heads: [2, 4], img_size: 4, resi_connection: identity, "
                        "patch_norm: false, qkv_bias: false}", 3, false},
                       {"{" + small + ", depths: [1], num_heads: [4], img_size: 16, overlap_ratio: 1.0, conv_scale: 0.5}", 4, false},
                       {"{" + small + ", depths: [2], num_heads: [1], img_size: 8, overlap_ratio: 0.0, img_range: 255.0}", 8, false}},
                      "hat");
}

TEST(OnnxRuntime, HatStaticExportMatchesLibTorch) {
  check_static_export("{type: hat, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, compress_ratio: 2, "
                      "squeeze_factor: 4, num_feat: 8, mlp_ratio: 2}", 2, 13, 10, "hat");
}

}  // namespace test_ort_hat
