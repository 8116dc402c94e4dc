// ESPCN (models/arch/espcn.h): shapes, parameter counts/names, pixel-shuffle layout, residual mode, errors.
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/espcn.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
namespace F = torch::nn::functional;
using srlab::core::Config;

using srlab::testing::error_of;

namespace test_espcn {

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_espcn.yaml");
  return sm::make_generator(cfg.at("model"), scale);
}

std::vector<std::string> param_names(const torch::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& kv : m.named_parameters()) out.push_back(kv.key());
  return out;
}

TEST(Espcn, OutputShapesAllScalesActivationsResiduals) {
  torch::manual_seed(0);
  const auto lr = torch::rand({2, 3, 7, 9});
  for (int s : {2, 3, 4})
    for (const char* act : {"tanh", "relu", "prelu"})
      for (const char* res : {"none", "bicubic", "nearest"}) {
        auto g = build(std::string("{type: espcn, num_feat: 16, activation: ") + act + ", residual: " + res + "}", s);
        EXPECT_EQ(g->scale(), s);
        EXPECT_EQ(g->type(), "espcn");
        torch::NoGradGuard ng;
        const auto y = g->forward(lr);
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 7 * s, 9 * s})) << act << " " << res << " x" << s;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      }
}

TEST(Espcn, ParameterCountsMatchHandComputedValues) {
  // f = 64: conv1 3*64*25+64 = 4864, conv2 64*32*9+32 = 18464, conv3 32*(3s^2)*9 + 3s^2.
  const std::map<int, int64_t> expected{{2, 4864 + 18464 + 3468}, {3, 4864 + 18464 + 7803}, {4, 4864 + 18464 + 13872}};
  for (const auto& [s, n] : expected) {
    auto g = build("{type: espcn}", s);  // defaults: num_feat 64, tanh
    EXPECT_EQ(sm::count_parameters(*g), n) << "x" << s;
    sm::EspcnOptions o;
    o.scale = s;
    EXPECT_EQ(sm::espcn_parameter_count(o), n);
  }
  // PReLU adds one slope per channel of conv1 (64) and conv2 (32).
  auto p = build("{type: espcn, activation: prelu}", 4);
  EXPECT_EQ(sm::count_parameters(*p), 37200 + 96);
}

TEST(Espcn, ParameterNamesAndShapes) {
  auto g = build("{type: espcn, num_feat: 64}", 3);
  EXPECT_EQ(param_names(*g), (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                                         "conv3.weight", "conv3.bias"}));
  const auto params = g->named_parameters();
  EXPECT_EQ(params["conv1.weight"].sizes(), (std::vector<int64_t>{64, 3, 5, 5}));
  EXPECT_EQ(params["conv2.weight"].sizes(), (std::vector<int64_t>{32, 64, 3, 3}));
  EXPECT_EQ(params["conv3.weight"].sizes(), (std::vector<int64_t>{27, 32, 3, 3}));
  EXPECT_TRUE(g->named_buffers().is_empty());
  auto p = build("{type: espcn, activation: prelu, num_feat: 8}", 2);
  const auto pn = param_names(*p);
  EXPECT_NE(std::find(pn.begin(), pn.end(), "act1.weight"), pn.end());
  EXPECT_NE(std::find(pn.begin(), pn.end(), "act2.weight"), pn.end());
  EXPECT_EQ(p->named_parameters()["act2.weight"].numel(), 4);
}

TEST(Espcn, SubPixelLayoutPutsChannelCTimesSSquaredPlusIsPlusJAtOffsetIJ) {
  // With conv3's weights zeroed, the output is conv3's bias shuffled: HR pixel (c, y*s+i, x*s+j) takes
  // channel c*s*s + i*s + j (PyTorch's pixel_shuffle order; see models/arch/espcn.h).
  const int s = 3;
  auto g = build("{type: espcn, num_feat: 8}", s);
  auto* net = dynamic_cast<sm::EspcnImpl*>(g.get());
  ASSERT_NE(net, nullptr);
  {
    torch::NoGradGuard ng;
    net->conv3->weight.zero_();
    net->conv3->bias.copy_(torch::arange(3 * s * s, torch::kFloat32));
  }
  torch::NoGradGuard ng;
  const auto y = g->forward(torch::rand({1, 3, 2, 5}));
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < s; ++i)
      for (int j = 0; j < s; ++j)
        for (int yy = 0; yy < 2; ++yy)
          for (int xx = 0; xx < 5; ++xx)
            ASSERT_FLOAT_EQ(y[0][c][yy * s + i][xx * s + j].item<float>(), static_cast<float>(c * s * s + i * s + j));
}

TEST(Espcn, ResidualWithZeroLastConvEqualsUpsampledInput) {
  torch::manual_seed(1);
  const auto lr = torch::rand({2, 3, 7, 9});
  for (int s : {2, 3, 4}) {
    for (const char* mode : {"nearest", "bicubic"}) {
      auto g = build(std::string("{type: espcn, num_feat: 8, residual: ") + mode + "}", s);
      auto* net = dynamic_cast<sm::EspcnImpl*>(g.get());
      ASSERT_NE(net, nullptr);
      torch::NoGradGuard ng;
      net->conv3->weight.zero_();
      net->conv3->bias.zero_();
      const auto y = g->forward(lr);
      torch::Tensor ref;
      if (std::string(mode) == "nearest")  // independent reference: each LR pixel repeated s x s
        ref = lr.repeat_interleave(s, 2).repeat_interleave(s, 3);
      else
        ref = F::interpolate(lr, F::InterpolateFuncOptions()
                                     .size(std::vector<int64_t>{7 * s, 9 * s})
                                     .mode(torch::kBicubic)
                                     .align_corners(false));
      EXPECT_TRUE(torch::equal(y, ref)) << mode << " x" << s << " max diff " << (y - ref).abs().max().item<float>();
    }
  }
  // Bicubic of a constant image is that constant (the cubic kernel's weights sum to 1).
  auto g = build("{type: espcn, num_feat: 8, residual: bicubic}", 4);
  auto* net = dynamic_cast<sm::EspcnImpl*>(g.get());
  torch::NoGradGuard ng;
  net->conv3->weight.zero_();
  net->conv3->bias.zero_();
  const auto y = g->forward(torch::full({1, 3, 5, 6}, 0.375f));
  EXPECT_LT((y - 0.375f).abs().max().item<float>(), 1e-6f);
}

TEST(Espcn, WithoutResidualZeroLastConvGivesZero) {
  auto g = build("{type: espcn, num_feat: 8}", 2);
  auto* net = dynamic_cast<sm::EspcnImpl*>(g.get());
  torch::NoGradGuard ng;
  net->conv3->weight.zero_();
  net->conv3->bias.zero_();
  EXPECT_EQ(g->forward(torch::rand({1, 3, 4, 4})).abs().max().item<float>(), 0.0f);
}

TEST(Espcn, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  auto g = build("{type: espcn, num_feat: 8, activation: prelu, residual: bicubic}", 3);
  g->to(srlab::testing::test_device());
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 5, 7})));
  (y - torch::rand_like(y)).abs().mean().backward();
  for (const auto& kv : g->named_parameters()) {
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
    EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << kv.key();
  }
}

TEST(Espcn, InvalidConfigErrorsNameTheKey) {
  EXPECT_NE(error_of([] { build("{type: espcn}", 5); }).find("scale"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: espcn}", 1); }).find("2, 3 or 4"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: espcn, num_feat: 7}", 2); }).find("'model.num_feat'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: espcn, num_feat: 0}", 2); }).find("'model.num_feat'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: espcn, num_feat: abc}", 2); }).find("'model.num_feat'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: espcn, activation: gelu}", 2); }).find("'model.activation'"),
            std::string::npos);
  EXPECT_NE(error_of([] { build("{type: espcn, residual: bilinear}", 2); }).find("'model.residual'"),
            std::string::npos);
  const std::string unknown = error_of([] { build("{type: espcn, num_feats: 32}", 2); });
  EXPECT_NE(unknown.find("unknown key 'model.num_feats'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("test_espcn.yaml"), std::string::npos) << unknown;
  // Direct construction validates too.
  sm::EspcnOptions o;
  o.scale = 8;
  EXPECT_NE(error_of([&] { sm::EspcnImpl net(o); }).find("scale 8"), std::string::npos);
}

TEST(Espcn, MalformedInputBatchThrows) {
  auto g = build("{type: espcn, num_feat: 8}", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({3, 7, 9})); }).find("(N,3,h,w)"), std::string::npos);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 7, 9})); }).find("(N,3,h,w)"), std::string::npos);
  EXPECT_NE(error_of([&] { g->forward(torch::zeros({1, 3, 7, 9}, torch::kUInt8)); }).find("floating-point"),
            std::string::npos);
  EXPECT_NE(error_of([&] { g->forward(torch::Tensor()); }).find("undefined"), std::string::npos);
}

}  // namespace test_espcn
