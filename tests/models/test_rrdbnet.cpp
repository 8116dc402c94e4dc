// RRDBNet (models/arch/rrdbnet.h): shapes at x1/x2/x4, BasicSR state-dict keys and parameter counts, the
// pixel-unshuffle channel order, reflect padding of non-divisible sizes, residual scaling, BasicSR's
// initialisation, errors, and the ONNX export (initializer names; OpenCV DNN where it can run).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/registry.h"
#include "models/arch/rrdbnet.h"

namespace sm = srlab::models;
namespace F = torch::nn::functional;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_rrdbnet {

const char* kTiny = "{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}";

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

TEST(Rrdbnet, OutputShapesAtScales1To4IncludingOddSizes) {
  torch::manual_seed(0);
  for (int s : {1, 2, 4}) {
    for (const auto& size : {std::vector<int64_t>{2, 3, 8, 12}, std::vector<int64_t>{1, 3, 7, 9},
                             std::vector<int64_t>{1, 3, 5, 6}}) {
      auto g = srlab::testing::build_generator(kTiny, s);
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "rrdbnet");
      torch::NoGradGuard ng;
      const auto y = g->forward(torch::rand(size));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{size[0], 3, size[2] * s, size[3] * s})) << "x" << s;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
  // x4 has no unshuffle: a 1x1 input works.
  torch::NoGradGuard ng;
  EXPECT_EQ(srlab::testing::build_generator(kTiny, 4)->forward(torch::rand({1, 3, 1, 1})).sizes(), (std::vector<int64_t>{1, 3, 4, 4}));
}

TEST(Rrdbnet, StateDictKeysAreExactlyBasicSRs) {
  for (int s : {1, 2, 4}) {
    auto g = srlab::testing::build_generator(kTiny, s);
    std::vector<std::string> keys;
    for (const auto& kv : g->named_parameters()) keys.push_back(kv.key());
    EXPECT_EQ(keys, srlab::testing::rrdbnet_basicsr_keys(1)) << "x" << s;
    EXPECT_TRUE(g->named_buffers().is_empty());
    const auto p = g->named_parameters();
    // conv_first takes 3 * r^2 channels: 48 (x1, r = 4), 12 (x2, r = 2), 3 (x4).
    EXPECT_EQ(p["conv_first.weight"].sizes(), (std::vector<int64_t>{8, s == 1 ? 48 : s == 2 ? 12 : 3, 3, 3}));
    // Dense growth: conv j has F + (j-1)G inputs, G outputs; conv5 F + 4G -> F.
    EXPECT_EQ(p["body.0.rdb1.conv1.weight"].sizes(), (std::vector<int64_t>{4, 8, 3, 3}));
    EXPECT_EQ(p["body.0.rdb2.conv4.weight"].sizes(), (std::vector<int64_t>{4, 8 + 3 * 4, 3, 3}));
    EXPECT_EQ(p["body.0.rdb3.conv5.weight"].sizes(), (std::vector<int64_t>{8, 8 + 4 * 4, 3, 3}));
    EXPECT_EQ(p["conv_last.weight"].sizes(), (std::vector<int64_t>{3, 8, 3, 3}));
  }
  std::vector<std::string> keys;
  for (const auto& kv : srlab::testing::build_generator("{type: rrdbnet, num_feat: 4, num_block: 3, num_grow_ch: 2}", 4)->named_parameters())
    keys.push_back(kv.key());
  EXPECT_EQ(keys, srlab::testing::rrdbnet_basicsr_keys(3));
}

TEST(Rrdbnet, ParameterCountsMatchESRGAN) {
  // ESRGAN x4 (F 64, G 32, B 23), by hand:
  //   conv_first 3*64*9 + 64                                   =      1,792
  //   one ResidualDenseBlock: conv1  64*32*9 + 32 = 18,464; conv2  96*32*9 + 32 = 27,680;
  //     conv3 128*32*9 + 32 = 36,896; conv4 160*32*9 + 32 = 46,112; conv5 192*64*9 + 64 = 110,656
  //     -> 239,808; one RRDB = 3 * 239,808 = 719,424; 23 RRDBs = 16,546,752
  //   conv_body, conv_up1, conv_up2, conv_hr: 4 * (64*64*9 + 64) =    147,712
  //   conv_last 64*3*9 + 3                                       =      1,731
  //   total 1,792 + 16,546,752 + 147,712 + 1,731                 = 16,697,987
  auto x4 = srlab::testing::build_generator("{type: rrdbnet}", 4);
  EXPECT_EQ(sm::count_parameters(*x4), 16697987);
  sm::RrdbNetOptions o;
  EXPECT_EQ(sm::rrdbnet_parameter_count(o), 16697987);
  // x2 / x1: only conv_first changes, 12 / 48 input channels: + 9*9*64 = 5,184 / + 9*45*64 = 25,920.
  o.scale = 2;
  EXPECT_EQ(sm::rrdbnet_parameter_count(o), 16697987 + 5184);
  o.scale = 1;
  EXPECT_EQ(sm::rrdbnet_parameter_count(o), 16697987 + 25920);
  // Real-ESRGAN anime_6B x4 (B 6): 16,697,987 - 17 * 719,424 = 4,467,779.
  o.scale = 4;
  o.num_block = 6;
  EXPECT_EQ(sm::rrdbnet_parameter_count(o), 4467779);
  // Formula vs. instantiated model on small configurations at every scale.
  for (int s : {1, 2, 4}) {
    sm::RrdbNetOptions small;
    small.scale = s;
    small.num_feat = 6;
    small.num_block = 2;
    small.num_grow_ch = 3;
    EXPECT_EQ(sm::count_parameters(sm::RrdbNetImpl(small)), sm::rrdbnet_parameter_count(small)) << "x" << s;
  }
}

TEST(Rrdbnet, ForwardMatchesFunctionalReferenceWithBasicSRsUnshuffleOrder) {
  // Divisible sizes: forward() equals the equations evaluated with functional ops, including BasicSR's
  // view/permute pixel-unshuffle (channel c*r*r + i*r + j); a SpaceToDepth-ordered unshuffle would fail.
  torch::manual_seed(1);
  for (int s : {1, 2, 4}) {
    auto g = srlab::testing::build_generator("{type: rrdbnet, num_feat: 6, num_block: 2, num_grow_ch: 3}", s);
    {  // larger weights than the 0.1-scaled init, so the body matters in the output
      torch::NoGradGuard ng;
      for (auto& p : g->parameters()) p.normal_(0.0, 0.2);
    }
    const auto x = torch::rand({2, 3, 8, 12});
    torch::NoGradGuard ng;
    const auto y = g->forward(x);
    const auto ref = reference_forward(g, x, s, 2);
    ASSERT_EQ(y.sizes(), ref.sizes());
    EXPECT_LE((y - ref).abs().max().item<double>(), 1e-5) << "x" << s;
    // The body is not negligible: dropping it changes the output.
    EXPECT_GT((y - reference_forward(g, x, s, 0)).abs().max().item<double>(), 1e-2) << "x" << s;
  }
}

TEST(Rrdbnet, NonDivisibleInputsAreReflectPaddedThenCropped) {
  // x2 (r = 2) on 7x9: forward(x) = forward(reflect-pad x to 8x10)[..., :14, :18]; x1 (r = 4) on 5x6 ->
  // 8x8, cropped to 5x6. Reflect (not replicate/zero) padding: the padded row 7 equals row 5.
  torch::manual_seed(2);
  struct Case {
    int scale;
    int64_t h, w, ph, pw;
  };
  for (const Case& c : {Case{2, 7, 9, 1, 1}, Case{1, 5, 6, 3, 2}, Case{2, 6, 5, 0, 1}}) {
    auto g = srlab::testing::build_generator(kTiny, c.scale);
    const auto x = torch::rand({1, 3, c.h, c.w});
    torch::NoGradGuard ng;
    const auto padded = F::pad(x, F::PadFuncOptions({0, c.pw, 0, c.ph}).mode(torch::kReflect));
    if (c.ph > 0) EXPECT_TRUE(torch::equal(padded.select(2, c.h).slice(2, 0, c.w), x.select(2, c.h - 2)));
    const auto ref = g->forward(padded).slice(2, 0, c.h * c.scale).slice(3, 0, c.w * c.scale);
    const auto y = g->forward(x);
    ASSERT_EQ(y.sizes(), ref.sizes());
    EXPECT_TRUE(torch::allclose(y, ref, 1e-6, 1e-6)) << "x" << c.scale << " " << c.h << "x" << c.w;
  }
  // Too small for reflect padding: 1 row at x2; 2 rows at x1 (3 works: pad 1 < 3).
  const std::string e2 = error_of([] { srlab::testing::build_generator(kTiny, 2)->forward(torch::rand({1, 3, 1, 6})); });
  EXPECT_NE(e2.find("too small"), std::string::npos) << e2;
  EXPECT_NE(e2.find(">= 2"), std::string::npos) << e2;
  EXPECT_NE(error_of([] { srlab::testing::build_generator(kTiny, 1)->forward(torch::rand({1, 3, 4, 2})); }).find(">= 3"), std::string::npos);
  torch::NoGradGuard ng;
  EXPECT_EQ(srlab::testing::build_generator(kTiny, 1)->forward(torch::rand({1, 3, 3, 3})).sizes(), (std::vector<int64_t>{1, 3, 3, 3}));
}

TEST(Rrdbnet, ResidualScalingIsPointTwo) {
  // conv5 zero: a dense block is the identity; conv5 weights zero and bias b: x + 0.2 b. RRDB of three
  // identity blocks: x + 0.2 x = 1.2 x.
  torch::manual_seed(3);
  sm::ResidualDenseBlock rdb(6, 3);
  sm::Rrdb rrdb(6, 3);
  torch::NoGradGuard ng;
  const auto x = torch::randn({2, 6, 5, 4});
  rdb->conv5->weight.zero_();
  rdb->conv5->bias.fill_(1.5f);
  EXPECT_TRUE(torch::allclose(rdb->forward(x), x + 0.3f, 1e-6, 1e-6));
  for (auto* b : {&rrdb->rdb1, &rrdb->rdb2, &rrdb->rdb3}) {
    (*b)->conv5->weight.zero_();
    (*b)->conv5->bias.zero_();
  }
  EXPECT_TRUE(torch::allclose(rrdb->forward(x), 1.2f * x, 1e-6, 1e-6));
}

TEST(Rrdbnet, DenseBlockConvsUseBasicSRsScaledKaimingInit) {
  // default_init_weights(scale 0.1): weight ~ N(0, (0.1 * sqrt(2 / fan_in))^2), bias 0. conv5 of F 64,
  // G 32: fan_in = 192 * 9, expected std 0.1 * sqrt(2 / 1728) = 0.003402 (110,592 samples: +-2%).
  torch::manual_seed(4);
  sm::ResidualDenseBlock rdb(64, 32);
  const double expect = 0.1 * std::sqrt(2.0 / (192 * 9));
  EXPECT_NEAR(rdb->conv5->weight.std().item<double>(), expect, 0.02 * expect);
  EXPECT_NEAR(rdb->conv5->weight.mean().item<double>(), 0.0, 0.02 * expect);
  for (const auto& kv : rdb->named_parameters())
    if (kv.key().find("bias") != std::string::npos) EXPECT_EQ(kv.value().abs().max().item<float>(), 0.0f) << kv.key();
  // The trunk convs keep LibTorch's default (uniform, non-zero bias).
  auto g = srlab::testing::build_generator(kTiny, 4);
  EXPECT_GT(g->named_parameters()["conv_first.bias"].abs().max().item<float>(), 0.0f);
}

TEST(Rrdbnet, GradientsReachEveryParameter) {
  torch::manual_seed(5);
  auto g = srlab::testing::build_generator(kTiny, 2);
  g->to(srlab::testing::test_device());
  g->train();
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 6, 5})));
  (y - torch::rand_like(y)).abs().mean().backward();
  for (const auto& kv : g->named_parameters()) {
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
    EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << kv.key();
  }
}

TEST(Rrdbnet, UnsupportedScalesAndInvalidConfigsAreRefused) {
  const std::string x3 = error_of([] { srlab::testing::build_generator("{type: rrdbnet}", 3); });
  EXPECT_NE(x3.find("does not support scale 3"), std::string::npos) << x3;
  EXPECT_NE(x3.find("1, 2 or 4"), std::string::npos) << x3;
  EXPECT_NE(error_of([] { srlab::testing::build_generator(kTiny, 8); }).find("scale 8"), std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: rrdbnet, num_feat: 0}", 4); }).find("'model.num_feat'"), std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: rrdbnet, num_block: -1}", 4); }).find("'model.num_block'"), std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: rrdbnet, num_grow_ch: 0}", 4); }).find("'model.num_grow_ch'"),
            std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator("{type: rrdbnet, num_blocks: 6}", 4); }).find("unknown key 'model.num_blocks'"),
            std::string::npos);
  sm::RrdbNetOptions o;
  o.scale = 3;
  EXPECT_NE(error_of([&] { sm::RrdbNetImpl net(o); }).find("scale 3"), std::string::npos);
  o.scale = 4;
  o.num_grow_ch = -1;
  EXPECT_NE(error_of([&] { sm::RrdbNetImpl net(o); }).find("num_grow_ch"), std::string::npos);
  EXPECT_NE(error_of([] { srlab::testing::build_generator(kTiny, 4)->forward(torch::rand({1, 1, 7, 9})); }).find("(N,3,h,w)"),
            std::string::npos);
  // Listed by the registry (and so by `srlab models`).
  const auto types = sm::generator_types();
  EXPECT_TRUE(std::any_of(types.begin(), types.end(), [](const auto& t) { return t.first == "rrdbnet"; }));
}

}  // namespace test_rrdbnet
