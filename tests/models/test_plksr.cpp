// PLKSR / RealPLKSR (models/arch/plksr.h) and DySample (models/arch/dysample.h): shapes at every scale,
// the reference's state-dict keys, the partial large kernel, LayerNorm/GroupNorm, DySample against
// bilinear upsampling, detection and config errors. Fixture matches: test_arch_fixtures.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/plksr.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
namespace F = torch::nn::functional;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_plksr {

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_plksr.yaml");
  return sm::make_generator(cfg.at("model"), scale);
}

sm::StateDict state_dict_of(const torch::nn::Module& m) {
  sm::StateDict sd;
  for (const auto& kv : m.named_parameters()) sd[kv.key()] = kv.value().detach().clone();
  for (const auto& kv : m.named_buffers()) sd[kv.key()] = kv.value().detach().clone();
  return sd;
}

std::vector<std::string> keys_of(const torch::nn::Module& m) {
  std::vector<std::string> k;
  for (const auto& kv : state_dict_of(m)) k.push_back(kv.first);
  return k;
}

const char* kSmall = "dim: 8, n_blocks: 2, kernel_size: 5";

TEST(Plksr, ShapesAtEachScaleForEveryVariant) {
  torch::NoGradGuard ng;
  const std::vector<std::string> variants{
      "{type: plksr, " + std::string(kSmall) + "}",
      "{type: plksr, " + std::string(kSmall) + ", ccm_type: ICCM, use_ea: false, with_idt: true}",
      "{type: realplksr, " + std::string(kSmall) + "}",
      "{type: realplksr, " + std::string(kSmall) + ", layer_norm: true}",
      "{type: realplksr, " + std::string(kSmall) + ", dysample: true}"};
  for (const auto& v : variants)
    for (int s : {1, 2, 3, 4, 8}) {
      auto g = build(v, s);
      for (bool train : {true, false}) {
        g->train(train);
        const auto y = g->forward(torch::rand({2, 3, 6, 5}));
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 6 * s, 5 * s})) << v << " x" << s;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << v;
      }
    }
}

TEST(Plksr, StateDictKeysFollowTheReference) {
  // RealPLKSR dim 32, 2 blocks, x4, kernel 13 = the fixture's 28 tensors (feats.3 is the Dropout2d).
  const auto real = keys_of(*build("{type: realplksr, dim: 32, n_blocks: 2, kernel_size: 13}", 4));
  EXPECT_EQ(real.size(), 28u);
  for (const char* k : {"feats.0.weight", "feats.1.attn.f.0.weight", "feats.1.channel_mixer.0.weight",
                        "feats.1.channel_mixer.2.bias", "feats.1.lk.conv.weight", "feats.1.norm.weight",
                        "feats.2.refine.bias", "feats.4.weight", "feats.4.bias"})
    EXPECT_TRUE(std::count(real.begin(), real.end(), k)) << k;
  auto g = build("{type: realplksr, dim: 32, n_blocks: 2, kernel_size: 13}", 4);
  const auto p = g->named_parameters();
  EXPECT_EQ(p["feats.1.lk.conv.weight"].sizes(), (std::vector<int64_t>{8, 8, 13, 13}));
  EXPECT_EQ(p["feats.4.weight"].sizes(), (std::vector<int64_t>{48, 32, 3, 3}));
  EXPECT_EQ(sm::count_parameters(*g), 131072);  // the fixture manifest's "parameters"
  // PLKSR: the reference's `channe_mixer` spelling, no norm, last conv at feats.B+1.
  const auto plk = keys_of(*build("{type: plksr, dim: 8, n_blocks: 2, kernel_size: 5}", 2));
  EXPECT_TRUE(std::count(plk.begin(), plk.end(), "feats.2.channe_mixer.2.weight"));
  EXPECT_TRUE(std::count(plk.begin(), plk.end(), "feats.3.weight"));
  EXPECT_FALSE(std::count(plk.begin(), plk.end(), "feats.1.norm.weight"));
  const auto ln = keys_of(*build("{type: realplksr, dim: 8, n_blocks: 1, layer_norm: true}", 2));
  EXPECT_TRUE(std::count(ln.begin(), ln.end(), "feats.1.layer_norm.bias"));
  EXPECT_FALSE(std::count(ln.begin(), ln.end(), "feats.1.norm.weight"));
  const auto dy = keys_of(*build("{type: realplksr, dim: 8, n_blocks: 1, dysample: true}", 4));
  for (const char* k : {"to_img.init_pos", "to_img.offset.weight", "to_img.offset.bias", "to_img.scope.weight",
                        "to_img.end_conv.weight"})
    EXPECT_TRUE(std::count(dy.begin(), dy.end(), k)) << k;
}

TEST(Plksr, PartialLargeKernelTouchesOnlyTheFirstChannels) {
  // split_ratio 0.25 of 8 -> 2 channels through lk.conv; the other 6 pass unchanged.
  sm::PlksrOptions o;
  o.dim = 8;
  o.kernel_size = 5;
  sm::PlkBlock b(o);
  const auto x = torch::rand({1, 8, 7, 7});
  torch::NoGradGuard ng;
  const auto y = b->partial_large_kernel(x);
  EXPECT_TRUE(torch::equal(y.slice(1, 2), x.slice(1, 2)));
  EXPECT_TRUE(torch::allclose(y.slice(1, 0, 2), F::conv2d(x.slice(1, 0, 2), b->lk_conv->weight,
                                                          F::Conv2dFuncOptions().bias(b->lk_conv->bias).padding(2))));
}

TEST(Plksr, ChannelLayerNormMatchesLibTorchLayerNorm) {
  sm::ChannelLayerNorm ln(6);
  {
    torch::NoGradGuard ng;
    ln->weight.uniform_(0.5, 1.5);
    ln->bias.uniform_(-0.5, 0.5);
  }
  const auto x = torch::randn({2, 6, 4, 5}) * 3 + 1;
  torch::NoGradGuard ng;
  const auto ref = torch::layer_norm(x.permute({0, 2, 3, 1}), {6}, ln->weight, ln->bias, 1e-6).permute({0, 3, 1, 2});
  EXPECT_LE((ln->forward(x) - ref).abs().max().item<double>(), 1e-5);
}

TEST(DySample, ZeroOffsetsAreBilinearUpsampling) {
  // offset conv zero -> points on init_pos -> exactly bilinear (align_corners false, border clamp).
  for (int64_t s : {2, 3, 4}) {
    sm::DySampleOptions o;
    o.in_channels = 12;
    o.scale = s;
    o.groups = s % 2 ? 3 : 4;
    o.end_convolution = false;
    sm::DySample d(o);
    {
      torch::NoGradGuard ng;
      d->offset->weight.zero_();
      d->offset->bias.zero_();
      d->scope->weight.normal_();
    }
    const auto x = torch::rand({2, 12, 5, 7});
    torch::NoGradGuard ng;
    const auto ref = F::interpolate(x, F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{5 * s, 7 * s})
                                           .mode(torch::kBilinear)
                                           .align_corners(false));
    EXPECT_LE((d->forward(x) - ref).abs().max().item<double>(), 1e-5) << "x" << s;
  }
  // An x-offset of one pixel on group 0 shifts its samples right by one input pixel (border-clamped).
  sm::DySampleOptions o;
  o.in_channels = 4;
  o.scale = 2;
  o.groups = 4;
  o.end_convolution = false;
  sm::DySample d(o);
  {
    torch::NoGradGuard ng;
    d->offset->weight.zero_();
    d->offset->bias.zero_();
    d->scope->weight.zero_();  // sigmoid(0) * 0.5 = 0.25: a bias of 4 is a 1-pixel shift
    d->offset->bias.slice(0, 0, 4).fill_(4.0f);  // x-offsets of group 0, its 4 sub-pixels
  }
  const auto x = torch::rand({1, 4, 3, 6});
  torch::NoGradGuard ng;
  const auto y = d->forward(x);
  const auto up = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{6, 12}).mode(torch::kBilinear).align_corners(false));
  EXPECT_LE((y.select(1, 0).slice(2, 0, 8) - up.select(1, 0).slice(2, 2, 10)).abs().max().item<double>(), 1e-5);
  EXPECT_LE((y.slice(1, 1) - up.slice(1, 1)).abs().max().item<double>(), 1e-5);
}

TEST(Plksr, DetectorsReadTheHyperparameters) {
  struct Case {
    std::string yaml;
    int scale;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases{
      {"{type: realplksr, dim: 16, n_blocks: 3, kernel_size: 7}", 4,
       {"type: realplksr", "dim: 16", "n_blocks: 3", "kernel_size: 7", "split_ratio: 0.25", "use_ea: true",
        "layer_norm: false", "dysample: false"}},
      {"{type: realplksr, dim: 8, n_blocks: 1, layer_norm: true, dysample: true, use_ea: false}", 2,
       {"n_blocks: 1", "layer_norm: true", "dysample: true", "use_ea: false"}},
      {"{type: plksr, dim: 12, n_blocks: 2, kernel_size: 9, ccm_type: ICCM, split_ratio: 0.5}", 3,
       {"type: plksr", "n_blocks: 2", "kernel_size: 9", "ccm_type: ICCM", "split_ratio: 0.5"}},
      {"{type: plksr, dim: 8, n_blocks: 1, kernel_size: 3, ccm_type: DCCM}", 4, {"ccm_type: DCCM"}},
      {"{type: plksr, dim: 8, n_blocks: 1, kernel_size: 3}", 1, {"ccm_type: CCM"}}};
  for (const auto& c : cases) {
    auto g = build(c.yaml, c.scale);
    const auto sd = state_dict_of(*g);
    const bool real = c.yaml.find("realplksr") != std::string::npos;
    const auto d = real ? sm::detect_realplksr(sd) : sm::detect_plksr(sd);
    ASSERT_TRUE(d.has_value()) << c.yaml;
    EXPECT_FALSE(real ? sm::detect_plksr(sd) : sm::detect_realplksr(sd)) << c.yaml;
    EXPECT_EQ(d->scale, c.scale);
    for (const auto& w : c.want) EXPECT_NE(d->model_yaml.find(w + "\n"), std::string::npos) << w << " in\n" << d->model_yaml;
    Config cfg = Config::parse(d->model_yaml, "detected.yaml");
    EXPECT_EQ(keys_of(*sm::make_generator(cfg, d->scale)), keys_of(*g)) << c.yaml;
  }
  auto sd = state_dict_of(*build("{type: realplksr, dim: 8, n_blocks: 3}", 4));
  sd.erase("feats.2.refine.weight");
  EXPECT_NE(error_of([&] { sm::detect_realplksr(sd); }).find("feats.2.refine.weight"), std::string::npos);
  sd = state_dict_of(*build("{type: plksr, dim: 8, n_blocks: 1}", 4));
  sd.erase("feats.1.lk.conv.weight");
  sd["feats.1.lk.convs.0.weight"] = torch::zeros({2, 2, 5, 5});
  EXPECT_NE(error_of([&] { sm::detect_plksr(sd); }).find("SparsePLK"), std::string::npos);
  EXPECT_FALSE(sm::detect_plksr(state_dict_of(*build("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 4))));
}

TEST(Plksr, ConfigErrorsNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{type: realplksr, dim: 0}", "dim"},
      {"{type: realplksr, n_blocks: 0}", "n_blocks"},
      {"{type: realplksr, kernel_size: 4}", "kernel_size"},
      {"{type: realplksr, split_ratio: 0.01}", "split_ratio"},
      {"{type: realplksr, dim: 10, norm_groups: 4}", "norm_groups"},
      {"{type: realplksr, dropout: 1.5}", "dropout"},
      {"{type: plksr, ccm_type: XCM}", "'model.ccm_type'"},
      {"{type: plksr, layer_norm: true}", "unknown key 'model.layer_norm'"},
      {"{type: realplksr, ccm_type: CCM}", "unknown key 'model.ccm_type'"}};
  for (const auto& [yaml, want] : cases)
    EXPECT_NE(error_of([&] { build(yaml, 4); }).find(want), std::string::npos) << yaml;
  EXPECT_NE(error_of([] { build("{type: realplksr}", 6); }).find("does not support scale 6"), std::string::npos);
}

}  // namespace test_plksr
