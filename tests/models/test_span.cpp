// SPAN (models/arch/span.h): shapes at every scale, the reference's state-dict keys and parameter
// counts, Conv3XC re-parameterisation (branches vs folded eval_conv), the parameter-free attention,
// detection from key names/shapes, and config errors. The interop fixture match is in
// test_arch_fixtures.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/registry.h"
#include "models/arch/span.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_span {

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_span.yaml");
  return sm::make_generator(cfg.at("model"), scale);
}

/// Perturbs every parameter (LibTorch's init leaves biases small; the fold must hold for any values).
void perturb(torch::nn::Module& m, double sd) {
  torch::NoGradGuard ng;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * sd);
}

sm::StateDict state_dict_of(const torch::nn::Module& m) {
  sm::StateDict sd;
  for (const auto& kv : m.named_parameters()) sd[kv.key()] = kv.value().detach().clone();
  for (const auto& kv : m.named_buffers()) sd[kv.key()] = kv.value().detach().clone();
  return sd;
}

TEST(Span, ShapesAtEachScale) {
  torch::NoGradGuard ng;
  for (int s : {1, 2, 3, 4, 8}) {
    auto g = build("{type: span, feature_channels: 4}", s);
    EXPECT_EQ(g->scale(), s);
    EXPECT_EQ(g->type(), "span");
    for (bool train : {true, false}) {
      g->train(train);
      const auto y = g->forward(torch::rand({2, 3, 5, 7}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 5 * s, 7 * s})) << "x" << s;
    }
  }
}

TEST(Span, StateDictKeysAndParameterCountsFollowTheReference) {
  // Reference (spandrel span.py): per Conv3XC 10 tensors (sk, conv.0-2, eval_conv; weight + bias);
  // 20 Conv3XC (conv_1, 6 blocks x 3, conv_2) + conv_cat + upsampler.0 = 204 tensors (the fixture's count).
  auto g = build("{type: span, feature_channels: 24}", 4);
  const auto p = g->named_parameters();
  EXPECT_EQ(p.size(), 204u);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> shapes{
      {"conv_1.sk.weight", {24, 3, 1, 1}},          {"conv_1.conv.0.weight", {6, 3, 1, 1}},
      {"conv_1.conv.1.weight", {48, 6, 3, 3}},      {"conv_1.conv.2.weight", {24, 48, 1, 1}},
      {"conv_1.eval_conv.weight", {24, 3, 3, 3}},   {"block_6.c3_r.conv.1.weight", {48, 48, 3, 3}},
      {"block_1.c2_r.eval_conv.bias", {24}},        {"conv_cat.weight", {24, 96, 1, 1}},
      {"conv_2.eval_conv.weight", {24, 24, 3, 3}},  {"upsampler.0.weight", {48, 24, 3, 3}}};
  for (const auto& [k, shape] : shapes) {
    ASSERT_TRUE(p.contains(k)) << k;
    EXPECT_EQ(p[k].sizes(), shape) << k;
  }
  EXPECT_TRUE(g->named_buffers().is_empty());
  // By hand, F = 24: Conv3XC(F,F) = sk 600 + conv.0 1,200 + conv.1 20,784 + conv.2 1,176 + eval 5,208
  // = 28,968 (x19); conv_1 = 96 + 24 + 2,640 + 1,176 + 672 = 4,608; conv_cat 2,328; upsampler 10,416
  // -> 567,744 (the fixture manifest's "parameters").
  EXPECT_EQ(sm::count_parameters(*g), 567744);
  // Default F = 48 at x4: 2,236,728 stored, of which eval uses 426,288 (19 x 20,784 + 1,344 + 9,264 + 20,784).
  EXPECT_EQ(sm::count_parameters(*build("{type: span}", 4)), 2236728);
  // norm: false adds the reference's `no_norm` buffer (zeros(1)).
  const auto nb = build("{type: span, feature_channels: 4, norm: false}", 2)->named_buffers();
  ASSERT_TRUE(nb.contains("no_norm"));
  EXPECT_EQ(nb["no_norm"].sizes(), (std::vector<int64_t>{1}));
}

TEST(Span, Conv3XCFoldedConvMatchesTheBranches) {
  // Training mode: conv.2(conv.1(conv.0(pad(x)))) + sk(x); eval: the folded 3x3 eval_conv. They agree
  // everywhere, borders included, for arbitrary (perturbed) weights and biases.
  torch::manual_seed(5);
  for (auto [cin, cout] : {std::pair<int64_t, int64_t>{3, 8}, {8, 8}, {6, 5}}) {
    sm::Conv3XC c(cin, cout);
    perturb(*c, 0.3);
    const auto x = torch::rand({2, cin, 9, 11});
    torch::NoGradGuard ng;
    c->train();
    const auto branches = c->forward(x);
    c->eval();
    const auto folded = c->forward(x);
    EXPECT_LE((branches - folded).abs().max().item<double>(), 1e-5) << cin << "->" << cout;
    // eval forward stored the fold in eval_conv, as the reference's update_params().
    const auto [w, b] = c->fold();
    EXPECT_TRUE(torch::equal(c->eval_conv->weight, w));
    EXPECT_TRUE(torch::equal(c->eval_conv->bias, b));
    // Independent check of the folded centre tap: a 1x1 input sees only the centre taps.
    const auto one = torch::rand({1, cin, 1, 1});
    c->train();
    const auto br1 = c->forward(one);
    EXPECT_LE((br1.flatten() - (torch::mv(w.select(3, 1).select(2, 1), one.flatten()) + b)).abs().max().item<double>(),
              1e-5);
  }
}

TEST(Span, WholeNetworkEvalMatchesTrainingBranches) {
  // The input is scaled by 255, so compare relative to the output's magnitude as well as absolutely on
  // a norm-free model.
  torch::manual_seed(6);
  for (bool norm : {true, false}) {
    auto g = build(std::string("{type: span, feature_channels: 8, norm: ") + (norm ? "true}" : "false}"), 2);
    perturb(*g, 0.02);
    const auto x = torch::rand({1, 3, 10, 9});
    torch::NoGradGuard ng;
    g->train();
    const auto a = g->forward(x);
    g->eval();
    const auto b = g->forward(x);
    const double scale = std::max(1.0, a.abs().max().item<double>());
    EXPECT_LE((a - b).abs().max().item<double>() / scale, 1e-5) << "norm " << norm;
  }
}

TEST(Span, InputNormalisationAndAttentionAreTheReferences) {
  // With every conv zero except biases: conv_1 -> its bias c; SPAB(x) = (o3 + x) * (sigmoid(o3) - 0.5)
  // with o3 = the c3_r bias; the output is the upsampler bias, shuffled. Check the block formula
  // directly on one SPAB with zero weights and bias beta in c3_r.
  sm::Spab block(4);
  {
    torch::NoGradGuard ng;
    for (auto& p : block->parameters()) p.zero_();
    for (auto& kv : block->named_parameters())
      if (kv.key() == "c3_r.sk.bias") kv.value().fill_(0.7f);
  }
  block->eval();
  const auto x = torch::rand({1, 4, 3, 3});
  torch::NoGradGuard ng;
  const auto [out, out1] = block->forward(x);
  const float att = 1.0f / (1.0f + std::exp(-0.7f)) - 0.5f;
  EXPECT_LE((out - (x + 0.7f) * att).abs().max().item<double>(), 1e-6);
  EXPECT_LE(out1.abs().max().item<double>(), 0.0);
  // norm: with every weight zero except conv_1.sk (channel 0 <- R), conv_cat (0 <- f0 channel 0) and
  // the upsampler's centre tap (0 <- 0), at x1 the blocks output 0 and y_R = (x_R - 0.4488) * 255.
  auto g = build("{type: span, feature_channels: 3}", 1);
  g->eval();
  {
    torch::NoGradGuard z;
    auto p = g->named_parameters();
    for (auto& kv : p) kv.value().zero_();
    p["conv_1.sk.weight"][0][0][0][0] = 1.0f;
    p["conv_cat.weight"][0][0][0][0] = 1.0f;
    p["upsampler.0.weight"][0][0][1][1] = 1.0f;
  }
  const auto lr = torch::rand({1, 3, 4, 5});
  const auto y = g->forward(lr);
  EXPECT_LE((y.select(1, 0) - (lr.select(1, 0) - 0.4488f) * 255.0f).abs().max().item<double>(), 1e-4);
  EXPECT_LE(y.slice(1, 1).abs().max().item<double>(), 0.0);
}

TEST(Span, GradientsReachTheBranchesInTraining) {
  torch::manual_seed(2);
  auto g = build("{type: span, feature_channels: 4}", 2);
  g->to(srlab::testing::test_device());
  g->train();
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 5, 6})));
  (y - torch::rand_like(y)).abs().mean().backward();
  for (const auto& kv : g->named_parameters()) {
    const bool folded = kv.key().find("eval_conv") != std::string::npos;
    EXPECT_EQ(kv.value().grad().defined(), !folded) << kv.key();
  }
}

TEST(Span, DetectorReadsFeaturesScaleAndNorm) {
  for (int s : {2, 4}) {
    auto g = build("{type: span, feature_channels: 12}", s);
    const auto d = sm::detect_span(state_dict_of(*g));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->scale, s);
    EXPECT_NE(d->model_yaml.find("type: span"), std::string::npos);
    EXPECT_NE(d->model_yaml.find("feature_channels: 12"), std::string::npos) << d->model_yaml;
    EXPECT_NE(d->model_yaml.find("norm: true"), std::string::npos) << d->model_yaml;
    // The detected YAML builds the same architecture.
    Config cfg = Config::parse(d->model_yaml, "detected.yaml");
    EXPECT_EQ(sm::count_parameters(*sm::make_generator(cfg, d->scale)), sm::count_parameters(*g));
  }
  auto nn = build("{type: span, feature_channels: 4, norm: false}", 3);
  const auto d = sm::detect_span(state_dict_of(*nn));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->model_yaml.find("norm: false"), std::string::npos);
  // Other architectures' keys: not SPAN.
  EXPECT_FALSE(sm::detect_span(state_dict_of(*build("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 4))));
  // SPAN keys with a block missing: an error naming it.
  auto sd = state_dict_of(*build("{type: span, feature_channels: 4}", 4));
  sd.erase("block_4.c3_r.sk.weight");
  EXPECT_NE(error_of([&] { sm::detect_span(sd); }).find("block_4.c3_r.sk.weight"), std::string::npos);
  // Grayscale (1-channel) SPAN: refused clearly.
  sd = state_dict_of(*build("{type: span, feature_channels: 4}", 4));
  sd["conv_1.sk.weight"] = torch::zeros({4, 1, 1, 1});
  EXPECT_NE(error_of([&] { sm::detect_span(sd); }).find("RGB (3) only"), std::string::npos);
  // A registered detector.
  const auto dets = sm::generator_detectors();
  EXPECT_TRUE(std::any_of(dets.begin(), dets.end(), [](const auto& t) { return t.first == "span"; }));
}

TEST(Span, ConfigErrorsNameTheKey) {
  EXPECT_NE(error_of([] { build("{type: span, feature_channels: 0}", 4); }).find("'model.feature_channels'"),
            std::string::npos);
  EXPECT_NE(error_of([] { build("{type: span, upscale: 4}", 4); }).find("unknown key 'model.upscale'"),
            std::string::npos);
  const std::string e = error_of([] { build("{type: span}", 5); });
  EXPECT_NE(e.find("does not support scale 5"), std::string::npos) << e;
  const auto g = build("{type: span, feature_channels: 4}", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({3, 7, 9})); }).find("(N,3,h,w)"), std::string::npos);
}

}  // namespace test_span
