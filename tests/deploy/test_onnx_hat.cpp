// HAT ONNX export (deploy/onnx_hat.cpp): initializers = the state-dict keys (the two relative position index
// buffers stored once), dynamic N, H, W, opsets 13 and 17, op counts of the HAB (CAB convs, channel
// attention, window attention), the OCAB (unfold as Pad + two Gathers) and the tail, and the refusal of an
// index buffer outside its bias tables. ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_hat.cpp.
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

namespace test_onnx_hat {

using namespace srlab::testing::onnx_export;

const char* kTiny = "{type: hat, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, compress_ratio: 2, "
                    "squeeze_factor: 4, num_feat: 8, mlp_ratio: 2}";

TEST(OnnxHat, InitializersAreStateDictKeysAndSizesAreDynamic) {
  const auto g = build(kTiny, 2);
  std::set<std::string> want;
  for (const auto& kv : g->named_parameters()) want.insert(kv.key());
  for (const auto& kv : g->named_buffers()) want.insert(kv.key());
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    const std::set<std::string> inits = initializer_names(m);
    EXPECT_EQ(inits, want);
    EXPECT_EQ(static_cast<size_t>(m.graph().initializer_size()), want.size());  // each index buffer once
    EXPECT_TRUE(inits.count("relative_position_index_SA"));
    EXPECT_TRUE(inits.count("relative_position_index_OCA"));
    EXPECT_TRUE(inits.count("layers.0.residual_group.blocks.1.conv_block.cab.3.attention.3.weight"));
    EXPECT_TRUE(inits.count("layers.0.residual_group.overlap_attn.relative_position_bias_table"));
    expect_dynamic_nhw_input(m);
  }
}

TEST(OnnxHat, GraphMirrorsTheHybridAndOverlappingAttentionBlocks) {
  const auto n = op_counts(exported(build(kTiny, 2)));
  // conv_first, 4 per HAB (cab.0, cab.2, attention.1, attention.3), layers.0.conv, conv_after_body,
  // conv_before_upsample, upsample.0, conv_last
  EXPECT_EQ(n.at("Conv"), 1 + 4 * 2 + 1 + 1 + 1 + 1 + 1);
  EXPECT_EQ(n.at("GlobalAveragePool"), 2);
  EXPECT_EQ(n.at("Sigmoid"), 2);
  EXPECT_EQ(n.at("Softmax"), 2 + 1);                 // 2 HABs + the OCAB
  EXPECT_EQ(n.at("Gather"), (1 + 3) * 2 + 1 + 2);    // bias + q, k, v per HAB; the OCAB's bias and unfold rows/cols
  EXPECT_EQ(n.at("Pad"), 2);                         // reflect to window multiples, the unfold's zero padding
  EXPECT_EQ(n.at("Range"), 2 + 2);                   // shift mask rows/cols, unfold rows/cols
  EXPECT_EQ(n.at("Erf"), 2 * 2 + 1);                 // CAB and MLP GELU per HAB, OCAB MLP
  EXPECT_EQ(n.at("ReduceMean"), 2 * (1 + 2 * 2 + 2 + 1));  // LayerNorms: patch, 2 per HAB, 2 OCAB, norm
  EXPECT_EQ(n.at("MatMul"), 6 * 2 + 6);              // qkv, 2 attention, proj, fc1, fc2 per HAB and OCAB
  EXPECT_EQ(n.at("DepthToSpace"), 1);
  EXPECT_EQ(n.count("Resize"), 0u);
  // Without the shift (img_size == window_size) no mask is computed; identity resi_connection drops two convs.
  const auto u = op_counts(exported(build("{type: hat, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 4, "
                                          "compress_ratio: 2, squeeze_factor: 4, num_feat: 8, resi_connection: identity}", 4)));
  EXPECT_EQ(u.at("Range"), 2);
  EXPECT_EQ(u.count("Equal"), 0u);
  EXPECT_EQ(u.at("Conv"), 1 + 4 * 2 + 1 + 2 + 1);
  EXPECT_EQ(u.at("DepthToSpace"), 2);
}

TEST(OnnxHat, StaticExportHasFixedDimsAndTheSameGraph) {
  const auto g = build(kTiny, 3);
  sm::OnnxExportOptions o;
  o.batch = 1;
  o.height = 13;
  o.width = 10;
  const auto s = exported(g, o);
  const auto& in = s.graph().input(0).type().tensor_type().shape().dim();
  EXPECT_EQ(in.Get(2).dim_value(), 13);
  EXPECT_EQ(in.Get(3).dim_value(), 10);
  EXPECT_EQ(op_counts(s), op_counts(exported(g)));
}

TEST(OnnxHat, RefusesAnIndexBufferOutsideItsBiasTables) {
  const auto g = build(kTiny, 2);
  {
    torch::NoGradGuard ng;
    g->named_buffers()["relative_position_index_OCA"].fill_(100000);
  }
  const std::string e = error_of([&] { sm::export_onnx(g, {}); });
  EXPECT_NE(e.find("hat cannot be exported faithfully"), std::string::npos) << e;
  EXPECT_NE(e.find("relative_position_index_OCA"), std::string::npos) << e;
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "hat"));
}

}  // namespace test_onnx_hat
