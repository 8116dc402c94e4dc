// Real-CUGAN ONNX export (deploy/onnx_realcugan.cpp): initializers = state-dict keys (the `pro` marker buffer
// reproduced by the pro mapping), dynamic N, H, W, opsets 13 and 17, node types proving the two U-Nets
// (ConvTranspose, SE blocks as GlobalAveragePool, runtime reflect padding, crops), the x4/fast tails.
// ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_realcugan.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tests/deploy/onnx_test_util.h"
#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;

namespace test_onnx_realcugan {

using namespace srlab::testing::onnx_export;

std::set<std::string> parameter_keys(const sm::Generator& g) {
  std::set<std::string> want;
  for (const auto& kv : g->named_parameters()) want.insert(kv.key());
  return want;
}

// unet1: 2 + 1 + (2 + 2 SE) + 1; unet2: 2 + 1 + (2 + 2) + 1 + (2 + 2) + (2 + 2) + 1 + 1.
constexpr int kUNetConvs = 8 + 18;

TEST(OnnxRealCugan, TwoTimesGraphMirrorsForward) {
  const auto g = build("{type: realcugan}", 2);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    EXPECT_EQ(initializer_names(m), parameter_keys(g));
    EXPECT_TRUE(initializer_names(m).count("unet1.conv_bottom.weight"));
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("Conv"), kUNetConvs);
    EXPECT_EQ(n.at("ConvTranspose"), 4);      // unet1 conv2_up, conv_bottom; unet2 conv3_up, conv4_up
    EXPECT_EQ(n.at("GlobalAveragePool"), 4);  // SE blocks: unet1.conv2, unet2.conv2/3/4
    EXPECT_EQ(n.at("LeakyRelu"), 7 + 13);
    EXPECT_EQ(n.at("Range"), 2);              // reflect padding, one per axis
    EXPECT_EQ(n.count("Resize"), 0u);
    EXPECT_EQ(n.count("DepthToSpace"), 0u);
    expect_dynamic_nhw_input(m);
    const auto& out = m.graph().output(0).type().tensor_type().shape().dim();
    EXPECT_EQ(out.Get(2).dim_param(), "H*2");
  }
}

TEST(OnnxRealCugan, FourTimesAndFastAddTheNearestUpscale) {
  for (const auto& [yaml, scale] : std::vector<std::pair<std::string, int>>{{"{type: realcugan}", 4},
                                                                            {"{type: realcugan, fast: true}", 2}}) {
    const auto g = build(yaml, scale);
    const auto m = exported(g);
    EXPECT_EQ(initializer_names(m), parameter_keys(g)) << yaml;
    EXPECT_TRUE(initializer_names(m).count("conv_final.weight")) << yaml;
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("Conv"), kUNetConvs + 1) << yaml;
    EXPECT_EQ(n.at("DepthToSpace"), 1) << yaml;
    EXPECT_EQ(n.at("Resize"), 1) << yaml;
    EXPECT_EQ(n.count("SpaceToDepth"), yaml.find("fast") != std::string::npos ? 1u : 0u) << yaml;
  }
}

TEST(OnnxRealCugan, ProMapsInputAndOutputAndReproducesItsMarkerBuffer) {
  const auto g = build("{type: realcugan, pro: true}", 3);
  bool has_buffer = false;
  for (const auto& kv : g->named_buffers()) has_buffer |= kv.key() == "pro";
  ASSERT_TRUE(has_buffer);
  const auto m = exported(g);
  EXPECT_EQ(initializer_names(m), parameter_keys(g));  // `pro` is not stored: forward() never reads its value
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Div"), 1);  // (y - 0.15) / 0.7
  EXPECT_EQ(n.at("ConvTranspose"), 4);
  EXPECT_EQ(n.count("Resize"), 0u);
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "realcugan"));
}

}  // namespace test_onnx_realcugan
