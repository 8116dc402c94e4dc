// ATD (models/arch/atd.h): the zoo fixture (official code, random weights) loaded with no hints through
// load_generator and compared with the reference output; the exact key set against the fixture's; output
// shapes at odd sizes for every upsampler; the mirror padding; the AC-MSA grouping against a hand-built
// reference; gradients; detection round trips and refusals (other architectures' files); config errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/atd.h"
#include "models/arch/registry.h"
#include "models/arch/swinir.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;

namespace test_atd {

const char* kTiny =
    "type: atd, embed_dim: 8, window_size: 4, num_tokens: 6, reducted_dim: 3, category_size: 16, convffn_kernel_size: 3";

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_atd.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

/// The tiny config plus `extra`; depths [2] / num_heads [2] unless `extra` sets them.
sm::Generator tiny(const std::string& extra, int scale) {
  const std::string layout = extra.find("depths") == std::string::npos ? ", depths: [2], num_heads: [2]" : "";
  return build(std::string("{") + kTiny + layout + extra + "}", scale);
}

std::vector<std::string> keys_of(const sm::StateDict& sd) {
  std::vector<std::string> keys;
  for (const auto& kv : sd) keys.push_back(kv.first);
  return keys;
}

const sm::AtdOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::AtdImpl&>(*g).options(); }

TEST(Atd, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("atd_x4_e24");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  const sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  ASSERT_EQ(g->type(), "atd");
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(g->scale(), hp["upscale"].get<int>());
  const auto& o = options_of(g);
  EXPECT_EQ(sm::atd_upsampler_name(o.upsampler), hp["upsampler"].get<std::string>());
  EXPECT_EQ(o.embed_dim, hp["embed_dim"].get<int>());
  EXPECT_EQ(o.depths, hp["depths"].get<std::vector<int>>());
  EXPECT_EQ(o.num_heads, hp["num_heads"].get<std::vector<int>>());
  EXPECT_EQ(o.window_size, hp["window_size"].get<int>());
  EXPECT_EQ(o.num_tokens, hp["num_tokens"].get<int>());
  EXPECT_EQ(o.reducted_dim, hp["reducted_dim"].get<int>());
  EXPECT_EQ(o.convffn_kernel_size, hp["convffn_kernel_size"].get<int>());
  EXPECT_EQ(o.mlp_ratio, hp["mlp_ratio"].get<double>());
  EXPECT_EQ(o.img_range, hp["img_range"].get<double>());
  EXPECT_EQ(hp["in_chans"].get<int>(), 3);
  EXPECT_EQ(o.category_size, 256);  // not stored; the reference default (not the light model's width 48)
  EXPECT_TRUE(o.qkv_bias && o.patch_norm && o.norm && !o.three_conv);
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());

  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  std::cout << "[ fixture ] atd_x4_e24: max |diff| " << diff << "\n";
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
}

TEST(Atd, BuiltModelHasExactlyTheFixtureKeys) {
  const auto fx = srlab::testing::zoo_fixture("atd_x4_e24");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto file = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>());
  const auto g = build("{type: atd, upsampler: pixelshuffledirect, embed_dim: 24, depths: [2], num_heads: [2], "
                       "window_size: 8, num_tokens: 16, reducted_dim: 4}", 4);
  const auto mine = state_dict_of(g);
  EXPECT_EQ(keys_of(mine), keys_of(file.state_dict));
  EXPECT_EQ(static_cast<int64_t>(mine.size()), fx["tensors"].get<int64_t>());
  for (const auto& [k, t] : file.state_dict)
    if (mine.count(k)) EXPECT_EQ(mine.at(k).sizes(), t.sizes()) << k;
  // The stored relative position index is the one we build.
  EXPECT_TRUE(torch::equal(mine.at("relative_position_index_SA"), file.state_dict.at("relative_position_index_SA").to(torch::kLong)));
}

TEST(Atd, StateDictKeysPerVariant) {
  const auto ps = keys_of(state_dict_of(tiny(", upsampler: pixelshuffle, num_feat: 16", 4)));
  for (const char* k : {"conv_before_upsample.0.weight", "upsample.0.weight", "upsample.2.bias", "conv_last.weight",
                        "layers.0.residual_group.layers.0.norm3.weight", "layers.0.residual_group.layers.0.sigma"})
    EXPECT_TRUE(std::count(ps.begin(), ps.end(), k)) << k;
  for (const char* k : {"layers.0.residual_group.layers.1.norm3.weight", "layers.0.residual_group.layers.1.sigma", "no_norm",
                        "upsample.4.weight"})
    EXPECT_FALSE(std::count(ps.begin(), ps.end(), k)) << k;
  const auto nc = keys_of(state_dict_of(tiny(", upsampler: nearest+conv, resi_connection: 3conv, qkv_bias: false, "
                                             "patch_norm: false, norm: false", 4)));
  for (const char* k : {"conv_up1.weight", "conv_up2.weight", "conv_hr.weight", "conv_last.weight", "no_norm",
                        "layers.0.conv.4.weight", "conv_after_body.2.bias"})
    EXPECT_TRUE(std::count(nc.begin(), nc.end(), k)) << k;
  for (const char* k : {"patch_embed.norm.weight", "layers.0.residual_group.layers.0.wqkv.bias",
                        "layers.0.residual_group.layers.0.attn_atd.wq.bias", "layers.0.residual_group.layers.0.attn_aca.proj.bias",
                        "layers.0.conv.weight"})
    EXPECT_FALSE(std::count(nc.begin(), nc.end(), k)) << k;
}

TEST(Atd, OutputShapesAtOddSizesEveryUpsampler) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  const std::vector<std::pair<std::string, std::vector<int>>> variants{
      {"pixelshuffle", {2, 3}}, {"pixelshuffledirect", {2, 3, 4}}, {"nearest+conv", {4}}};
  for (const auto& [up, scales] : variants)
    for (int s : scales) {
      auto g = tiny(", upsampler: " + up + ", num_feat: 8", s);
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "atd");
      // 1x1 and 3x2: pads larger than the input (mirrored periodically); 9x7: several AC-MSA groups.
      for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {9, 7}, {1, 1}, {3, 2}}) {
        const auto y = g->forward(torch::rand({2, 3, h, w}));
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << up << " x" << s << " " << h << "x" << w;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      }
    }
}

TEST(Atd, PaddingMirrorsWithTheEdgeRepeatedLikeTheReference) {
  // Official: cat(x, flip(x))[:8]: a 5x6 input becomes rows 0..4,4,3,2 and columns 0..5,5,4.
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  auto g = tiny(", upsampler: pixelshuffledirect", 2);
  const auto x = torch::rand({1, 3, 5, 6});
  const auto rows = torch::tensor({0, 1, 2, 3, 4, 4, 3, 2}, torch::kLong), cols = torch::tensor({0, 1, 2, 3, 4, 5, 5, 4}, torch::kLong);
  const auto full = g->forward(x.index_select(2, rows).index_select(3, cols));
  EXPECT_TRUE(torch::allclose(g->forward(x), full.slice(2, 0, 10).slice(3, 0, 12), 1e-5, 1e-6));
}

TEST(Atd, CategoryAttentionGroupsSortedTokensLikeTheReference) {
  // N = 5 tokens, category_size 2: 3 groups, the last padded with the mirrored tail of the sorted order.
  torch::manual_seed(2);
  torch::NoGradGuard ng;
  sm::AtdCategoryAttention aca(4, 1, 2, true);
  const auto qkv = torch::randn({1, 5, 12});
  const auto sim = torch::tensor({0.f, 1.f, 0.9f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.2f, 0.1f}).view({1, 5, 2});  // categories 1,0,0,1,0
  const auto out = aca->forward(qkv, sim);
  const auto order = std::get<1>(torch::sort(sim.argmax(-1), false, -1, false))[0];
  std::vector<int64_t> seq;
  for (int i = 0; i < 5; ++i) seq.push_back(order[i].item<int64_t>());
  seq.push_back(seq[4]);  // pad 1: flip of the last token
  const double scale = std::exp(std::log(10.0));
  torch::Tensor expect = torch::zeros({5, 4});
  for (int grp = 0; grp < 3; ++grp) {
    const auto idx = torch::tensor({seq[2 * grp], seq[2 * grp + 1]}, torch::kLong);
    const auto t = qkv[0].index_select(0, idx);
    const auto q = t.slice(1, 0, 4), k = t.slice(1, 4, 8), v = t.slice(1, 8, 12);
    const auto y = torch::softmax(q.matmul(k.t()) * scale, -1).matmul(v);
    for (int r = 0; r < 2; ++r)
      if (2 * grp + r < 5) expect[seq[2 * grp + r]] = y[r];
  }
  expect = aca->proj->forward(expect);
  EXPECT_TRUE(torch::allclose(out[0], expect, 1e-5, 1e-6));
}

TEST(Atd, GradientsReachEveryParameter) {
  torch::manual_seed(3);
  auto g = tiny(", upsampler: pixelshuffle, num_feat: 8, depths: [3, 2], num_heads: [2, 4]", 2);
  g->to(srlab::testing::test_device());
  g->train();
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 8, 6})));
  y.square().mean().backward();
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Atd, DetectorRoundTripsEveryVariant) {
  const std::vector<std::pair<std::string, int>> variants{
      {", upsampler: pixelshuffle, num_feat: 8", 2},
      {", upsampler: pixelshuffle, num_feat: 8", 3},
      {", upsampler: pixelshuffledirect", 3},
      {", upsampler: nearest+conv, num_feat: 8", 4},
      {", upsampler: pixelshuffle, resi_connection: 3conv, patch_norm: false, qkv_bias: false, norm: false, num_feat: 8, "
       "depths: [1, 3], num_heads: [2, 4], mlp_ratio: 1.5",
       8}};
  for (const auto& [extra, s] : variants) {
    const auto g = tiny(extra, s);
    const auto d = sm::detect_atd(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << extra;
    EXPECT_EQ(d->scale, s) << extra;
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(keys_of(state_dict_of(back)), keys_of(state_dict_of(g))) << d->model_yaml;
    const auto &a = options_of(g), &b = options_of(back);
    EXPECT_EQ(a.upsampler, b.upsampler);
    EXPECT_EQ(a.embed_dim, b.embed_dim);
    EXPECT_EQ(a.depths, b.depths);
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.window_size, b.window_size);
    EXPECT_EQ(a.num_tokens, b.num_tokens);
    EXPECT_EQ(a.reducted_dim, b.reducted_dim);
    EXPECT_EQ(a.convffn_kernel_size, b.convffn_kernel_size);
    EXPECT_EQ(a.mlp_ratio, b.mlp_ratio);
    EXPECT_EQ(a.three_conv, b.three_conv);
    EXPECT_EQ(a.patch_norm, b.patch_norm);
    EXPECT_EQ(a.qkv_bias, b.qkv_bias);
    EXPECT_EQ(a.norm, b.norm);
    EXPECT_EQ(b.category_size, 256);  // not in the weights
    if (a.upsampler != sm::AtdUpsampler::kPixelShuffleDirect) EXPECT_EQ(a.num_feat, b.num_feat);
  }
  // ATD-light layout: category_size 128 (spandrel's rule).
  const auto light = sm::detect_atd(state_dict_of(build("{type: atd, upsampler: pixelshuffledirect, embed_dim: 48, depths: [1], "
                                                        "num_heads: [4], window_size: 4, num_tokens: 4}", 2)));
  ASSERT_TRUE(light.has_value());
  EXPECT_NE(light->model_yaml.find("category_size: 128"), std::string::npos) << light->model_yaml;
}

TEST(Atd, DetectorIgnoresOtherArchitecturesAndExplainsUnsupported) {
  // SwinIR shares layers.<i>.residual_group...; a HAT-like file shares relative_position_index_SA.
  auto swin = state_dict_of(build("{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8}", 2));
  EXPECT_FALSE(sm::detect_atd(swin).has_value());
  swin["relative_position_index_SA"] = torch::zeros({16, 16}, torch::kLong);
  EXPECT_FALSE(sm::detect_atd(swin).has_value());
  EXPECT_FALSE(sm::detect_atd({}).has_value());
  // ... and SwinIR's detector does not claim ATD.
  EXPECT_FALSE(sm::detect_swinir(state_dict_of(tiny(", upsampler: pixelshuffledirect", 2))).has_value());

  auto sd = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd.erase("upsample.0.weight");
  sd.erase("upsample.0.bias");
  EXPECT_NE(error_of([&] { sm::detect_atd(sd); }).find("without upsampler"), std::string::npos);
  auto sd2 = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd2["absolute_pos_embed"] = torch::zeros({1, 64, 8});
  EXPECT_NE(error_of([&] { sm::detect_atd(sd2); }).find("absolute_pos_embed"), std::string::npos);
  auto sd3 = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd3["layers.0.residual_group.layers.0.attn_win.relative_position_bias_table"] = torch::zeros({50, 2});
  EXPECT_NE(error_of([&] { sm::detect_atd(sd3); }).find("relative_position_bias_table"), std::string::npos);
  auto sd4 = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd4["conv_first.weight"] = torch::zeros({8, 1, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_atd(sd4); }).find("conv_first.weight"), std::string::npos);
}

TEST(Atd, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& yaml, int scale) { return error_of([&] { build(yaml, scale); }); };
  EXPECT_NE(err("{type: atd, embed_dim: 10, depths: [2], num_heads: [3]}", 2).find("num_heads"), std::string::npos);
  EXPECT_NE(err("{type: atd, depths: [2, 2], num_heads: [3]}", 2).find("one entry per depths"), std::string::npos);
  EXPECT_NE(err("{type: atd, upsampler: bicubic}", 2).find("upsampler"), std::string::npos);
  EXPECT_NE(err("{type: atd, upsampler: nearest+conv}", 2).find("scale"), std::string::npos);
  EXPECT_NE(err("{type: atd}", 5).find("scale"), std::string::npos);
  EXPECT_NE(err("{type: atd, convffn_kernel_size: 4}", 2).find("convffn_kernel_size"), std::string::npos);
  EXPECT_NE(err("{type: atd, category_size: 0}", 2).find("category_size"), std::string::npos);
  EXPECT_NE(err("{type: atd, num_tokens: 0}", 2).find("num_tokens"), std::string::npos);
  EXPECT_NE(err("{type: atd, resi_connection: 2conv}", 2).find("resi_connection"), std::string::npos);
  EXPECT_NE(err("{type: atd, depths: []}", 2).find("depths"), std::string::npos);
  EXPECT_NE(err("{type: atd, img_range: 0}", 2).find("img_range"), std::string::npos);
  EXPECT_NE(err(std::string("{") + kTiny + ", depths: [2], num_heads: [2], window: 8}", 2).find("window"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

}  // namespace test_atd
