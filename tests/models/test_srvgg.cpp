// SRVGGNetCompact (models/arch/srvgg.h): shapes at x2/x3/x4, BasicSR state-dict keys (flat body list) and
// parameter counts, the nearest-upsampled residual and pixel-shuffle placement, activations, errors, and
// the ONNX export (initializer names; OpenCV DNN on static exports).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/registry.h"
#include "models/arch/srvgg.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_srvgg {

// Nearest upsampling by repetition (independent of interpolate): (N,C,h,w) -> (N,C,h*s,w*s).
torch::Tensor repeat_upsample(const torch::Tensor& x, int64_t s) {
  return x.repeat_interleave(s, 2).repeat_interleave(s, 3);
}

TEST(Srvgg, OutputShapesAllScalesAndActivationsOddSizes) {
  torch::manual_seed(0);
  const auto lr = torch::rand({2, 3, 7, 9});
  for (int s : {2, 3, 4})
    for (const char* act : {"prelu", "relu", "leakyrelu"}) {
      auto g = srlab::testing::build_generator(std::string("{type: srvgg_compact, num_feat: 8, num_conv: 2, act_type: ") + act + "}", s);
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "srvgg_compact");
      torch::NoGradGuard ng;
      const auto y = g->forward(lr);
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 7 * s, 9 * s})) << act << " x" << s;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  torch::NoGradGuard ng;
  EXPECT_EQ(srlab::testing::build_generator("{type: srvgg_compact, num_feat: 4, num_conv: 0}", 3)->forward(torch::rand({1, 3, 1, 1})).sizes(),
            (std::vector<int64_t>{1, 3, 3, 3}));
}

TEST(Srvgg, StateDictKeysAreExactlyBasicSRs) {
  // BasicSR's ModuleList: body.0 conv, body.1 act, body.2 conv, body.3 act, body.4 conv, body.5 act,
  // body.6 last conv (num_conv 2). PReLU slopes are "body.<odd>.weight"; ReLU/LeakyReLU have no keys.
  const std::vector<std::string> prelu{"body.0.weight", "body.0.bias", "body.1.weight", "body.2.weight",
                                       "body.2.bias",   "body.3.weight", "body.4.weight", "body.4.bias",
                                       "body.5.weight", "body.6.weight", "body.6.bias"};
  const std::vector<std::string> plain{"body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                                       "body.4.weight", "body.4.bias", "body.6.weight", "body.6.bias"};
  for (int s : {2, 3, 4}) {
    const auto g = srlab::testing::build_generator("{type: srvgg_compact, num_feat: 8, num_conv: 2}", s);
    EXPECT_EQ(srlab::testing::parameter_keys(g), prelu) << "x" << s;
    EXPECT_TRUE(g->named_buffers().is_empty());
    const auto p = g->named_parameters();
    EXPECT_EQ(p["body.0.weight"].sizes(), (std::vector<int64_t>{8, 3, 3, 3}));
    EXPECT_EQ(p["body.1.weight"].sizes(), (std::vector<int64_t>{8}));  // num_parameters = num_feat
    EXPECT_EQ(p["body.6.weight"].sizes(), (std::vector<int64_t>{3 * s * s, 8, 3, 3}));
    EXPECT_EQ(p["body.6.bias"].sizes(), (std::vector<int64_t>{3 * s * s}));
    EXPECT_TRUE(torch::allclose(p["body.3.weight"], torch::full({8}, 0.25f)));  // PReLU init 0.25
  }
  EXPECT_EQ(srlab::testing::parameter_keys(srlab::testing::build_generator("{type: srvgg_compact, num_feat: 8, num_conv: 2, act_type: relu}", 4)), plain);
  EXPECT_EQ(srlab::testing::parameter_keys(srlab::testing::build_generator("{type: srvgg_compact, num_feat: 8, num_conv: 2, act_type: leakyrelu}", 4)), plain);
}

TEST(Srvgg, ParameterCountsByHand) {
  // Defaults x4 (F 64, K 16, prelu), by hand:
  //   body.0 3*64*9 + 64 = 1,792; body.1 PReLU 64
  //   16 x (conv 64*64*9 + 64 = 36,928, PReLU 64) = 16 * 36,992 = 591,872
  //   last conv 64*48*9 + 48 = 27,696
  //   total 1,792 + 64 + 591,872 + 27,696 = 621,424
  EXPECT_EQ(sm::count_parameters(*srlab::testing::build_generator("{type: srvgg_compact}", 4)), 621424);
  sm::SrvggOptions o;
  EXPECT_EQ(sm::srvgg_parameter_count(o), 621424);
  // realesr-general-x4v3 (K 32): + 16 * 36,992 = 1,213,296.
  EXPECT_EQ(sm::count_parameters(*srlab::testing::build_generator("{type: srvgg_compact, num_conv: 32}", 4)), 1213296);
  // x2: last conv 64*12*9 + 12 = 6,924 instead of 27,696; relu: 17 * 64 = 1,088 fewer (no slopes).
  EXPECT_EQ(sm::count_parameters(*srlab::testing::build_generator("{type: srvgg_compact}", 2)), 621424 - 27696 + 6924);
  EXPECT_EQ(sm::count_parameters(*srlab::testing::build_generator("{type: srvgg_compact, act_type: relu}", 4)), 621424 - 1088);
  for (int s : {2, 3, 4})
    for (auto act : {sm::SrvggActivation::kPrelu, sm::SrvggActivation::kRelu, sm::SrvggActivation::kLeakyRelu}) {
      sm::SrvggOptions small;
      small.scale = s;
      small.num_feat = 5;
      small.num_conv = 3;
      small.act_type = act;
      EXPECT_EQ(sm::count_parameters(sm::SrvggCompactImpl(small)), sm::srvgg_parameter_count(small)) << "x" << s;
    }
}

TEST(Srvgg, ZeroNetworkIsNearestUpsampleAndBiasesLandOnTheirSubPixels) {
  // Last conv zero except its bias b: y = nearest(x) + shuffle(b), and pixel (c, y*s+i, x*s+j) gets
  // b[c*s*s + i*s + j] (PyTorch's pixel_shuffle order).
  torch::manual_seed(1);
  for (int s : {2, 3, 4}) {
    auto g = srlab::testing::build_generator("{type: srvgg_compact, num_feat: 4, num_conv: 1}", s);
    const int64_t n = 3 * s * s;
    const auto bias = torch::arange(n, torch::kFloat32) * 0.01f;
    {
      torch::NoGradGuard ng;
      auto p = g->named_parameters();
      p["body.4.weight"].zero_();
      p["body.4.bias"].copy_(bias);
    }
    const auto x = torch::rand({2, 3, 5, 4});
    torch::NoGradGuard ng;
    const auto y = g->forward(x) - repeat_upsample(x, s);
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < s; ++i)
        for (int j = 0; j < s; ++j) {
          const auto sub = y.select(1, c).slice(1, i, y.size(2), s).slice(2, j, y.size(3), s);
          const float want = bias[c * s * s + i * s + j].item<float>();
          EXPECT_NEAR(sub.min().item<float>(), want, 1e-6) << "x" << s << " c" << c << " " << i << "," << j;
          EXPECT_NEAR(sub.max().item<float>(), want, 1e-6) << "x" << s << " c" << c << " " << i << "," << j;
        }
  }
}

TEST(Srvgg, ActivationsHaveBasicSRsSlopes) {
  // num_conv 0: body = conv(3->F), act, conv(F->3s^2). body.0 outputs its bias -1 on every feature;
  // body.2 copies feature 0 (centre tap) to every output channel, so y - nearest(x) = act(-1):
  // prelu -0.25 (init), leakyrelu -0.1 (BasicSR's slope for SRVGG), relu 0.
  const std::vector<std::pair<std::string, float>> cases{{"prelu", -0.25f}, {"leakyrelu", -0.1f}, {"relu", 0.0f}};
  for (const auto& [act, want] : cases) {
    auto g = srlab::testing::build_generator("{type: srvgg_compact, num_feat: 2, num_conv: 0, act_type: " + act + "}", 2);
    {
      torch::NoGradGuard ng;
      auto p = g->named_parameters();
      p["body.0.weight"].zero_();
      p["body.0.bias"].fill_(-1.0f);
      p["body.2.weight"].zero_();
      p["body.2.bias"].zero_();
      for (int k = 0; k < 12; ++k) p["body.2.weight"][k][0][1][1] = 1.0f;
    }
    const auto x = torch::rand({1, 3, 3, 4});
    torch::NoGradGuard ng;
    const auto d = g->forward(x) - repeat_upsample(x, 2);
    EXPECT_NEAR(d.min().item<float>(), want, 1e-6) << act;
    EXPECT_NEAR(d.max().item<float>(), want, 1e-6) << act;
  }
}

TEST(Srvgg, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  auto g = srlab::testing::build_generator("{type: srvgg_compact, num_feat: 6, num_conv: 2}", 3);
  g->to(srlab::testing::test_device());
  g->train();
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 5, 6})));
  (y - torch::rand_like(y)).abs().mean().backward();
  for (const auto& kv : g->named_parameters()) {
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
    EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << kv.key();
  }
}

TEST(Srvgg, UnsupportedScalesAndInvalidConfigsAreRefused) {
  for (int s : {1, 5, 8}) {
    const std::string e = error_of([s] { srlab::testing::build_generator("{type: srvgg_compact}", s); });
    EXPECT_NE(e.find("does not support scale " + std::to_string(s)), std::string::npos) << e;
    EXPECT_NE(e.find("2, 3 or 4"), std::string::npos) << e;
  }
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: srvgg_compact, act_type: gelu}", 4); }).find("'model.act_type'"),
            std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: srvgg_compact, num_feat: 0}", 4); }).find("'model.num_feat'"),
            std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: srvgg_compact, num_conv: -2}", 4); }).find("'model.num_conv'"),
            std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: srvgg_compact, upscale: 4}", 4); }).find("unknown key 'model.upscale'"),
            std::string::npos);
  sm::SrvggOptions o;
  o.scale = 1;
  EXPECT_NE(error_of([&] { sm::SrvggCompactImpl net(o); }).find("scale 1"), std::string::npos);
  const auto g = srlab::testing::build_generator("{type: srvgg_compact, num_feat: 4, num_conv: 0}", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({3, 7, 9})); }).find("(N,3,h,w)"), std::string::npos);
  const auto types = sm::generator_types();
  EXPECT_TRUE(std::any_of(types.begin(), types.end(), [](const auto& t) { return t.first == "srvgg_compact"; }));
}

}  // namespace test_srvgg
