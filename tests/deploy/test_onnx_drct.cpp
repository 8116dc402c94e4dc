// DRCT ONNX export (deploy/onnx_drct.cpp): initializers = the state-dict keys except the attn_mask buffers
// (recomputed from the runtime size), dynamic N, H, W, opsets 13 and 17, op counts of the residual dense
// group (five Swin layers on growing Concats, 1x1 adjust convs, LeakyReLUs), and a modified attn_mask buffer kept
// (stored, selected by an If at img_size). ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_drct.cpp.
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

namespace test_onnx_drct {

using namespace srlab::testing::onnx_export;

const char* kTiny = "{type: drct, embed_dim: 8, depths: [1], num_heads: [2], window_size: 4, img_size: 8, gc: 4}";

TEST(OnnxDrct, InitializersAreStateDictKeysAndSizesAreDynamic) {
  const auto g = build(kTiny, 2);
  std::set<std::string> want;
  for (const auto& kv : g->named_parameters()) want.insert(kv.key());
  int masks = 0;
  for (const auto& kv : g->named_buffers()) {
    if (kv.key().find("attn_mask") == std::string::npos)
      want.insert(kv.key());
    else
      ++masks;
  }
  EXPECT_EQ(masks, 2);  // swin2, swin4
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    const std::set<std::string> inits = initializer_names(m);
    EXPECT_EQ(inits, want);
    EXPECT_TRUE(inits.count("layers.0.swin5.attn.relative_position_index"));
    EXPECT_TRUE(inits.count("layers.0.adjust5.weight"));
    expect_dynamic_nhw_input(m);
  }
}

TEST(OnnxDrct, GraphMirrorsTheResidualDenseGroup) {
  const auto m = exported(build(kTiny, 2));
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Conv"), 1 + 5 + 1 + 1 + 1 + 1);  // conv_first, adjust1-5, conv_after_body, tail (3)
  EXPECT_EQ(n.at("Softmax"), 5);
  EXPECT_EQ(n.at("LeakyRelu"), 4 + 1);             // adjust1-4, conv_before_upsample
  EXPECT_EQ(n.at("ReduceMean"), 2 * (1 + 2 * 5 + 1));
  EXPECT_EQ(n.at("Equal"), 1);                     // one shift mask for swin2 and swin4
  int dense = 0;
  for (const auto& node : m.graph().node())
    if (node.op_type() == "Concat" && node.name().rfind("layers.0.dense", 0) == 0) ++dense;
  EXPECT_EQ(dense, 4);  // the inputs of swin2..swin5
  // No shift (img_size == window_size): no mask, no attn_mask buffers; two RDGs, identity resi_connection.
  const auto u = op_counts(exported(build("{type: drct, embed_dim: 8, depths: [1, 1], num_heads: [2, 2], window_size: 4, "
                                          "img_size: 4, gc: 3, resi_connection: identity}", 4)));
  EXPECT_EQ(u.count("Equal"), 0u);
  EXPECT_EQ(u.at("Softmax"), 10);
  EXPECT_EQ(u.at("Conv"), 1 + 5 * 2 + 1 + 2 + 1);
}

TEST(OnnxDrct, KeepsAModifiedAttentionMaskBufferAndSelectsItAtImgSize) {
  const auto g = build(kTiny, 2);
  {
    torch::NoGradGuard ng;
    g->named_buffers()["layers.0.swin4.attn_mask"].zero_();
  }
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(sm::export_onnx(g, {})));
  EXPECT_EQ(op_counts(m)["If"], 1);                        // only the modified buffer is selected at run time
  EXPECT_EQ(initializers_containing(m, "attn_mask"), 1);  // and stored; the official ones are recomputed
}

}  // namespace test_onnx_drct
