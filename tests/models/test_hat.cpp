// HAT (models/arch/hat.h): the zoo fixture loaded with no hints against the reference output, its exact
// key set, output shapes at odd sizes, gradients, the OCAB relative position index against a hand-built
// table, detection round trips and refusal of other Swin-family files, config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/hat.h"
#include "models/arch/registry.h"
#include "models/arch/swinir.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;
using srlab::testing::key_set;

namespace test_hat {

const char* kTiny =
    "type: hat, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, mlp_ratio: 2, "
    "compress_ratio: 2, squeeze_factor: 4, num_feat: 8";

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_hat.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

/// kTiny with the entries of `extra` (", key: value, ..." at top level) replacing or adding keys.
std::string tiny_yaml(const std::string& extra) {
  std::vector<std::pair<std::string, std::string>> kv;
  auto parse = [&](const std::string& text) {
    int depth = 0;
    std::string item;
    auto flush = [&] {
      const auto colon = item.find(':');
      if (colon != std::string::npos) {
        auto trim = [](std::string t) {
          t.erase(0, t.find_first_not_of(' '));
          t.erase(t.find_last_not_of(' ') + 1);
          return t;
        };
        const std::string k = trim(item.substr(0, colon)), v = trim(item.substr(colon + 1));
        auto it = std::find_if(kv.begin(), kv.end(), [&](const auto& p) { return p.first == k; });
        if (it == kv.end()) kv.emplace_back(k, v); else it->second = v;
      }
      item.clear();
    };
    for (char ch : text) {
      if (ch == '[') ++depth;
      if (ch == ']') --depth;
      if (ch == ',' && depth == 0) flush(); else item += ch;
    }
    flush();
  };
  parse(kTiny);
  parse(extra);
  std::string y = "{";
  for (size_t i = 0; i < kv.size(); ++i) y += (i ? ", " : "") + kv[i].first + ": " + kv[i].second;
  return y + "}";
}

sm::Generator tiny(const std::string& extra, int scale) { return build(tiny_yaml(extra), scale); }

const sm::HatOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::HatImpl&>(*g).options(); }

TEST(Hat, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("hat_x2_e24");
  if (fx.is_null()) GTEST_SKIP() << "no zoo fixture hat_x2_e24";
  const auto dir = srlab::testing::zoo_dir();
  const auto file = dir / fx["file"].get<std::string>();
  sm::Generator g = sm::load_generator(file);
  ASSERT_EQ(g->type(), "hat");
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(g->scale(), hp["upscale"].get<int>());
  const auto& o = options_of(g);
  EXPECT_EQ(o.embed_dim, hp["embed_dim"].get<int>());
  EXPECT_EQ(o.depths, hp["depths"].get<std::vector<int>>());
  EXPECT_EQ(o.num_heads, hp["num_heads"].get<std::vector<int>>());
  EXPECT_EQ(o.window_size, hp["window_size"].get<int>());
  EXPECT_EQ(o.compress_ratio, hp["compress_ratio"].get<int>());
  EXPECT_EQ(o.squeeze_factor, hp["squeeze_factor"].get<int>());
  EXPECT_EQ(o.conv_scale, hp["conv_scale"].get<double>());
  EXPECT_EQ(o.overlap_ratio, hp["overlap_ratio"].get<double>());
  EXPECT_EQ(o.mlp_ratio, hp["mlp_ratio"].get<double>());
  EXPECT_EQ(o.img_size, hp["img_size"].get<int>());
  EXPECT_EQ(o.img_range, hp["img_range"].get<double>());
  EXPECT_EQ(o.identity_resi, hp["resi_connection"].get<std::string>() == "identity");
  EXPECT_EQ(hp["upsampler"].get<std::string>(), "pixelshuffle");
  EXPECT_EQ(hp["in_chans"].get<int>(), 3);
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());

  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
  std::cout << "[ fixture ] hat_x2_e24: max |diff| " << diff << "\n";
  // The container holds params_ema and params (different values): the EMA weights give the reference.
  const auto raw = sm::load_generator(file, torch::kCPU, /*prefer_ema=*/false)->forward(in);
  EXPECT_GT((raw - ref).abs().max().item<double>(), 1e-3);
}

TEST(Hat, BuiltModelHasTheFixtureKeySetShapesAndBuffers) {
  const auto fx = srlab::testing::zoo_fixture("hat_x2_e24");
  if (fx.is_null()) GTEST_SKIP() << "no zoo fixture hat_x2_e24";
  const auto file = srlab::testing::zoo_dir() / fx["file"].get<std::string>();
  const sm::StateDict ref = sm::read_weight_file(file).state_dict;
  const auto g = build("{type: hat, embed_dim: 24, depths: [2], num_heads: [2], window_size: 8, compress_ratio: 3, "
                       "squeeze_factor: 4, overlap_ratio: 0.5, mlp_ratio: 2, num_feat: 64}", 2);
  const sm::StateDict sd = state_dict_of(g);
  EXPECT_EQ(key_set(sd), key_set(ref));
  for (const auto& [k, t] : sd)
    if (ref.count(k)) EXPECT_EQ(t.sizes(), ref.at(k).sizes()) << k;
  // The official index buffers (the OCAB's has negative entries) equal SRLab's.
  EXPECT_TRUE(torch::equal(sd.at("relative_position_index_SA"), ref.at("relative_position_index_SA")));
  EXPECT_TRUE(torch::equal(sd.at("relative_position_index_OCA"), ref.at("relative_position_index_OCA")));
  EXPECT_LT(ref.at("relative_position_index_OCA").min().item<int64_t>(), 0);
}

TEST(Hat, OcaRelativePositionIndexMatchesHandBuiltTable) {
  // M = 2, Mo = 4: offset M - Mo + 1 = -1, row length M + Mo - 1 = 5.
  const auto idx = sm::hat_oca_relative_position_index(2, 4);
  ASSERT_EQ(idx.sizes(), (std::vector<int64_t>{4, 16}));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 16; ++j)
      EXPECT_EQ(idx[i][j].item<int64_t>(), (j / 4 - i / 2 - 1) * 5 + (j % 4 - i % 2 - 1)) << i << "," << j;
}

TEST(Hat, OutputShapesAtOddSizesEveryScale) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (int s : {2, 3, 4}) {
    auto g = tiny("", s);
    EXPECT_EQ(g->scale(), s);
    EXPECT_EQ(g->type(), "hat");
    for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {9, 3}, {8, 12}, {1, 2}}) {
      const auto y = g->forward(torch::rand({2, 3, h, w}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << "x" << s << " " << h << "x" << w;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
}

TEST(Hat, PaddingIsReflectAndCroppedLikeTheReference) {
  // 5x6 is reflect-padded to 8x8: the output is the crop of the output for the explicitly padded input.
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  const auto x = torch::rand({1, 3, 5, 6});
  const auto rows = torch::tensor({0, 1, 2, 3, 4, 3, 2, 1}, torch::kLong), cols = torch::tensor({0, 1, 2, 3, 4, 5, 4, 3}, torch::kLong);
  const auto full = g->forward(x.index_select(2, rows).index_select(3, cols));
  EXPECT_TRUE(torch::allclose(g->forward(x), full.slice(2, 0, 10).slice(3, 0, 12), 1e-6, 1e-6));
}

TEST(Hat, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  auto g = tiny(", depths: [2, 1], num_heads: [2, 4], drop_path_rate: 0.0", 2);
  g->to(srlab::testing::test_device());
  g->train();
  g->forward(srlab::testing::on_test_device(torch::rand({1, 3, 8, 8}))).square().mean().backward();
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Hat, DetectorRoundTripsVariants) {
  const std::vector<std::pair<std::string, int>> variants{
      {"", 2},
      {"", 3},
      {", num_feat: 16", 8},
      {", resi_connection: identity, patch_norm: false, qkv_bias: false", 4},
      {", embed_dim: 12, depths: [1, 3], num_heads: [4, 2], mlp_ratio: 1.5, compress_ratio: 3, squeeze_factor: 4", 2},
      {", compress_ratio: 3, squeeze_factor: 3", 2},  // 8 // 3 = 2 channels: detected as the exact ratio 4
      {", window_size: 8, img_size: 16, overlap_ratio: 0.25", 2}};
  for (const auto& [extra, s] : variants) {
    const auto g = tiny(extra, s);
    const auto d = sm::detect_hat(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << extra;
    EXPECT_EQ(d->scale, s) << extra;
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(key_set(state_dict_of(back)), key_set(state_dict_of(g))) << d->model_yaml;
    const auto &a = options_of(g), &b = options_of(back);
    EXPECT_EQ(a.embed_dim, b.embed_dim);
    EXPECT_EQ(a.depths, b.depths);
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.window_size, b.window_size);
    EXPECT_EQ(a.overlap_window(), b.overlap_window()) << d->model_yaml;
    EXPECT_EQ(a.embed_dim / a.compress_ratio, b.embed_dim / b.compress_ratio);  // the ratio is the widths' only trace
    EXPECT_EQ(a.embed_dim / a.squeeze_factor, b.embed_dim / b.squeeze_factor);
    if (a.embed_dim % a.compress_ratio == 0) EXPECT_EQ(a.compress_ratio, b.compress_ratio);
    if (a.embed_dim % a.squeeze_factor == 0) EXPECT_EQ(a.squeeze_factor, b.squeeze_factor);
    EXPECT_EQ(a.mlp_ratio, b.mlp_ratio);
    EXPECT_EQ(a.identity_resi, b.identity_resi);
    EXPECT_EQ(a.num_feat, b.num_feat);
    EXPECT_EQ(a.patch_norm, b.patch_norm);
    EXPECT_EQ(a.qkv_bias, b.qkv_bias);
  }
}

TEST(Hat, DetectorsDoNotClaimEachOthersFiles) {
  const auto hat = state_dict_of(tiny("", 2));
  const auto swinir = state_dict_of(build("{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                                          "img_size: 8, mlp_ratio: 2}", 2));
  EXPECT_FALSE(sm::detect_hat(swinir).has_value());
  EXPECT_FALSE(sm::detect_hat({}).has_value());
  EXPECT_FALSE(sm::detect_hat(state_dict_of(build("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 2))).has_value());
  // SwinIR's detector recognises the shared block keys, but the model it proposes cannot take HAT's keys.
  if (const auto d = sm::detect_swinir(hat)) {
    const auto g = sm::make_generator(Config::parse(d->model_yaml, "swinir candidate"), d->scale);
    EXPECT_NE(key_set(state_dict_of(g)), key_set(hat));
  }
}

TEST(Hat, DetectorExplainsUnsupportedWeights) {
  auto sd = state_dict_of(tiny("", 2));
  sd["absolute_pos_embed"] = torch::zeros({1, 64, 8});
  EXPECT_NE(error_of([&] { sm::detect_hat(sd); }).find("absolute_pos_embed"), std::string::npos);
  auto sd2 = state_dict_of(tiny("", 2));
  sd2["layers.0.residual_group.blocks.0.attn.relative_position_bias_table"] = torch::zeros({50, 2});
  EXPECT_NE(error_of([&] { sm::detect_hat(sd2); }).find("(2 x window - 1)^2"), std::string::npos);
  auto sd3 = state_dict_of(tiny("", 2));
  sd3.erase("upsample.0.weight");
  EXPECT_NE(error_of([&] { sm::detect_hat(sd3); }).find("upsampler"), std::string::npos);
  auto sd4 = state_dict_of(tiny("", 2));
  sd4.erase("conv_first.weight");
  EXPECT_NE(error_of([&] { sm::detect_hat(sd4); }).find("conv_first.weight"), std::string::npos);
}

TEST(Hat, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& extra, int scale) { return error_of([&] { tiny(extra, scale); }); };
  EXPECT_NE(err("", 5).find("scale"), std::string::npos);
  EXPECT_NE(err(", num_heads: [3]", 2).find("num_heads"), std::string::npos);
  EXPECT_NE(err(", num_heads: [2, 2]", 2).find("one entry per depths"), std::string::npos);
  EXPECT_NE(err(", overlap_ratio: 0.25", 2).find("overlap_ratio"), std::string::npos);  // int(4 * 0.25) = 1: odd
  EXPECT_NE(err(", compress_ratio: 0", 2).find("compress_ratio"), std::string::npos);
  EXPECT_NE(err(", squeeze_factor: 9", 2).find("squeeze_factor"), std::string::npos);
  EXPECT_NE(err(", img_size: 2", 2).find("img_size"), std::string::npos);
  EXPECT_NE(err(", resi_connection: 3conv", 2).find("resi_connection"), std::string::npos);
  EXPECT_NE(err(", drop_path_rate: 1.0", 2).find("drop_path_rate"), std::string::npos);
  EXPECT_NE(err(", window: 8", 2).find("window"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

TEST(Hat, ImgSizeEqualToWindowDisablesShiftLikeTheReference) {
  // Official HAB: min(input_resolution) <= window_size -> shift 0. Shift changes the output.
  torch::manual_seed(4);
  auto a = tiny("", 2);
  auto b = tiny(", img_size: 4", 2);
  EXPECT_EQ(options_of(b).shift(), 0);
  EXPECT_EQ(options_of(a).shift(), 2);
  torch::NoGradGuard ng;
  b->to(torch::kCPU);
  for (auto& [k, t] : state_dict_of(b)) t.copy_(state_dict_of(a).at(k));
  const auto x = torch::rand({1, 3, 8, 8});
  EXPECT_FALSE(torch::allclose(a->forward(x), b->forward(x)));
}

}  // namespace test_hat
