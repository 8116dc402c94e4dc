// DRCT (models/arch/drct.h): the zoo fixture loaded with no hints against the reference output, its
// exact key set, output shapes at odd sizes, gradients, the per-layer heads and widths, detection round
// trips and refusal of other Swin-family files (SwinIR, HAT), config errors.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/drct.h"
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

namespace test_drct {

using Entries = std::vector<std::pair<std::string, std::string>>;

/// A small DRCT `model:` mapping: the defaults below with `changes` replacing or adding entries.
std::string tiny_yaml(const Entries& changes) {
  Entries e{{"type", "drct"}, {"embed_dim", "8"}, {"depths", "[2]"}, {"num_heads", "[2]"}, {"window_size", "4"},
            {"img_size", "8"}, {"mlp_ratio", "2"}, {"gc", "4"}};
  for (const auto& [k, v] : changes) {
    auto it = std::find_if(e.begin(), e.end(), [&](const auto& p) { return p.first == k; });
    if (it == e.end()) e.emplace_back(k, v); else it->second = v;
  }
  std::string y = "{";
  for (size_t i = 0; i < e.size(); ++i) y += (i ? ", " : "") + e[i].first + ": " + e[i].second;
  return y + "}";
}

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_drct.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

sm::Generator tiny(const Entries& changes, int scale) { return build(tiny_yaml(changes), scale); }

const sm::DrctOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::DrctImpl&>(*g).options(); }

TEST(Drct, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("drct_x4_e24");
  if (fx.is_null()) GTEST_SKIP() << "no zoo fixture drct_x4_e24";
  const auto dir = srlab::testing::zoo_dir();
  sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  ASSERT_EQ(g->type(), "drct");
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(g->scale(), hp["upscale"].get<int>());
  const auto& o = options_of(g);
  EXPECT_EQ(o.embed_dim, hp["embed_dim"].get<int>());
  // depths: one RDG per entry; the values (the reference's stochastic-depth bookkeeping) leave no trace.
  EXPECT_EQ(o.depths.size(), hp["depths"].size());
  EXPECT_EQ(o.num_heads, hp["num_heads"].get<std::vector<int>>());
  EXPECT_EQ(o.window_size, hp["window_size"].get<int>());
  EXPECT_EQ(o.mlp_ratio, hp["mlp_ratio"].get<double>());
  EXPECT_EQ(o.img_size, hp["img_size"].get<int>());
  EXPECT_EQ(o.gc, hp["gc"].get<int>());
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
  std::cout << "[ fixture ] drct_x4_e24: max |diff| " << diff << "\n";
}

TEST(Drct, BuiltModelHasTheFixtureKeySetShapesAndBuffers) {
  const auto fx = srlab::testing::zoo_fixture("drct_x4_e24");
  if (fx.is_null()) GTEST_SKIP() << "no zoo fixture drct_x4_e24";
  const sm::StateDict ref = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>()).state_dict;
  const auto g = build("{type: drct, embed_dim: 24, depths: [2], num_heads: [2], window_size: 8, mlp_ratio: 2, "
                       "img_size: 64, gc: 8}", 4);
  const sm::StateDict sd = state_dict_of(g);
  EXPECT_EQ(key_set(sd), key_set(ref));
  for (const auto& [k, t] : sd)
    if (ref.count(k)) EXPECT_EQ(t.sizes(), ref.at(k).sizes()) << k;
  // The index buffers equal the official ones. (The fixture's attn_mask buffers hold perturbed values, not
  // the official 0/-100 mask: like the reference, SRLab uses the loaded buffer at img_size x img_size only.)
  for (const char* k : {"layers.0.swin1.attn.relative_position_index", "layers.0.swin4.attn.relative_position_index"})
    EXPECT_TRUE(torch::equal(sd.at(k), ref.at(k).to(sd.at(k).dtype()))) << k;
}

TEST(Drct, LayerWidthsHeadsAndMlpRatiosFollowTheReference) {
  // C = 180, g = 32, h = 6: C_k = 180, 212, 244, 276, 308 -> heads 6 (swin1), then 6 - C_k % 6 = 4, 2, 6, 4.
  const int64_t expect[5] = {6, 4, 2, 6, 4};
  for (int k = 1; k <= 5; ++k) EXPECT_EQ(sm::drct_layer_heads(180, 32, 6, k), expect[k - 1]) << k;
  const auto sd = state_dict_of(tiny({{"embed_dim", "12"}, {"num_heads", "[3]"}, {"gc", "5"}}, 2));
  // C_k = 12, 17, 22, 27, 32 with h = 3 -> heads 3, 1, 2, 3, 1; hidden int(C_k * 2) for swin1-3, C_k for swin4-5.
  const int64_t dims[5] = {12, 17, 22, 27, 32}, heads[5] = {3, 1, 2, 3, 1}, hidden[5] = {24, 34, 44, 27, 32};
  for (int k = 1; k <= 5; ++k) {
    const std::string p = "layers.0.swin" + std::to_string(k) + ".";
    EXPECT_EQ(sd.at(p + "attn.relative_position_bias_table").size(1), heads[k - 1]) << k;
    EXPECT_EQ(sd.at(p + "norm1.weight").size(0), dims[k - 1]) << k;
    EXPECT_EQ(sd.at(p + "mlp.fc1.weight").size(0), hidden[k - 1]) << k;
    EXPECT_EQ(sd.count(p + "attn_mask"), k % 2 == 0 ? 1u : 0u) << k;
    EXPECT_EQ(sd.at("layers.0.adjust" + std::to_string(k) + ".weight").sizes(),
              (std::vector<int64_t>{k == 5 ? 12 : 5, dims[k - 1], 1, 1})) << k;
  }
}

TEST(Drct, OutputShapesAtOddSizesEveryScale) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (int s : {2, 3, 4}) {
    auto g = tiny({}, s);
    EXPECT_EQ(g->scale(), s);
    EXPECT_EQ(g->type(), "drct");
    for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {9, 3}, {8, 12}, {1, 2}}) {
      const auto y = g->forward(torch::rand({2, 3, h, w}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << "x" << s << " " << h << "x" << w;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
}

TEST(Drct, PaddingIsReflectAndCroppedLikeTheReference) {
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  auto g = tiny({}, 2);
  const auto x = torch::rand({1, 3, 5, 6});
  const auto rows = torch::tensor({0, 1, 2, 3, 4, 3, 2, 1}, torch::kLong), cols = torch::tensor({0, 1, 2, 3, 4, 5, 4, 3}, torch::kLong);
  const auto full = g->forward(x.index_select(2, rows).index_select(3, cols));
  EXPECT_TRUE(torch::allclose(g->forward(x), full.slice(2, 0, 10).slice(3, 0, 12), 1e-6, 1e-6));
  // Sizes other than img_size x img_size use a mask built in forward instead of the attn_mask buffers.
  EXPECT_EQ(g->forward(torch::rand({1, 3, 12, 8})).sizes(), (std::vector<int64_t>{1, 3, 24, 16}));
}

TEST(Drct, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  auto g = tiny({{"depths", "[2, 1]"}, {"num_heads", "[2, 4]"}, {"drop_path_rate", "0.0"}}, 2);
  g->to(srlab::testing::test_device());
  g->train();
  g->forward(srlab::testing::on_test_device(torch::rand({1, 3, 8, 8}))).square().mean().backward();
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Drct, DetectorRoundTripsVariants) {
  const std::vector<std::pair<Entries, int>> variants{
      {{}, 2},
      {{}, 3},
      {{}, 8},
      {{{"resi_connection", "identity"}, {"patch_norm", "false"}, {"qkv_bias", "false"}}, 4},
      {{{"embed_dim", "12"}, {"depths", "[6, 6]"}, {"num_heads", "[3, 2]"}, {"mlp_ratio", "1.5"}, {"gc", "6"}}, 2},
      {{{"img_size", "4"}}, 2},   // no shift, no attn_mask
      {{{"img_size", "16"}}, 2}};
  for (const auto& [changes, s] : variants) {
    const auto g = tiny(changes, s);
    const auto d = sm::detect_drct(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << tiny_yaml(changes);
    EXPECT_EQ(d->scale, s);
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(key_set(state_dict_of(back)), key_set(state_dict_of(g))) << d->model_yaml;
    const auto &a = options_of(g), &b = options_of(back);
    EXPECT_EQ(a.embed_dim, b.embed_dim);
    EXPECT_EQ(a.depths.size(), b.depths.size());
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.window_size, b.window_size);
    EXPECT_EQ(a.mlp_ratio, b.mlp_ratio);
    EXPECT_EQ(a.img_size, b.img_size);
    EXPECT_EQ(a.gc, b.gc);
    EXPECT_EQ(a.identity_resi, b.identity_resi);
    EXPECT_EQ(a.patch_norm, b.patch_norm);
    EXPECT_EQ(a.qkv_bias, b.qkv_bias);
  }
}

TEST(Drct, DetectorsDoNotClaimEachOthersFiles) {
  const auto drct = state_dict_of(tiny({}, 2));
  const auto swinir = state_dict_of(build("{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                                          "img_size: 8, mlp_ratio: 2}", 2));
  const auto hat = state_dict_of(build("{type: hat, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                                       "img_size: 8, mlp_ratio: 2, compress_ratio: 2, squeeze_factor: 4}", 2));
  EXPECT_FALSE(sm::detect_drct(swinir).has_value());
  EXPECT_FALSE(sm::detect_drct(hat).has_value());
  EXPECT_FALSE(sm::detect_drct({}).has_value());
  EXPECT_FALSE(sm::detect_hat(drct).has_value());
  EXPECT_FALSE(sm::detect_swinir(drct).has_value());
}

TEST(Drct, DetectorExplainsUnsupportedWeights) {
  auto sd = state_dict_of(tiny({}, 2));
  sd["absolute_pos_embed"] = torch::zeros({1, 64, 8});
  EXPECT_NE(error_of([&] { sm::detect_drct(sd); }).find("absolute_pos_embed"), std::string::npos);
  auto sd2 = state_dict_of(tiny({}, 2));
  sd2["layers.0.swin1.attn.relative_position_bias_table"] = torch::zeros({50, 2});
  EXPECT_NE(error_of([&] { sm::detect_drct(sd2); }).find("(2 x window - 1)^2"), std::string::npos);
  auto sd3 = state_dict_of(tiny({}, 2));
  for (const char* k : {"conv_before_upsample.0.weight", "conv_before_upsample.0.bias", "upsample.0.weight", "upsample.0.bias",
                        "conv_last.weight", "conv_last.bias"})
    sd3.erase(k);
  EXPECT_NE(error_of([&] { sm::detect_drct(sd3); }).find("upsampler"), std::string::npos);
  auto sd4 = state_dict_of(tiny({}, 2));
  sd4["conv_before_upsample.0.weight"] = torch::zeros({32, 8, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_drct(sd4); }).find("num_feat"), std::string::npos);
}

TEST(Drct, ConfigErrorsNameTheKey) {
  auto err = [](const Entries& changes, int scale) { return error_of([&] { tiny(changes, scale); }); };
  EXPECT_NE(err({}, 5).find("scale"), std::string::npos);
  EXPECT_NE(err({{"num_heads", "[2, 2]"}}, 2).find("one entry per depths"), std::string::npos);
  // swin1 takes h itself (h = 3 does not divide C = 8); h = 5 on C = 8 fails there too although swin2-5
  // (5 - C_k % 5 = 3, 4, 5, 1 heads on 12, 16, 20, 24 channels) would be valid.
  EXPECT_NE(err({{"num_heads", "[3]"}}, 2).find("swin1"), std::string::npos);
  EXPECT_NE(err({{"num_heads", "[5]"}}, 2).find("swin1"), std::string::npos);
  EXPECT_NO_THROW(tiny({{"num_heads", "[4]"}}, 2));
  EXPECT_NE(err({{"img_size", "6"}}, 2).find("img_size"), std::string::npos);
  EXPECT_NE(err({{"img_size", "2"}}, 2).find("img_size"), std::string::npos);
  EXPECT_NE(err({{"gc", "0"}}, 2).find("gc"), std::string::npos);
  EXPECT_NE(err({{"resi_connection", "3conv"}}, 2).find("resi_connection"), std::string::npos);
  EXPECT_NE(err({{"drop_path_rate", "1.0"}}, 2).find("drop_path_rate"), std::string::npos);
  EXPECT_NE(err({{"num_feat", "32"}}, 2).find("num_feat"), std::string::npos);  // unknown key: fixed at 64
  torch::NoGradGuard ng;
  auto g = tiny({}, 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

TEST(Drct, DropPathOnlyInTraining) {
  torch::manual_seed(3);
  auto g = tiny({{"depths", "[2, 2]"}, {"num_heads", "[2, 2]"}, {"drop_path_rate", "0.5"}}, 2);
  const auto x = torch::rand({4, 3, 8, 8});
  torch::NoGradGuard ng;
  const auto a = g->forward(x), b = g->forward(x);
  EXPECT_TRUE(torch::equal(a, b));
  g->train();
  EXPECT_FALSE(torch::allclose(a, g->forward(x)));
}

}  // namespace test_drct
