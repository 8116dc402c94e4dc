// RGT ONNX export (deploy/onnx_rgt.cpp): initializers = state-dict keys minus the attn_mask buffers the
// graph recomputes, dynamic N, H, W, opsets 13 and 17, node counts that show the structure (two window
// attentions per L-SA block, one Loop of reductions per RG-SA block, the masks built once), and the
// refusals (split_size not nested, modified attn_mask buffers).
// ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_rgt.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"
#include "models/arch/rgt.h"
#include "tests/test_util.h"
#include "tests/deploy/onnx_test_util.h"

namespace test_onnx_rgt {

using namespace srlab::testing::onnx_export;

namespace sm = srlab::models;
using srlab::testing::error_of;

bool is_mask(const std::string& k) { return k.find(".attn_mask_") != std::string::npos; }

// depth [2, 2]: group 0 = L-SA (unshifted), RG-SA; group 1 = L-SA shifted (j = 0 of an odd group), RG-SA.
// embed_dim 32: the DPB has pos_dim 1 (its Linear/LayerNorm/ReLU stages are in the graph).
const std::string kYaml =
    "{type: rgt, embed_dim: 32, depth: [2, 2], num_heads: [2, 4], mlp_ratio: 1, split_size: [4, 8], "
    "img_size: 16, num_feat: 8}";

TEST(OnnxRgt, GraphMirrorsForward) {
  const auto g = build(kYaml, 4);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    std::set<std::string> inits, want, masks;
    for (const auto& t : m.graph().initializer()) inits.insert(t.name());
    for (const auto& kv : g->named_parameters()) want.insert(kv.key());
    for (const auto& kv : g->named_buffers()) (is_mask(kv.key()) ? masks : want).insert(kv.key());
    EXPECT_EQ(inits, want);
    EXPECT_EQ(masks, (std::set<std::string>{"layers.1.blocks.0.attn.attn_mask_0", "layers.1.blocks.0.attn.attn_mask_1"}));
    EXPECT_TRUE(inits.count("layers.0.blocks.0.attn.attns.1.rpe_biases"));
    EXPECT_TRUE(inits.count("layers.1.blocks.1.attn.reduction1.weight"));
    EXPECT_TRUE(inits.count("layers.1.blocks.1.gamma"));
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("Loop"), 2);  // one per RG-SA block (reduction1 applied T times)
    // conv_first, get_v per L-SA, dwconv/conv/cpe per RG-SA, sg.conv per block, group convs,
    // conv_after_body, conv_before_upsample, 2 upsample stages, conv_last
    EXPECT_EQ(n.at("Conv"), 1 + 2 + 3 * 2 + 4 + 2 + 1 + 1 + 2 + 1);
    EXPECT_EQ(n.at("Softmax"), 2 * 2 + 2);                 // two window attentions per L-SA, one per RG-SA
    EXPECT_EQ(n.at("Pad"), 2);                             // L-SA's zero padding of q|k|v
    EXPECT_EQ(n.at("Equal"), 2);                           // the two shift masks, built once
    EXPECT_EQ(n.at("Gather") - 2 * 3 * 2 - 2 * 2, 2 + 1);  // q/k/v + bias per window attention; input padding + 4^T
    EXPECT_EQ(n.at("DepthToSpace"), 2);
    EXPECT_EQ(n.at("Relu"), 3 * 2 * 2);  // DPB: pos1..pos3 per window attention
    for (const auto& node : m.graph().node())
      if (node.op_type() == "Loop") {
        const auto& body = node.attribute(0).g();
        ASSERT_EQ(body.node_size(), 2);
        EXPECT_EQ(body.node(1).op_type(), "Conv");
        EXPECT_EQ(body.node(1).input(1).find("attn.reduction1.weight") != std::string::npos, true);
      }
    expect_dynamic_nhw_input(m);
  }
}

TEST(OnnxRgt, StaticAndFp16ExportsKeepTheGraph) {
  const auto g = build(kYaml, 2);
  const auto n = op_counts(exported(g));
  expect_static_export_has_the_same_graph(g, n);
  sm::OnnxExportOptions h;
  h.fp16 = true;
  const auto f = exported(g, h);
  for (const auto& node : f.graph().node())
    if (node.op_type() == "Loop")
      EXPECT_EQ(node.attribute(0).g().input(2).type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT16);
}

TEST(OnnxRgt, PosDimZeroSkipsTheEmptyDpbWeights) {
  // embed_dim 24 (< 32, as the zoo's rgt_x2_e24): the DPB's pos_dim is 0, its output is pos3's bias; the
  // element-less DPB weights are not stored (ONNX Runtime would warn about unused initializers).
  const auto g =
      build("{type: rgt, embed_dim: 24, depth: [1], num_heads: [2], mlp_ratio: 2, split_size: [2, 4], num_feat: 4}", 2);
  const auto m = exported(g);
  std::set<std::string> inits, want;
  for (const auto& t : m.graph().initializer()) inits.insert(t.name());
  for (const auto& kv : g->named_parameters())
    if (kv.value().numel() > 0)
      want.insert(kv.key());
    else
      EXPECT_NE(kv.key().find(".pos."), std::string::npos) << kv.key();
  for (const auto& kv : g->named_buffers()) want.insert(kv.key());
  EXPECT_EQ(inits, want);
  EXPECT_TRUE(inits.count("layers.0.blocks.0.attn.attns.0.pos.pos3.2.bias"));
  EXPECT_FALSE(inits.count("layers.0.blocks.0.attn.attns.0.pos.pos_proj.weight"));
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Expand"), 2);  // pos3's bias per window attention
  EXPECT_EQ(n.count("Loop"), 0u);
  EXPECT_EQ(n.count("Relu"), 0u);
}

TEST(OnnxRgt, OfficialConfigurationExports) {
  // RGT as published (x4): 8 groups of 6 blocks, embed_dim 180, 6 heads, mlp_ratio 2, windows [8, 32].
  const auto g = build("{type: rgt, embed_dim: 180, depth: [6, 6, 6, 6, 6, 6, 6, 6], num_heads: [6, 6, 6, 6, 6, 6, 6, 6], "
                       "mlp_ratio: 2, split_size: [8, 32], num_feat: 64}",
                       4);
  const auto m = exported(g);
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Loop"), 8 * 3);
  EXPECT_EQ(n.at("Softmax"), 8 * (3 * 2 + 3));
  EXPECT_EQ(n.at("Equal"), 2);
  int masks = 0;
  for (const auto& kv : g->named_buffers()) masks += is_mask(kv.key());
  EXPECT_EQ(masks, 2 * (4 * 1 + 4 * 2));  // shifted blocks: j = 2 in even groups, j = 0, 4 in odd ones; two masks each
  EXPECT_EQ(static_cast<size_t>(m.graph().initializer_size()), g->named_parameters().size() + g->named_buffers().size() - masks);
}

TEST(OnnxRgt, RefusesWhatItCannotReproduce) {
  const auto g = build("{type: rgt, embed_dim: 8, depth: [1], num_heads: [2], mlp_ratio: 2, split_size: [4, 6], num_feat: 4}", 2);
  std::string e = error_of([&] { sm::export_onnx(g, {}); });
  EXPECT_NE(e.find("rgt cannot be exported faithfully"), std::string::npos) << e;
  EXPECT_NE(e.find("split_size [4, 6]"), std::string::npos) << e;

  const auto h = build(kYaml, 2);
  {
    torch::NoGradGuard ng;
    for (auto& kv : h->named_buffers())
      if (kv.key() == "layers.1.blocks.0.attn.attn_mask_1") kv.value().fill_(0.0f);
  }
  e = error_of([&] { sm::export_onnx(h, {}); });
  EXPECT_NE(e.find("layers.1.blocks.0.attn.attn_mask_1"), std::string::npos) << e;
  EXPECT_NE(e.find("differs from the shifted-window mask"), std::string::npos) << e;
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "rgt"));
}

}  // namespace test_onnx_rgt
