// MoSR ONNX export (deploy/onnx_mosr.cpp): the node types of the ps and gps graphs (Mish and the channel
// LayerNorm from primitives, the gated split as Slices, GPS's mean as Reshape + ReduceMean), initializers
// = state-dict keys, dynamic N, H, W, the K = E split without Concat, and the refusal of the dys upsampler.
// ONNX Runtime parity: tests/deploy/onnx_runtime/test_onnx_runtime.cpp (MosrMatchesLibTorch).
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

namespace test_onnx_mosr {

using namespace srlab::testing::onnx_export;

TEST(OnnxMosr, PixelShuffleGraphMirrorsForward) {
  // B = 2, D = 8, E = 12, K = 8: the gated split has an identity part (i, 4 channels).
  const auto g = build("{type: mosr, n_block: 2, dim: 8, upsampler: ps, kernel_size: 5}", 3);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    const std::set<std::string> inits = initializer_names(m);
    EXPECT_EQ(inits, state_keys(g));
    EXPECT_TRUE(inits.count("gblocks.1.norm.weight"));
    EXPECT_TRUE(inits.count("upsampler.0.weight"));
    const auto n = op_counts(m);
    // gblocks.0, 3 per block, 3 in the tail, shortcut block.0/block.2/conv11, upsampler.0
    EXPECT_EQ(n.at("Conv"), 1 + 3 * 2 + 3 + 3 + 1);
    EXPECT_EQ(n.at("Softplus"), 2 * 2 + 2 + 2);  // Mish: 2 per block, 2 in the tail, 2 in the shortcut
    EXPECT_EQ(n.at("ReduceMean"), 2 * 2);        // the blocks' channel LayerNorm
    EXPECT_EQ(n.at("Slice"), 3 * 2);             // g, i, c per block
    EXPECT_EQ(n.at("Concat"), 2);                // cat(i, conv(c)) per block
    EXPECT_EQ(n.at("DepthToSpace"), 1);
    EXPECT_EQ(n.count("GridSample"), 0u);
    EXPECT_EQ(n.count("Reshape"), 0u);
    expect_dynamic_nhw_input(m);
  }
}

TEST(OnnxMosr, GeoPixelShuffleIsAReshapeAndAMeanOverTheEightGroups) {
  const auto g = build("{type: mosr, n_block: 1, dim: 8, upsampler: gps, kernel_size: 3}", 2);
  const auto m = exported(g);
  const std::set<std::string> inits = initializer_names(m);
  EXPECT_EQ(inits, state_keys(g));
  EXPECT_TRUE(inits.count("upsampler.in_to_k.weight"));
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Conv"), 1 + 3 + 3 + 3 + 1);
  EXPECT_EQ(n.at("Reshape"), 1);
  EXPECT_EQ(n.at("ReduceMean"), 2 + 1);  // LayerNorm (2) + the geo-ensemble mean
  EXPECT_EQ(n.at("Shape"), 1);           // H, W of the view come from the runtime shape
  EXPECT_EQ(n.at("DepthToSpace"), 1);
  // A static export has the same graph with fixed input dims.
  expect_static_export_has_the_same_graph(g, n);
}

TEST(OnnxMosr, FullDepthwiseSplitHasNoConcat) {
  // expansion_ratio 1, conv_ratio 1: K = E, the identity part is empty and cat(i, conv(c)) = conv(c).
  const auto g = build("{type: mosr, n_block: 2, dim: 4, upsampler: ps, kernel_size: 3, expansion_ratio: 1.0, conv_ratio: 1.0}", 2);
  const auto n = op_counts(exported(g));
  EXPECT_EQ(n.count("Concat"), 0u);
  EXPECT_EQ(n.at("Slice"), 2 * 2);  // g and c per block
}

TEST(OnnxMosr, DySampleUpsamplerIsRefusedClearly) {
  const auto g = build("{type: mosr, n_block: 1, dim: 8, upsampler: dys}", 4);
  const std::string e = error_of([&] { sm::export_onnx(g, {}); });
  EXPECT_NE(e.find("mosr cannot be exported faithfully"), std::string::npos) << e;
  EXPECT_NE(e.find("DySample"), std::string::npos) << e;
  EXPECT_NE(e.find("upsampler: dys"), std::string::npos) << e;
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "mosr"));
}

}  // namespace test_onnx_mosr
