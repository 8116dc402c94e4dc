// ATD ONNX export (deploy/onnx_atd.cpp): initializers = state-dict keys (no_norm reproduced), a symbolic N
// with fixed H, W, opsets 13 and 17, op counts proving the structure (ATD-CA's two L2 normalisations per
// layer, the four softmaxes of a refining layer, AC-MSA's counting sort, scatter and gather back, the mirror
// padding as Gathers), and the refusals of dynamic sizes and of sizes with several AC-MSA groups.
// ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_atd.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tests/test_util.h"
#include "tests/deploy/onnx_test_util.h"

#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
using srlab::testing::error_of;

namespace test_onnx_atd {

using namespace srlab::testing::onnx_export;

sm::OnnxExportOptions fixed(int64_t h, int64_t w, int opset = 17) {
  sm::OnnxExportOptions o;
  o.opset = opset;
  o.height = h;
  o.width = w;
  return o;
}

const char* kSmall =
    "{type: atd, upsampler: pixelshuffle, embed_dim: 16, depths: [2], num_heads: [2], window_size: 8, "
    "category_size: 1024, num_tokens: 8, reducted_dim: 4, convffn_kernel_size: 3, num_feat: 16}";

TEST(OnnxAtd, GraphMirrorsForwardAtAFixedSize) {
  // One ATDB of two layers: layer 0 unshifted and refining the dictionary, layer 1 shifted and last.
  const auto g = build(kSmall, 2);
  for (int opset : {13, 17}) {
    const auto m = exported(g, fixed(17, 23, opset));
    EXPECT_EQ(initializer_names(m), state_keys(g));
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("ReduceL2"), 2 * 2);        // ATD-CA: normalize(q), normalize(k) per layer
    EXPECT_EQ(n.at("Softmax"), 3 * 2 + 1);     // ATD-CA, AC-MSA, window attention; + refinement of layer 0
    EXPECT_EQ(n.at("Sigmoid"), 1);             // sigmoid(sigma) of layer 0
    EXPECT_EQ(n.at("Conv"), 1 + 2 + 1 + 1 + 3);  // conv_first, dwconv x2, ATDB conv, conv_after_body, tail
    EXPECT_EQ(n.at("ReduceMean"), 2 * 6 + 2);  // 6 LayerNorms, InstanceNorm of layer 0
    EXPECT_EQ(n.at("Erf"), 2 * 2);             // ConvFFN: fc1 and depthwise GELU per layer
    EXPECT_EQ(n.at("Min"), 2 * 2);             // AC-MSA: logit_scale clamp, group size min(N, category_size)
    EXPECT_EQ(n.at("Clip"), 2);                // ATD-CA scale clamp per layer
    EXPECT_EQ(n.at("Gather"), 2 + 2 * 7);      // mirror padding (2), per layer q/k/v x2 + bias
    EXPECT_EQ(n.at("Mod"), 2);                 // the mirror indices
    EXPECT_EQ(n.at("DepthToSpace"), 1);
    EXPECT_EQ(n.count("Pad"), 0u);             // mirroring with the edge repeated is not ONNX's reflect
    EXPECT_EQ(n.at("ArgMax"), 2);              // AC-MSA: category per token, per layer
    EXPECT_EQ(n.at("CumSum"), 2 * 2);          // the counting sort's ranks per layer
    EXPECT_EQ(n.at("ScatterElements"), 2);     // into category order per layer
    EXPECT_EQ(n.at("GatherElements"), 2);      // back to token order per layer
    const auto& in = m.graph().input(0).type().tensor_type().shape().dim();
    EXPECT_EQ(in.Get(0).dim_param(), "N");
    EXPECT_EQ(in.Get(1).dim_value(), 3);
    EXPECT_EQ(in.Get(2).dim_value(), 17);
    EXPECT_EQ(in.Get(3).dim_value(), 23);
    const auto& out = m.graph().output(0).type().tensor_type().shape().dim();
    EXPECT_EQ(out.Get(2).dim_value(), 34);
    EXPECT_EQ(out.Get(3).dim_value(), 46);
  }
}

TEST(OnnxAtd, NoNormFlagBufferIsReproducedAndUnusedOptionsLeaveNoNodes) {
  const auto g = build("{type: atd, upsampler: pixelshuffledirect, embed_dim: 12, depths: [1, 1], num_heads: [2, 3], "
                       "window_size: 4, category_size: 64, num_tokens: 6, reducted_dim: 3, qkv_bias: false, "
                       "patch_norm: false, resi_connection: 3conv, norm: false}",
                       3);
  const auto m = exported(g, fixed(7, 8));  // padded to 8x8 = 64 tokens = category_size: one group
  std::set<std::string> want = state_keys(g);
  ASSERT_EQ(want.erase("no_norm"), 1u);
  EXPECT_EQ(initializer_names(m), want);
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Conv"), 1 + 2 * (1 + 3) + 3 + 1);  // conv_first, per ATDB dwconv + 3conv, conv_after_body, upsample.0
  EXPECT_EQ(n.at("ReduceMean"), 2 * 5);              // norm1, norm2 per layer, norm; no patch_norm, no refinement
  EXPECT_EQ(n.count("Sigmoid"), 0u);                 // every layer is the last of its ATDB
  EXPECT_EQ(n.at("DepthToSpace"), 1);
}

TEST(OnnxAtd, DynamicSizesAndSeveralCategoryGroupsAreRefused) {
  const auto g = build(kSmall, 2);
  const std::string dynamic = error_of([&] { sm::export_onnx(g, {}); });
  EXPECT_NE(dynamic.find("atd cannot be exported faithfully"), std::string::npos) << dynamic;
  EXPECT_NE(dynamic.find("stable=false"), std::string::npos) << dynamic;
  EXPECT_NE(dynamic.find("fixed input size"), std::string::npos) << dynamic;
  // 33x32 pads to 40x32 = 1280 tokens > 1024: two groups.
  const std::string large = error_of([&] { sm::export_onnx(g, fixed(33, 32)); });
  EXPECT_NE(large.find("padded to 40x32 = 1280 tokens > category_size 1024"), std::string::npos) << large;
  EXPECT_NO_THROW(sm::export_onnx(g, fixed(32, 32)));
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "atd"));
}

}  // namespace test_onnx_atd
