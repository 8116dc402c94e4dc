// DRCT ONNX export (deploy/onnx_drct.cpp) run in ONNX Runtime against LibTorch: fp32 <= 1e-4, fp16 <= 1e-2 on
// 1x3x17x23 (reflect padding to window multiples, the runtime shift mask) and 2x3x32x32.
#include <gtest/gtest.h>

#include "tests/deploy/onnx_runtime/ort_check.h"

namespace test_ort_drct {

using namespace srlab::testing::ort;

/// Adds noise in [0, 0.1) to every attn_mask buffer, as weight files in the wild carry (the zoo's DRCT file).
void perturb_masks(srlab::models::Generator& g) {
  torch::manual_seed(11);
  for (auto& kv : g->named_buffers())
    if (kv.key().find("attn_mask") != std::string::npos) kv.value().add_(torch::rand_like(kv.value()) * 0.1);
}

TEST(OnnxRuntime, DrctMatchesLibTorch) {
  // Shifted swin2 / swin4 (img_size 8 > M); img_size 32, where LibTorch uses the stored attn_mask buffers
  // on 32x32; no shift (img_size == M) with identity resi_connection, no patch_norm, no qkv bias; gc 3 with
  // 2 heads gives swin2 / swin4 one head (h - C_k mod h); two RDGs; scales 2, 3, 4, 8. (The Set5 image runs
  // in HatMatchesLibTorch; here it would take seconds.)
  check_architectures({{"{type: drct, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, gc: 4}", 4, false},
                       {"{type: drct, embed_dim: 8, depths: [2, 2], num_heads: [2, 4], window_size: 4, img_size: 32, gc: 4, "
                        "mlp_ratio: 1.5}", 2, false},
                       {"{type: drct, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 4, gc: 3, "
                        "resi_connection: identity, patch_norm: false, qkv_bias: false}", 3, false},
                       {"{type: drct, embed_dim: 6, depths: [1], num_heads: [3], window_size: 8, img_size: 16, gc: 3, "
                        "img_range: 255.0}", 8, false}},
                      "drct");
}

TEST(OnnxRuntime, DrctStaticExportMatchesLibTorch) {
  check_static_export("{type: drct, embed_dim: 8, depths: [1], num_heads: [2], window_size: 4, img_size: 8, gc: 4}", 2, 13, 10, "drct");
}

TEST(OnnxRuntime, DrctModifiedAttentionMaskBuffersMatchLibTorch) {
  // img_size 32: on the 2x3x32x32 input LibTorch uses the (perturbed) stored buffers, on 1x3x17x23 (padded to
  // 20x24) the computed mask; the graph stores the buffers and selects them by the runtime size.
  check_architectures({{"{type: drct, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 32, gc: 4}", 2, false,
                        false, perturb_masks}},
                      "drct_masks");
}

}  // namespace test_ort_drct
