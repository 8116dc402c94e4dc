// SRVGGNetCompact (models/arch/srvgg.h): shapes at x2/x3/x4, BasicSR state-dict keys (flat body list) and
// parameter counts, the nearest-upsampled residual and pixel-shuffle placement, activations, errors, and
// the ONNX export (initializer names; OpenCV DNN on static exports).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_opencv.h"
#include "models/arch/registry.h"
#include "models/arch/srvgg.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_onnx_srvgg {

// Nearest upsampling by repetition (independent of interpolate): (N,C,h,w) -> (N,C,h*s,w*s).
torch::Tensor repeat_upsample(const torch::Tensor& x, int64_t s) {
  return x.repeat_interleave(s, 2).repeat_interleave(s, 3);
}

TEST(Srvgg, OnnxExportNamesInitializersAfterStateDictKeysAndMatchesOpenCvDnn) {
  // Initializers = state-dict keys (PReLU slopes stored (F,1,1)); static fp32 exports load in OpenCV
  // 4.6 DNN (Conv, PRelu/Relu/LeakyRelu, DepthToSpace, nearest Resize) and match LibTorch.
  torch::manual_seed(3);
  const auto x = torch::rand({1, 3, 9, 10});
  sm::OnnxExportOptions fixed;
  fixed.batch = 1;
  fixed.height = 9;
  fixed.width = 10;
  const std::vector<std::pair<std::string, int>> cases{{"prelu", 2}, {"relu", 3}, {"leakyrelu", 4}};
  for (const auto& [act, s] : cases) {
    const auto g = srlab::testing::build_generator("{type: srvgg_compact, num_feat: 8, num_conv: 2, act_type: " + act + "}", s);
    const std::string bytes = sm::export_onnx(g, fixed);
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(bytes));
    std::vector<std::string> names;
    for (const auto& t : m.graph().initializer()) {
      names.push_back(t.name());
      if (t.name() == "body.1.weight") EXPECT_EQ(std::vector<int64_t>(t.dims().begin(), t.dims().end()),
                                                 (std::vector<int64_t>{8, 1, 1}));
    }
    std::vector<std::string> keys = srlab::testing::parameter_keys(g);
    std::sort(names.begin(), names.end());
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(names, keys) << act;
    torch::NoGradGuard ng;
    const auto ref = g->forward(x);
    torch::Tensor y;
    try {
      y = sm::run_onnx_opencv(bytes, x);
    } catch (const srlab::Error& e) {
      ADD_FAILURE() << act << ": " << e.what();
      continue;
    }
    ASSERT_EQ(y.sizes(), ref.sizes()) << act;
    EXPECT_LE((y - ref).abs().max().item<double>(), 1e-4) << act << " x" << s;
  }
}

}  // namespace test_onnx_srvgg
