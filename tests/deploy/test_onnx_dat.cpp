// DAT ONNX export (deploy/onnx_dat.cpp): initializers = state-dict keys (minus the attn_mask_* buffers the
// graph recomputes and the BatchNorm num_batches_tracked counters eval mode never reads), dynamic N, H, W,
// opsets 13 and 17, op counts that pin the structure (AIM BatchNorms and pools, channel attention
// normalisation, window softmaxes, one Pad per spatial block, two runtime masks), the static export, the
// pos_dim 0 position bias, and modified attn_mask buffers (stored, selected by If at img_size). ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_dat.cpp.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/test_util.h"
#include "tests/deploy/onnx_test_util.h"

#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
using srlab::testing::error_of;

namespace test_onnx_dat {

using namespace srlab::testing::onnx_export;

// Group 0: block 0 spatial (not shifted), block 1 channel; group 1: block 0 spatial (shifted), block 1 channel.
const std::string kTiny =
    "{type: dat, embed_dim: 32, depth: [2, 2], num_heads: [2, 4], split_size: [2, 4], img_size: 8, num_feat: 8, expansion_factor: 2}";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::set<std::string> stored_keys(const sm::Generator& g) {
  std::set<std::string> want;
  for (const auto& kv : g->named_parameters()) want.insert(kv.key());
  for (const auto& kv : g->named_buffers())
    if (!ends_with(kv.key(), "attn_mask_0") && !ends_with(kv.key(), "attn_mask_1") && !ends_with(kv.key(), "num_batches_tracked"))
      want.insert(kv.key());
  return want;
}

TEST(OnnxDat, GraphMirrorsForward) {
  const auto g = build(kTiny, 2);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    const std::set<std::string> inits = initializer_names(m);
    EXPECT_EQ(inits, stored_keys(g));
    EXPECT_TRUE(inits.count("layers.1.blocks.0.attn.attns.1.rpe_biases"));
    EXPECT_TRUE(inits.count("layers.1.blocks.0.attn.attns.1.pos.pos3.2.weight"));
    EXPECT_TRUE(inits.count("layers.0.blocks.1.attn.temperature"));
    EXPECT_TRUE(inits.count("layers.0.blocks.1.attn.spatial_interaction.1.running_var"));
    EXPECT_FALSE(inits.count("layers.1.blocks.0.attn.attn_mask_0"));
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("BatchNormalization"), 3 * 4);  // dwconv.1, channel_interaction.2, spatial_interaction.1 per block
    EXPECT_EQ(n.at("GlobalAveragePool"), 4);
    EXPECT_EQ(n.at("ReduceL2"), 2 * 2);             // q, k of the two channel blocks
    EXPECT_EQ(n.at("Softmax"), 2 * 2 + 2);          // two window branches per spatial block + channel blocks
    EXPECT_EQ(n.at("Pad"), 2);                      // q, k, v zero padding per spatial block
    EXPECT_EQ(n.at("Equal"), 2);                    // the two branch masks, built once
    EXPECT_EQ(n.at("Range"), 2 * 2);
    EXPECT_EQ(n.at("Relu"), 3 * 2 * 2);             // pos1..pos3 per branch per spatial block
    EXPECT_EQ(n.at("Erf"), 4 * 4);                  // GELU: dwconv, channel and spatial interaction, SGFN
    EXPECT_EQ(n.at("Sigmoid"), 2 * 4);
    // conv_first, 5 AIM + 1 SGFN per block, group convs, conv_after_body, conv_before_upsample, upsample.0, conv_last
    EXPECT_EQ(n.at("Conv"), 1 + 6 * 4 + 2 + 1 + 3);
    EXPECT_EQ(n.at("ReduceMean"), 2 * (2 + 3 * 4 + 3 * 4));  // LayerNorms: before_RG, norm, 3 per block, pos MLPs
    EXPECT_EQ(n.at("DepthToSpace"), 1);
    EXPECT_EQ(n.at("Shape"), 2);  // the input and its stride-m view (padded size)
    expect_dynamic_nhw_input(m);
  }
}

TEST(OnnxDat, UnshiftedModelHasNoMaskAndStaticExportKeepsTheGraph) {
  // depth [2]: only block 0 is spatial and group 0 shifts blocks 2, 6, ...: no mask, no roll.
  const auto g = build("{type: dat, upsampler: pixelshuffledirect, resi_connection: 3conv, embed_dim: 32, depth: [2], "
                       "num_heads: [2], split_size: [4, 2], img_size: 8}", 3);
  const auto m = exported(g);
  const std::set<std::string> inits = initializer_names(m);
  EXPECT_EQ(inits, stored_keys(g));
  EXPECT_TRUE(inits.count("conv_after_body.4.weight"));
  EXPECT_TRUE(inits.count("upsample.0.weight"));
  const auto n = op_counts(m);
  EXPECT_EQ(n.count("Equal"), 0u);
  EXPECT_EQ(n.count("Range"), 0u);
  EXPECT_EQ(n.at("Conv"), 1 + 6 * 2 + 3 + 3 + 1);  // conv_first, blocks, group 3conv, conv_after_body 3conv, upsample.0
  EXPECT_EQ(n.at("DepthToSpace"), 1);
  expect_static_export_has_the_same_graph(g, n);
}

TEST(OnnxDat, ZeroWidthPositionBiasIsPos3BiasExpanded) {
  // embed_dim 24 (the zoo fixture's): pos_dim 0, the position-bias MLP reduces to pos3.2.bias; its zero-size
  // weights are not stored, every other key is.
  const auto g = build("{type: dat, embed_dim: 24, depth: [2, 2], num_heads: [2, 2], split_size: [2, 4], img_size: 64, "
                       "expansion_factor: 2}", 4);
  const auto m = exported(g);
  const std::set<std::string> inits = initializer_names(m);
  std::set<std::string> want = stored_keys(g);
  size_t empty = 0;
  for (const auto& kv : g->named_parameters())
    if (kv.value().numel() == 0) empty += want.erase(kv.key());
  EXPECT_EQ(empty, 2u * 2u * 13u);  // per branch: pos_proj (2), pos1 / pos2 (4 each), pos3.0 (2), pos3.2.weight
  EXPECT_EQ(inits, want);
  EXPECT_TRUE(inits.count("layers.1.blocks.0.attn.attns.0.pos.pos3.2.bias"));
  EXPECT_TRUE(inits.count("layers.1.blocks.0.attn.attns.0.rpe_biases"));
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Expand"), 2 * 2);
  EXPECT_EQ(n.count("Relu"), 0u);
  EXPECT_EQ(n.at("ReduceMean"), 2 * (2 + 3 * 4));  // no position-bias LayerNorms
}

TEST(OnnxDat, ModifiedMaskBufferIsStoredAndSelectedAtImgSize) {
  // A perturbed attn_mask_1 (LibTorch uses it when the padded size is img_size x img_size) is stored and
  // picked by an If at that size; the unmodified attn_mask_0 stays reproduced. Nothing is refused.
  auto g = build(kTiny, 2);
  {
    torch::NoGradGuard ng;
    for (auto& kv : g->named_buffers())
      if (kv.key() == "layers.1.blocks.0.attn.attn_mask_1") kv.value().add_(0.5);
  }
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    const std::set<std::string> inits = initializer_names(m);
    std::set<std::string> want = stored_keys(g);
    want.insert("layers.1.blocks.0.attn.attn_mask_1");
    EXPECT_EQ(inits, want);
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("If"), 1);
    EXPECT_EQ(n.at("ReduceMin"), 1);  // padded size == img_size x img_size, built once
  }
  EXPECT_EQ(op_counts(exported(build(kTiny, 2))).count("If"), 0u);
}

}  // namespace test_onnx_dat
