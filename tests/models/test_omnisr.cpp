// OmniSR (models/arch/omnisr.h): the zoo fixture (reference weights and output) loaded with no hints,
// reference state-dict keys, window / grid token layouts against hand-built indices, zero padding and
// cropping as the reference's check_image_size, output shapes at odd sizes, gradients, detection round
// trips and config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "models/arch/omnisr.h"
#include "models/arch/registry.h"
#include "models/arch/swinir_blocks.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/test_device.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;
using srlab::testing::key_set;

namespace test_omnisr {

// Window 4 needs inputs >= 13 (padded side >= 15 for ESA's max-pool).
const std::vector<std::pair<std::string, std::string>> kTiny{{"num_feat", "8"}, {"window_size", "4"}};

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_omnisr.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

/// A small model: kTiny's sizes unless `extra` (", key: value, ...") sets them.
sm::Generator tiny(const std::string& extra, int scale) {
  std::string yaml = "{type: omnisr";
  for (const auto& [k, v] : kTiny)
    if (extra.find(" " + k + ":") == std::string::npos) yaml += ", " + k + ": " + v;
  return build(yaml + extra + "}", scale);
}

const sm::OmniSrOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::OmniSrImpl&>(*g).options(); }

TEST(OmniSr, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("omnisr_x4_f32");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  const sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  ASSERT_EQ(g->type(), "omnisr");
  const auto& hp = fx["hyperparameters"];
  const auto& o = options_of(g);
  EXPECT_EQ(g->scale(), hp["up_scale"].get<int>());
  EXPECT_EQ(o.num_feat, hp["num_feat"].get<int>());
  EXPECT_EQ(o.block_num, hp["block_num"].get<int>());
  EXPECT_EQ(o.res_num, hp["res_num"].get<int>());
  EXPECT_EQ(o.window_size, hp["window_size"].get<int>());
  EXPECT_EQ(hp["num_in_ch"].get<int>(), 3);  // the only channel count SRLab loads
  EXPECT_EQ(hp["num_out_ch"].get<int>(), 3);
  EXPECT_TRUE(o.pe);    // reference defaults, not in the manifest: rel_pos_bias and conv biases present
  EXPECT_TRUE(o.bias);
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());

  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);  // 24x20: the width is padded to 24 inside
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref)) << "max |reference| " << ref.abs().max().item<double>();
  std::cout << "[ fixture ] omnisr_x4_f32: max |diff| " << diff << " (max |reference| " << ref.abs().max().item<double>()
            << ")\n";
}

TEST(OmniSr, StateDictKeysEqualTheFixtures) {
  const auto fx = srlab::testing::zoo_fixture("omnisr_x4_f32");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto file = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>());
  const auto& hp = fx["hyperparameters"];
  const auto g = build("{type: omnisr, num_feat: " + std::to_string(hp["num_feat"].get<int>()) +
                           ", block_num: " + std::to_string(hp["block_num"].get<int>()) +
                           ", res_num: " + std::to_string(hp["res_num"].get<int>()) +
                           ", window_size: " + std::to_string(hp["window_size"].get<int>()) + "}",
                       hp["up_scale"].get<int>());
  const auto ours = state_dict_of(g);
  EXPECT_EQ(key_set(ours), key_set(file.state_dict));
  EXPECT_EQ(ours.size(), fx["tensors"].get<size_t>());
  for (const auto& [k, t] : file.state_dict)
    if (ours.count(k)) EXPECT_EQ(ours.at(k).sizes(), t.sizes()) << k;
}

TEST(OmniSr, StateDictKeysWithoutPositionBiasOrConvBias) {
  const auto keys = key_set(state_dict_of(tiny(", pe: false, bias: false", 2)));
  for (const char* k : {"input.bias", "output.bias", "up.0.bias", "residual_layer.0.residual_layer.1.bias",
                        "residual_layer.0.residual_layer.0.layer.2.fn.rel_pos_bias.weight",
                        "residual_layer.0.residual_layer.0.layer.8.fn.rel_pos_bias.weight"})
    EXPECT_FALSE(keys.count(k)) << k;
  for (const char* k : {"input.weight", "residual_layer.0.esa.conv1.bias", "residual_layer.0.residual_layer.0.layer.0.fn.0.bias",
                        "residual_layer.0.residual_layer.1.weight"})
    EXPECT_TRUE(keys.count(k)) << k;
  const auto sd = state_dict_of(tiny("", 3));
  EXPECT_EQ(sd.at("residual_layer.0.residual_layer.0.layer.8.fn.rel_pos_bias.weight").sizes(), (std::vector<int64_t>{49, 4}));
  EXPECT_EQ(sd.at("up.0.weight").sizes(), (std::vector<int64_t>{27, 8, 3, 3}));
  EXPECT_EQ(sd.at("residual_layer.0.esa.conv1.weight").sizes(), (std::vector<int64_t>{16, 8, 1, 1}));  // max(C/4, 16)
  EXPECT_EQ(sd.at("residual_layer.0.residual_layer.0.layer.0.fn.4.gate.1.weight").sizes(), (std::vector<int64_t>{2, 8}));
}

TEST(OmniSr, WindowAndGridTokenLayouts) {
  // 1 x 2 x 4 x 6 map, M = 2: value = 100 c + 10 y + x.
  const auto yy = torch::arange(4, torch::kFloat).view({1, 1, 4, 1}), xx = torch::arange(6, torch::kFloat).view({1, 1, 1, 6});
  const auto map = torch::cat({yy * 10 + xx, yy * 10 + xx + 100}, 1);
  const int64_t gh = 2, gw = 3;
  const auto win = sm::omnisr_window_tokens(map, 2), grid = sm::omnisr_grid_tokens(map, 2);
  ASSERT_EQ(win.sizes(), (std::vector<int64_t>{6, 4, 2}));
  ASSERT_EQ(grid.sizes(), (std::vector<int64_t>{6, 4, 2}));
  for (int64_t gx = 0; gx < gh; ++gx)
    for (int64_t gy = 0; gy < gw; ++gy)
      for (int64_t w1 = 0; w1 < 2; ++w1)
        for (int64_t w2 = 0; w2 < 2; ++w2) {
          const int64_t g = gx * gw + gy, t = w1 * 2 + w2;
          // window: pixel (x w1), (y w2); grid: pixel (w1 x), (w2 y)
          EXPECT_EQ(win[g][t][0].item<float>(), 10 * (gx * 2 + w1) + (gy * 2 + w2));
          EXPECT_EQ(grid[g][t][0].item<float>(), 10 * (w1 * gh + gx) + (w2 * gw + gy));
          EXPECT_EQ(grid[g][t][1].item<float>(), 100 + 10 * (w1 * gh + gx) + (w2 * gw + gy));
        }
  EXPECT_TRUE(torch::equal(sm::omnisr_window_map(win, 2, 4, 6), map));
  EXPECT_TRUE(torch::equal(sm::omnisr_grid_map(grid, 2, 4, 6), map));
}

TEST(OmniSr, OutputShapesAtOddSizesEveryScale) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (int s : sm::omnisr_scales()) {
    auto g = tiny("", s);
    EXPECT_EQ(g->scale(), s);
    EXPECT_EQ(g->type(), "omnisr");
    for (auto [h, w] : {std::pair<int64_t, int64_t>{13, 17}, {15, 13}, {16, 20}}) {
      const auto y = g->forward(torch::rand({2, 3, h, w}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << "x" << s << " " << h << "x" << w;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
  // Window 8 (the reference default): 9 is the smallest side (padded to 16).
  auto g = build("{type: omnisr, num_feat: 8}", 2);
  EXPECT_EQ(g->forward(torch::rand({1, 3, 9, 11})).sizes(), (std::vector<int64_t>{1, 3, 18, 22}));
}

TEST(OmniSr, PaddingIsZeroAtBottomRightAndCropped) {
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  const auto x = torch::rand({1, 3, 13, 15});
  const auto padded = torch::zeros({1, 3, 16, 16});
  padded.slice(2, 0, 13).slice(3, 0, 15).copy_(x);
  EXPECT_TRUE(torch::allclose(g->forward(x), g->forward(padded).slice(2, 0, 26).slice(3, 0, 30), 1e-6, 1e-6));
}

TEST(OmniSr, MinimumInputSize) {
  EXPECT_EQ(sm::omnisr_min_input_size(8), 9);
  EXPECT_EQ(sm::omnisr_min_input_size(4), 13);
  EXPECT_EQ(sm::omnisr_min_input_size(1), 15);
  EXPECT_EQ(sm::omnisr_min_input_size(16), 1);
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 3, 12, 20})); }).find("too small"), std::string::npos);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 16, 16})); }).find("(N,3,h,w)"), std::string::npos);
}

TEST(OmniSr, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  auto g = tiny(", block_num: 2, res_num: 2", 2);
  g->to(srlab::testing::test_device());
  g->train();
  g->forward(srlab::testing::on_test_device(torch::rand({1, 3, 13, 14}))).square().mean().backward();
  size_t n = 0;
  for (const auto& kv : g->named_parameters()) {
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key();
    EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << kv.key();
    ++n;
  }
  EXPECT_GT(n, 100u);
}

TEST(OmniSr, DetectorRoundTrips) {
  const std::vector<std::pair<std::string, int>> variants{
      {"", 4}, {", pe: false, bias: false", 2}, {", block_num: 2, res_num: 3, num_feat: 12, window_size: 3", 3},
      {", window_size: 8", 1}, {", num_feat: 72", 8}};
  for (const auto& [extra, s] : variants) {
    const auto g = tiny(extra, s);
    const auto d = sm::detect_omnisr(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << extra;
    EXPECT_EQ(d->scale, s) << extra;
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(key_set(state_dict_of(back)), key_set(state_dict_of(g))) << d->model_yaml;
    const auto& a = options_of(g);
    const auto& b = options_of(back);
    EXPECT_EQ(a.num_feat, b.num_feat);
    EXPECT_EQ(a.block_num, b.block_num);
    EXPECT_EQ(a.res_num, b.res_num);
    EXPECT_EQ(a.pe, b.pe);
    EXPECT_EQ(a.bias, b.bias);
    if (a.pe) EXPECT_EQ(a.window_size, b.window_size);
  }
}

TEST(OmniSr, DetectorRejectsOtherNetworksAndExplainsInconsistentWeights) {
  EXPECT_FALSE(sm::detect_omnisr({}).has_value());
  EXPECT_FALSE(sm::detect_omnisr(state_dict_of(build("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_omnisr(state_dict_of(build("{type: swinir, embed_dim: 8, depths: [1], num_heads: [2], "
                                                     "window_size: 4, img_size: 8, upsampler: pixelshuffledirect}", 2)))
                   .has_value());
  // No other registered detector claims (or throws on) OmniSR weights.
  const auto own = state_dict_of(tiny(", block_num: 2", 2));
  for (const auto& [type, detect] : sm::generator_detectors()) {
    if (type == "omnisr") continue;
    bool claimed = true;
    try {
      claimed = detect(own).has_value();
    } catch (const std::exception& e) {
      ADD_FAILURE() << type << " throws on OmniSR weights: " << e.what();
    }
    EXPECT_FALSE(claimed) << type;
  }
  auto sd = state_dict_of(tiny("", 2));
  sd["residual_layer.0.residual_layer.0.layer.2.fn.rel_pos_bias.weight"] = torch::zeros({50, 4});
  EXPECT_NE(error_of([&] { sm::detect_omnisr(sd); }).find("rel_pos_bias.weight"), std::string::npos);
  auto sd2 = state_dict_of(tiny("", 2));
  sd2["input.weight"] = torch::zeros({8, 1, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_omnisr(sd2); }).find("input channels"), std::string::npos);
  auto sd3 = state_dict_of(tiny(", res_num: 2", 2));
  sd3["residual_layer.1.residual_layer.2.weight"] = torch::zeros({8, 8, 1, 1});
  EXPECT_NE(error_of([&] { sm::detect_omnisr(sd3); }).find("residual_layer.1.residual_layer"), std::string::npos);
  auto sd4 = state_dict_of(tiny("", 2));
  sd4["up.0.weight"] = torch::zeros({20, 8, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_omnisr(sd4); }).find("up.0.weight"), std::string::npos);
}

TEST(OmniSr, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& extra, int scale) { return error_of([&] { tiny(extra, scale); }); };
  EXPECT_NE(err(", num_feat: 6", 2).find("num_feat"), std::string::npos);
  EXPECT_NE(err(", block_num: 0", 2).find("block_num"), std::string::npos);
  EXPECT_NE(err(", res_num: 0", 2).find("res_num"), std::string::npos);
  EXPECT_NE(err(", window_size: 0", 2).find("window_size"), std::string::npos);
  EXPECT_NE(err(", pe: maybe", 2).find("pe"), std::string::npos);
  EXPECT_NE(err(", window: 8", 2).find("window"), std::string::npos);  // unknown key
  EXPECT_NE(err("", 5).find("scale"), std::string::npos);
}

TEST(OmniSr, SharedAttentionCoreEqualsSwinIrWindowAttention) {
  // swin_window_attention_core (added to swinir_blocks for OmniSR) is WindowAttention without its projections.
  torch::manual_seed(4);
  torch::NoGradGuard ng;
  sm::WindowAttention attn(12, 3, 3, true);
  const auto x = torch::rand({5, 9, 12});
  const auto core = sm::swin_window_attention_core(attn->qkv->forward(x), 3, attn->relative_position_bias_table,
                                                   attn->relative_position_index, {});
  EXPECT_TRUE(torch::equal(attn->proj->forward(core), attn->forward(x, {})));
  const auto mask = sm::swin_shift_attention_mask(3, 15, 3, 1);  // 5 windows
  const auto masked = sm::swin_window_attention_core(attn->qkv->forward(x), 3, attn->relative_position_bias_table,
                                                     attn->relative_position_index, mask);
  EXPECT_TRUE(torch::equal(attn->proj->forward(masked), attn->forward(x, mask)));
}

}  // namespace test_omnisr
