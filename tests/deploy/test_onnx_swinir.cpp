// SwinIR ONNX export (deploy/onnx_swinir.cpp): initializers are the state-dict keys except the attn_mask
// buffers (recomputed in the graph from the runtime size), dynamic H and W, opsets 13 and 17, and the
// a modified attn_mask buffer kept and selected at img_size. ONNX Runtime parity:
// tests/deploy/onnx_runtime/test_onnx_runtime.cpp (SwinirDynamicSizesMatchLibTorch, SwinirStaticExport...).
#include <gtest/gtest.h>

#include <set>

#include "tests/test_util.h"
#include "tests/deploy/onnx_test_util.h"

#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
using srlab::testing::error_of;

namespace test_onnx_swinir {

using namespace srlab::testing::onnx_export;
const char* kTiny = "{type: swinir, upsampler: pixelshuffle, num_feat: 8, embed_dim: 8, depths: [2], num_heads: [2], "
                    "window_size: 4, img_size: 8, mlp_ratio: 2}";

TEST(OnnxSwinir, InitializersAreStateDictKeysAndSizesAreDynamic) {
  const auto g = build(kTiny, 2);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(sm::export_onnx(g, o)));
    const std::set<std::string> inits = initializer_names(m);
    std::set<std::string> want;
    for (const auto& kv : g->named_parameters()) want.insert(kv.key());
    for (const auto& kv : g->named_buffers())
      if (kv.key().find("attn_mask") == std::string::npos) want.insert(kv.key());
    EXPECT_EQ(inits, want);
    EXPECT_TRUE(inits.count("layers.0.residual_group.blocks.0.attn.relative_position_index"));
    const auto& dims = m.graph().input(0).type().tensor_type().shape().dim();
    EXPECT_EQ(dims.Get(2).dim_param(), "H");
    EXPECT_EQ(dims.Get(3).dim_param(), "W");
  }
}

TEST(OnnxSwinir, KeepsAModifiedAttentionMaskBufferAndSelectsItAtImgSize) {
  const auto g = build(kTiny, 2);
  {
    torch::NoGradGuard ng;
    g->named_buffers()["layers.0.residual_group.blocks.1.attn_mask"].zero_();
  }
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(sm::export_onnx(g, {})));
  EXPECT_EQ(op_counts(m)["If"], 1);                        // only the modified buffer is selected at run time
  EXPECT_EQ(initializers_containing(m, "attn_mask"), 1);  // and stored; the official ones are recomputed
}

}  // namespace test_onnx_swinir
