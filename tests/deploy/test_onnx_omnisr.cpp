// OmniSR ONNX export (deploy/onnx_omnisr.cpp): initializers = state-dict keys (the relative position index is
// no state-dict key: a Constant), dynamic N, H, W, opsets 13 and 17, the node types that prove the structure
// (zero Pad, ESA's MaxPool + Resize, window / grid attention, channel attention's ReduceL2, DepthToSpace, the
// crop), pe off without the bias Gather, and a non-OmniSR module refused. ONNX Runtime parity:
// tests/deploy/onnx_runtime/test_ort_omnisr.cpp.
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

namespace test_onnx_omnisr {

using namespace srlab::testing::onnx_export;

TEST(OnnxOmnisr, GraphMirrorsForwardWithStateDictKeysAndDynamicSizes) {
  // 2 OSAGs of 2 OSA blocks: 4 blocks, 2 ESAs.
  const auto g = build("{type: omnisr, num_feat: 8, window_size: 4, block_num: 2, res_num: 2}", 3);
  for (int opset : {13, 17}) {
    sm::OnnxExportOptions o;
    o.opset = opset;
    const auto m = exported(g, o);
    const std::set<std::string> inits = initializer_names(m);
    EXPECT_EQ(inits, state_keys(g));
    EXPECT_TRUE(inits.count("residual_layer.1.residual_layer.1.layer.8.fn.rel_pos_bias.weight"));
    EXPECT_TRUE(inits.count("residual_layer.0.residual_layer.0.layer.11.fn.temperature"));
    EXPECT_TRUE(inits.count("residual_layer.1.esa.conv4.bias"));
    const auto n = op_counts(m);
    const int blocks = 4, groups = 2;
    // per block: MBConv 3, 4 FFNs x 3, 2 channel attentions x 3; per group: 1x1 conv + ESA 5; input, output, up.0
    EXPECT_EQ(n.at("Conv"), blocks * (3 + 4 * 3 + 2 * 3) + groups * (1 + 5) + 3);
    EXPECT_EQ(n.at("Pad"), 1);
    EXPECT_EQ(n.at("MaxPool"), groups);
    EXPECT_EQ(n.at("Resize"), groups);
    EXPECT_EQ(n.at("Softmax"), blocks * 4);           // 2 self-attentions + 2 channel attentions
    EXPECT_EQ(n.at("ReduceL2"), blocks * 2 * 2);      // q and k of each channel attention
    EXPECT_EQ(n.at("Erf"), blocks * (2 + 4));         // GELU: 2 in MBConv, 1 per gated FFN
    EXPECT_EQ(n.at("Gather"), blocks * 2 * (3 + 1));  // q, k, v and the relative bias per self-attention
    EXPECT_EQ(n.at("ReduceMean"), blocks * (1 + 2 * 2 + 6 * 2));  // SE pool, 2 LayerNorms, 6 LayerNorm2d
    EXPECT_EQ(n.at("DepthToSpace"), 1);
    expect_dynamic_nhw_input(m);
    bool zero_pad = false;
    for (const auto& node : m.graph().node())
      if (node.op_type() == "Pad")
        for (const auto& a : node.attribute()) zero_pad = zero_pad || (a.name() == "mode" && a.s() == "constant");
    EXPECT_TRUE(zero_pad);
  }
}

TEST(OnnxOmnisr, WithoutPositionBiasOrConvBiasesTheGraphHasNoSuchInitializers) {
  const auto g = build("{type: omnisr, num_feat: 8, window_size: 8, pe: false, bias: false}", 2);
  const auto m = exported(g);
  const std::set<std::string> inits = initializer_names(m);
  EXPECT_EQ(inits, state_keys(g));
  EXPECT_FALSE(inits.count("input.bias"));
  const auto n = op_counts(m);
  EXPECT_EQ(n.at("Gather"), 2 * 3);  // q, k, v only
  // A static export has the same graph with fixed input dims.
  sm::OnnxExportOptions o;
  o.batch = 1;
  o.height = 20;
  o.width = 17;
  const auto s = exported(g, o);
  const auto& in = s.graph().input(0).type().tensor_type().shape().dim();
  EXPECT_EQ(in.Get(2).dim_value(), 20);
  EXPECT_EQ(in.Get(3).dim_value(), 17);
  EXPECT_EQ(op_counts(s), n);
  const auto types = sm::onnx_exportable_types();
  EXPECT_TRUE(std::count(types.begin(), types.end(), "omnisr"));
}

/// A generator that calls itself omnisr but is no OmniSrImpl (the exporter must refuse, not guess).
class NotOmnisr : public sm::GeneratorImpl {
 public:
  torch::Tensor forward(torch::Tensor lr) override { return lr; }
  int scale() const override { return 1; }
  std::string type() const override { return "omnisr"; }
};

TEST(OnnxOmnisr, AModuleThatIsNoOmniSrIsRefused) {
  const sm::Generator g = std::make_shared<NotOmnisr>();
  const std::string e = error_of([&] { sm::export_onnx(g, {}); });
  EXPECT_NE(e.find("omnisr cannot be exported faithfully"), std::string::npos) << e;
  EXPECT_NE(e.find("not an OmniSrImpl"), std::string::npos) << e;
}

}  // namespace test_onnx_omnisr
