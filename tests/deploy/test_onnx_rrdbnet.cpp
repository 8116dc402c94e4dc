// RRDBNet (models/arch/rrdbnet.h): shapes at x1/x2/x4, BasicSR state-dict keys and parameter counts, the
// pixel-unshuffle channel order, reflect padding of non-divisible sizes, residual scaling, BasicSR's
// initialisation, errors, and the ONNX export (initializer names; OpenCV DNN where it can run).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/test_util.h"

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

namespace {

const char* kTiny = "{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}";

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_rrdbnet.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

// BasicSR RRDBNet state-dict keys, in registration order, written out independently of the C++ code.
std::vector<std::string> basicsr_keys(int num_block) {
  std::vector<std::string> k{"conv_first.weight", "conv_first.bias"};
  for (int i = 0; i < num_block; ++i)
    for (int r = 1; r <= 3; ++r)
      for (int c = 1; c <= 5; ++c)
        for (const char* p : {"weight", "bias"})
          k.push_back("body." + std::to_string(i) + ".rdb" + std::to_string(r) + ".conv" + std::to_string(c) + "." + p);
  for (const char* name : {"conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"})
    for (const char* p : {"weight", "bias"}) k.push_back(std::string(name) + "." + p);
  return k;
}

// BasicSR's arch_util.pixel_unshuffle written with view/permute (independent of torch::pixel_unshuffle):
// (b, c, hh*r, hw*r) -> view (b, c, hh, r, hw, r) -> permute (0,1,3,5,2,4) -> (b, c*r*r, hh, hw).
torch::Tensor reference_unshuffle(const torch::Tensor& x, int64_t r) {
  const int64_t b = x.size(0), c = x.size(1), hh = x.size(2) / r, hw = x.size(3) / r;
  return x.view({b, c, hh, r, hw, r}).permute({0, 1, 3, 5, 2, 4}).reshape({b, c * r * r, hh, hw});
}

torch::Tensor lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)); }

torch::Tensor conv(const torch::Tensor& x, const torch::OrderedDict<std::string, torch::Tensor>& p,
                   const std::string& key) {
  return F::conv2d(x, p[key + ".weight"], F::Conv2dFuncOptions().bias(p[key + ".bias"]).padding(1));
}

// RRDBNet's forward written from the paper's equations with functional ops and the state dict (for
// inputs divisible by the unshuffle factor, where BasicSR defines it).
torch::Tensor reference_forward(const sm::Generator& g, const torch::Tensor& x, int scale, int num_block) {
  const auto p = g->named_parameters();
  torch::Tensor feat = scale == 4 ? x : reference_unshuffle(x, scale == 2 ? 2 : 4);
  feat = conv(feat, p, "conv_first");
  torch::Tensor h = feat;
  for (int i = 0; i < num_block; ++i) {
    torch::Tensor t = h;
    for (int r = 1; r <= 3; ++r) {
      const std::string key = "body." + std::to_string(i) + ".rdb" + std::to_string(r);
      std::vector<torch::Tensor> feats{t};
      for (int c = 1; c <= 4; ++c)
        feats.push_back(lrelu(conv(torch::cat(feats, 1), p, key + ".conv" + std::to_string(c))));
      t = t + 0.2 * conv(torch::cat(feats, 1), p, key + ".conv5");
    }
    h = h + 0.2 * t;
  }
  feat = feat + conv(h, p, "conv_body");
  // nearest x2 = every pixel repeated 2x2
  feat = lrelu(conv(feat.repeat_interleave(2, 2).repeat_interleave(2, 3), p, "conv_up1"));
  feat = lrelu(conv(feat.repeat_interleave(2, 2).repeat_interleave(2, 3), p, "conv_up2"));
  return conv(lrelu(conv(feat, p, "conv_hr")), p, "conv_last");
}


}  // namespace

TEST(Rrdbnet, OnnxExportNamesInitializersAfterStateDictKeys) {
  for (int s : {1, 2, 4}) {
    const auto g = build("{type: rrdbnet, num_feat: 4, num_block: 2, num_grow_ch: 2}", s);
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(sm::export_onnx(g, {})));
    std::vector<std::string> names;
    for (const auto& t : m.graph().initializer()) names.push_back(t.name());
    std::sort(names.begin(), names.end());
    std::vector<std::string> keys = basicsr_keys(2);
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
      const auto g = build(kTiny, s);
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
