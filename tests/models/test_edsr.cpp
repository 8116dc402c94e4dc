// EDSR (models/arch/edsr.h): shapes, BasicSR parameter counts and state-dict keys, normalisation, errors.
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/edsr.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
using srlab::core::Config;

using srlab::testing::error_of;

namespace test_edsr {

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_edsr.yaml");
  return sm::make_generator(cfg.at("model"), scale);
}

// BasicSR EDSR state-dict keys, in registration order, written out independently of the C++ code.
std::vector<std::string> basicsr_keys(int num_block, int scale) {
  std::vector<std::string> k{"conv_first.weight", "conv_first.bias"};
  for (int i = 0; i < num_block; ++i)
    for (const char* c : {"conv1", "conv2"})
      for (const char* p : {"weight", "bias"}) k.push_back("body." + std::to_string(i) + "." + c + "." + p);
  k.insert(k.end(), {"conv_after_body.weight", "conv_after_body.bias"});
  const std::vector<int> ups = scale == 4 ? std::vector<int>{0, 2} : std::vector<int>{0};
  for (int u : ups)
    for (const char* p : {"weight", "bias"}) k.push_back("upsample." + std::to_string(u) + "." + p);
  k.insert(k.end(), {"conv_last.weight", "conv_last.bias"});
  return k;
}

TEST(Edsr, OutputShapesOddSizesAllScales) {
  torch::manual_seed(0);
  const auto lr = torch::rand({2, 3, 7, 9});
  for (int s : {2, 3, 4}) {
    for (const char* yaml : {"{type: edsr, num_feat: 8, num_block: 2}", "{type: edsr_baseline}",
                             "{type: edsr, num_feat: 4, num_block: 0, res_scale: 0.1}"}) {
      auto g = build(yaml, s);
      EXPECT_EQ(g->scale(), s);
      torch::NoGradGuard ng;
      const auto y = g->forward(lr);
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 7 * s, 9 * s})) << yaml << " x" << s;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
}

TEST(Edsr, ParameterCountsMatchBasicSR) {
  // BasicSR EDSR(num_feat=64, num_block=16, upscale=4) has 1,517,571 parameters.
  auto x4 = build("{type: edsr_baseline}", 4);
  EXPECT_EQ(sm::count_parameters(*x4), 1517571);
  EXPECT_EQ(x4->type(), "edsr_baseline");
  // x2: one 64->256 upsampling conv (147,712 fewer than x4); x3: one 64->576 conv (331,776 + 576).
  EXPECT_EQ(sm::count_parameters(*build("{type: edsr_baseline}", 2)), 1517571 - 147712);
  EXPECT_EQ(sm::count_parameters(*build("{type: edsr_baseline}", 3)), 1517571 - 2 * 147712 + 332352);
  // "edsr" with its defaults is the same network.
  auto e = build("{type: edsr}", 4);
  EXPECT_EQ(sm::count_parameters(*e), 1517571);
  EXPECT_EQ(e->type(), "edsr");
  sm::EdsrOptions o;
  EXPECT_EQ(sm::edsr_parameter_count(o), 1517571);
  // Paper's full EDSR x4 (256 feat, 32 blocks): 43.09 M parameters by the formula (not instantiated: 170 MB).
  o.num_feat = 256;
  o.num_block = 32;
  EXPECT_EQ(sm::edsr_parameter_count(o), 43089923);
  // Formula vs. instantiated model on a small configuration at every scale.
  for (int s : {2, 3, 4}) {
    sm::EdsrOptions small;
    small.scale = s;
    small.num_feat = 12;
    small.num_block = 3;
    EXPECT_EQ(sm::count_parameters(sm::EdsrImpl(small)), sm::edsr_parameter_count(small)) << "x" << s;
  }
}

TEST(Edsr, StateDictKeysAreExactlyBasicSRs) {
  for (int s : {2, 3, 4}) {
    auto g = build("{type: edsr_baseline}", s);
    std::vector<std::string> keys;
    for (const auto& kv : g->named_parameters()) keys.push_back(kv.key());
    EXPECT_EQ(keys, basicsr_keys(16, s)) << "x" << s;
    // BasicSR's rgb_mean is a plain attribute, not a buffer: nothing else in the state dict.
    EXPECT_TRUE(g->named_buffers().is_empty());
    const auto p = g->named_parameters();
    EXPECT_EQ(p["conv_first.weight"].sizes(), (std::vector<int64_t>{64, 3, 3, 3}));
    EXPECT_EQ(p["body.15.conv2.weight"].sizes(), (std::vector<int64_t>{64, 64, 3, 3}));
    EXPECT_EQ(p["upsample.0.weight"].sizes(), (std::vector<int64_t>{s == 3 ? 576 : 256, 64, 3, 3}));
    EXPECT_EQ(p["conv_last.weight"].sizes(), (std::vector<int64_t>{3, 64, 3, 3}));
  }
}

TEST(Edsr, MeanShiftAndImageRangeFollowBasicSR) {
  // All weights zero: conv_last outputs its bias b, so y = b / img_range + rgb_mean everywhere.
  auto g = build("{type: edsr, num_feat: 4, num_block: 1, img_range: 255., rgb_mean: [0.1, 0.2, 0.3]}", 2);
  {
    torch::NoGradGuard ng;
    for (auto& p : g->parameters()) p.zero_();
    auto* net = dynamic_cast<sm::EdsrImpl*>(g.get());
    ASSERT_NE(net, nullptr);
    net->conv_last->bias.copy_(torch::tensor({51.0f, -25.5f, 0.0f}));
  }
  torch::NoGradGuard ng;
  const auto y = g->forward(torch::rand({1, 3, 3, 5}));
  const float expect[3] = {0.1f + 0.2f, 0.2f - 0.1f, 0.3f};
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(y[0][c].min().item<float>(), expect[c], 1e-6) << c;
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(y[0][c].max().item<float>(), expect[c], 1e-6) << c;
}

TEST(Edsr, IdentityWeightsReproduceNearestUpsampleThroughMeanShiftAndRange) {
  // Hand-set weights that pass the red channel through unchanged: conv_first copies R (centre tap) into
  // feature 0, conv_after_body adds 0 (skip keeps it), upsample.0 copies feature 0 into the 4 channels
  // that pixel-shuffle to its 2x2 sub-pixels, conv_last copies feature 0 into R. Then
  // y_R = ((R - m_R) * range) / range + m_R = R, nearest-upsampled, and y_G = m_G, y_B = m_B.
  // Forgetting to subtract the mean (y_R = R + m_R) or to multiply by range ((R - m_R)/range + m_R)
  // would both fail.
  auto g = build("{type: edsr, num_feat: 4, num_block: 0, img_range: 255., rgb_mean: [0.5, 0.25, 0.125]}", 2);
  {
    torch::NoGradGuard ng;
    auto p = g->named_parameters();
    for (auto& kv : p) kv.value().zero_();
    p["conv_first.weight"][0][0][1][1] = 1.0f;
    for (int k = 0; k < 4; ++k) p["upsample.0.weight"][k][0][1][1] = 1.0f;
    p["conv_last.weight"][0][0][1][1] = 1.0f;
  }
  torch::manual_seed(5);
  const auto x = torch::rand({2, 3, 3, 5});
  torch::NoGradGuard ng;
  const auto y = g->forward(x);
  const auto ref_r = x.select(1, 0).repeat_interleave(2, 1).repeat_interleave(2, 2);
  EXPECT_TRUE(torch::allclose(y.select(1, 0), ref_r, 1e-5, 1e-5))
      << "max diff " << (y.select(1, 0) - ref_r).abs().max().item<float>();
  EXPECT_NEAR(y.select(1, 1).min().item<float>(), 0.25f, 1e-6);
  EXPECT_NEAR(y.select(1, 1).max().item<float>(), 0.25f, 1e-6);
  EXPECT_NEAR(y.select(1, 2).max().item<float>(), 0.125f, 1e-6);
}

TEST(Edsr, ResidualBlockAppliesResScale) {
  torch::manual_seed(3);
  sm::ResidualBlockNoBN block(6, 0.1);
  const auto x = torch::rand({2, 6, 5, 4});
  torch::NoGradGuard ng;
  const auto ref = x + 0.1 * block->conv2->forward(torch::relu(block->conv1->forward(x)));
  EXPECT_TRUE(torch::allclose(block->forward(x), ref, 1e-6, 1e-6));
}

TEST(Edsr, GradientsReachEveryParameter) {
  torch::manual_seed(4);
  auto g = build("{type: edsr, num_feat: 8, num_block: 2}", 3);
  g->to(srlab::testing::test_device());
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 5, 6})));
  (y - torch::rand_like(y)).abs().mean().backward();
  for (const auto& kv : g->named_parameters()) {
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
    EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << kv.key();
  }
}

TEST(Edsr, InvalidConfigErrorsNameTheKey) {
  EXPECT_NE(error_of([] { build("{type: edsr}", 8); }).find("scale"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr_baseline}", 5); }).find("2, 3 or 4"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, num_feat: 0}", 2); }).find("'model.num_feat'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, num_block: -1}", 2); }).find("'model.num_block'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, res_scale: 0}", 2); }).find("'model.res_scale'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, img_range: -1}", 2); }).find("'model.img_range'"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, rgb_mean: [0.1, 0.2]}", 2); }).find("'model.rgb_mean'"),
            std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, rgb_mean: [0.1, x, 0.3]}", 2); }).find("rgb_mean"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: edsr, num_blocks: 4}", 2); }).find("unknown key 'model.num_blocks'"),
            std::string::npos);
  // The preset takes no parameters.
  EXPECT_NE(error_of([] { build("{type: edsr_baseline, num_feat: 32}", 4); }).find("unknown key 'model.num_feat'"),
            std::string::npos);
  const std::string unknown_type = error_of([] { build("{type: edsr_large}", 4); });
  EXPECT_NE(unknown_type.find("'model.type'"), std::string::npos) << unknown_type;
  EXPECT_NE(unknown_type.find("edsr_baseline"), std::string::npos) << unknown_type;
  EXPECT_NE(unknown_type.find("espcn"), std::string::npos) << unknown_type;
  sm::EdsrOptions o;
  o.num_feat = -3;
  EXPECT_NE(error_of([&] { sm::EdsrImpl net(o); }).find("num_feat"), std::string::npos);
}

TEST(Edsr, MalformedInputBatchThrows) {
  auto g = build("{type: edsr, num_feat: 4, num_block: 1}", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 4, 7, 9})); }).find("(N,3,h,w)"), std::string::npos);
  EXPECT_NE(error_of([&] { g->forward(torch::zeros({1, 3, 7, 9}, torch::kInt32)); }).find("floating-point"),
            std::string::npos);
}

TEST(GeneratorRegistry, ListsBuiltinArchitectures) {
  std::vector<std::string> names;
  for (const auto& [name, summary] : sm::generator_types()) {
    names.push_back(name);
    EXPECT_FALSE(summary.empty()) << name;
  }
  for (const char* want : {"edsr", "edsr_baseline", "espcn"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

}  // namespace test_edsr
