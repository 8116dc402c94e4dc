// RCAN ONNX export (deploy/onnx_rcan.cpp): initializers = state-dict keys, dynamic N, H, W, opsets 13 and 17,
// the node types that prove the structure (RCABs with GlobalAveragePool channel attention, mean shifts,
// pixel-shuffle tail, the unshuffle stem's runtime reflect padding + crop), every activation.
// ONNX Runtime parity: tests/deploy/onnx_runtime/test_ort_rcan.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tests/deploy/onnx_test_util.h"
#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;

namespace test_onnx_rcan {

using namespace srlab::testing::onnx_export;

TEST(OnnxRcan, MeanShiftGraphMirrorsForward) {
  // G = 2, B = 2, x4: two pixel-shuffle stages; norm: Mul/Div by rgb_range around sub_mean/add_mean.
  const auto g = build("{type: rcan, n_resgroups: 2, n_resblocks: 2, n_feats: 8, reduction: 4}", 4);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    EXPECT_EQ(initializer_names(m), state_keys(g));
    EXPECT_TRUE(initializer_names(m).count("body.1.body.1.body.3.conv_du.2.weight"));
    EXPECT_TRUE(initializer_names(m).count("sub_mean.weight"));
    const auto n = op_counts(m);
    // sub_mean, head.0, per group 2 RCABs x (2 + 2 attention convs) + 1, body.2, tail 2 + 1, add_mean
    EXPECT_EQ(n.at("Conv"), 1 + 1 + 2 * (2 * 4 + 1) + 1 + 3 + 1);
    EXPECT_EQ(n.at("GlobalAveragePool"), 4);
    EXPECT_EQ(n.at("Sigmoid"), 4);
    EXPECT_EQ(n.at("Relu"), 4 + 4);  // RCAB activation + attention ReLU
    EXPECT_EQ(n.at("Add"), 4 + 2 + 1);  // RCAB skips, group skips, long skip
    EXPECT_EQ(n.at("Mul"), 4 + 1);      // attention scaling + rgb_range
    EXPECT_EQ(n.at("Div"), 1);
    EXPECT_EQ(n.at("DepthToSpace"), 2);
    EXPECT_EQ(n.count("Gather"), 0u);  // no padding without the unshuffle stem
    EXPECT_EQ(n.count("Slice"), 0u);
    expect_dynamic_nhw_input(m);
  }
}

TEST(OnnxRcan, UnshuffleStemPadsFromTheRuntimeShapeAndCrops) {
  const auto g = build("{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 8, reduction: 2, norm: false, unshuffle_mod: true}", 2);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    EXPECT_EQ(initializer_names(m), state_keys(g));
    EXPECT_FALSE(initializer_names(m).count("sub_mean.weight"));
    const auto n = op_counts(m);
    EXPECT_EQ(n.at("Range"), 2);         // reflect-padding indices, one per axis
    EXPECT_EQ(n.at("Gather"), 2 + 2);    // runtime size + the gather of the padded rows / columns
    EXPECT_EQ(n.at("Mod"), 2 + 2);       // pad to the multiple + the reflection period
    EXPECT_EQ(n.at("SpaceToDepth"), 1);  // head.0 pixel_unshuffle(2)
    EXPECT_EQ(n.at("DepthToSpace"), 2);  // the tail is x4
    EXPECT_EQ(n.count("Div"), 0u);       // no rgb_range without norm
    EXPECT_EQ(n.at("Conv"), 1 + (2 + 2 + 1) + 1 + 3);
  }
  // A static export keeps the same graph.
  sm::OnnxExportOptions o;
  o.batch = 1;
  o.height = 13;
  o.width = 6;
  const auto s = exported(g, o);
  EXPECT_EQ(s.graph().output(0).type().tensor_type().shape().dim(2).dim_value(), 26);
  EXPECT_EQ(op_counts(s), op_counts(exported(g)));
}

TEST(OnnxRcan, EveryActivationIsExported) {
  const std::map<std::string, std::string> op{{"leaky_relu", "LeakyRelu"}, {"elu", "Elu"}, {"silu", "Sigmoid"}, {"gelu", "Erf"}};
  for (const auto& [act, node] : op) {
    const auto g = build("{type: rcan, n_resgroups: 1, n_resblocks: 2, n_feats: 4, reduction: 2, act_mode: " + act + "}", 3);
    const auto n = op_counts(exported(g));
    EXPECT_EQ(n.at(node), act == "silu" ? 2 + 2 : 2) << act;
    EXPECT_EQ(n.at("DepthToSpace"), 1) << act;
  }
  const auto none = build("{type: rcan, n_resgroups: 1, n_resblocks: 2, n_feats: 4, reduction: 2, act_mode: none}", 1);
  const auto n = op_counts(exported(none));
  EXPECT_EQ(n.at("Relu"), 2);  // the attention ReLUs only
  EXPECT_EQ(n.count("DepthToSpace"), 0u);
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "rcan"));
}

}  // namespace test_onnx_rcan
