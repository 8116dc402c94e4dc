// RRDBNet (models/arch/rrdbnet.h): shapes at x1/x2/x4, BasicSR state-dict keys and parameter counts, the
// pixel-unshuffle channel order, reflect padding of non-divisible sizes, residual scaling, BasicSR's
// initialisation, errors, and the ONNX export (initializer names; OpenCV DNN where it can run).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_opencv.h"
#include "models/arch/registry.h"
#include "models/arch/rrdbnet.h"

namespace sm = srlab::models;
namespace F = torch::nn::functional;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_onnx_rrdbnet {

const char* kTiny = "{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}";

TEST(Rrdbnet, OnnxExportNamesInitializersAfterStateDictKeys) {
  for (int s : {1, 2, 4}) {
    const auto g = srlab::testing::build_generator("{type: rrdbnet, num_feat: 4, num_block: 2, num_grow_ch: 2}", s);
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(sm::export_onnx(g, {})));
    std::vector<std::string> names;
    for (const auto& t : m.graph().initializer()) names.push_back(t.name());
    std::sort(names.begin(), names.end());
    std::vector<std::string> keys = srlab::testing::rrdbnet_basicsr_keys(2);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(names, keys) << "x" << s;
    int resizes = 0, unshuffles = 0, pads = 0;
    for (const auto& n : m.graph().node()) {
      resizes += n.op_type() == "Resize";
      unshuffles += n.op_type() == "SpaceToDepth";
      pads += n.op_type() == "Pad";
    }
    EXPECT_EQ(resizes, 2) << "x" << s;
    EXPECT_EQ(unshuffles, s == 4 ? 0 : 1) << "x" << s;
    EXPECT_EQ(pads, s == 4 ? 0 : 1) << "x" << s;
    // The oldest supported opset (13) has every operator used (Slice with steps, Pad with a pads input).
    sm::OnnxExportOptions o13;
    o13.opset = 13;
    EXPECT_NO_THROW(sm::export_onnx(g, o13)) << "x" << s;
  }
}

TEST(Rrdbnet, OnnxStaticExportMatchesLibTorchInOpenCvDnn) {
  // OpenCV 4.6 DNN on static fp32 exports (ONNX Runtime: tests/models/onnx_runtime). At x1/x2 the
  // padding amounts are computed in the graph (Shape, strided Slice, Mul, Sub, Pad reflect), folded by
  // OpenCV at import: sizes where integer division would round differently (10 / 2 + 0.5, 8 / 4 + 0.75)
  // must still give the exact padding, and divisible sizes none.
  torch::manual_seed(6);
  for (int s : {4, 2, 1})
    for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{9, 10}, {8, 8}, {7, 11}}) {
      const auto g = srlab::testing::build_generator(kTiny, s);
      sm::OnnxExportOptions fixed;
      fixed.batch = 1;
      fixed.height = h;
      fixed.width = w;
      const auto x = torch::rand({1, 3, h, w});
      const std::string bytes = sm::export_onnx(g, fixed);
      torch::NoGradGuard ng;
      const auto ref = g->forward(x);
      torch::Tensor y;
      try {
        y = sm::run_onnx_opencv(bytes, x);
      } catch (const srlab::Error& e) {
        ADD_FAILURE() << "x" << s << " " << h << "x" << w << ": " << e.what();
        continue;
      }
      ASSERT_EQ(y.sizes(), ref.sizes()) << "x" << s << " " << h << "x" << w;
      EXPECT_LE((y - ref).abs().max().item<double>(), 1e-4) << "x" << s << " " << h << "x" << w;
    }
}

}  // namespace test_onnx_rrdbnet
