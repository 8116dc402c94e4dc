// RGT (models/arch/rgt.h): the zoo fixture (reference weights, output and hyperparameters), the exact
// state-dict key set, output shapes at odd and elongated sizes, the padding rule, gradients, the
// rectangular window helpers (swinir_blocks.h, "shared with rgt"), detection round trips, foreign
// keys, config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>

#include "tests/models/weight_file_fixtures.h"
#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/arch/registry.h"
#include "models/arch/rgt.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;

namespace test_rgt {

// Two groups: group 0 has L-SA (unshifted), RG-SA, L-SA (shifted); group 1 L-SA (shifted), RG-SA.
// split_size [2, 4] unless `extra` sets it.
const char* kTiny = "type: rgt, embed_dim: 8, depth: [3, 2], num_heads: [2, 2], img_size: 8, mlp_ratio: 2";

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_rgt.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

sm::Generator tiny(const std::string& extra, int scale) {
  const std::string split = extra.find("split_size") == std::string::npos ? ", split_size: [2, 4]" : "";
  return build(std::string("{") + kTiny + split + extra + "}", scale);
}

std::map<std::string, std::vector<int64_t>> shapes_of(const sm::StateDict& sd) {
  std::map<std::string, std::vector<int64_t>> m;
  for (const auto& [k, v] : sd) m[k] = v.sizes().vec();
  return m;
}

const sm::RgtOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::RgtImpl&>(*g).options(); }

TEST(RgtFixture, LoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("rgt_x2_e24");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  const sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  ASSERT_EQ(g->type(), "rgt");
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(g->scale(), hp["upscale"].get<int>());
  const auto& o = options_of(g);
  EXPECT_EQ(hp["in_chans"].get<int>(), 3);
  EXPECT_EQ(o.embed_dim, hp["embed_dim"].get<int>());
  EXPECT_EQ(o.depth, hp["depth"].get<std::vector<int>>());
  EXPECT_EQ(o.num_heads, hp["num_heads"].get<std::vector<int>>());
  EXPECT_EQ(o.split_size, hp["split_size"].get<std::vector<int>>());
  EXPECT_EQ(o.c_ratio, hp["c_ratio"].get<double>());
  EXPECT_EQ(o.img_size, hp["img_size"].get<int>());
  EXPECT_EQ(o.img_range, hp["img_range"].get<double>());
  EXPECT_EQ(o.three_conv, hp["resi_connection"].get<std::string>() == "3conv");
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());

  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
  std::cout << "[ fixture ] rgt_x2_e24: max |diff| " << diff << "\n";
}

TEST(RgtFixture, KeySetOfABuiltModelEqualsTheFixture) {
  const auto fx = srlab::testing::zoo_fixture("rgt_x2_e24");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto& hp = fx["hyperparameters"];
  const std::string yaml = "{type: rgt, embed_dim: " + std::to_string(hp["embed_dim"].get<int>()) + ", depth: " +
                           hp["depth"].dump() + ", num_heads: " + hp["num_heads"].dump() + ", split_size: " +
                           hp["split_size"].dump() + ", c_ratio: " + hp["c_ratio"].dump() + ", resi_connection: " +
                           hp["resi_connection"].get<std::string>() + "}";
  const auto built = shapes_of(state_dict_of(build(yaml, hp["upscale"].get<int>())));
  const auto file = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>());
  EXPECT_EQ(built, shapes_of(file.state_dict));
  EXPECT_EQ(file.state_dict.size(), fx["tensors"].get<size_t>());
}

TEST(Rgt, KeysOfShiftedAndUnshiftedBlocks) {
  const auto sd = state_dict_of(tiny("", 4));
  // Group 0: block 2 shifted; group 1: block 0 shifted (reference rule); masks for img_size 8.
  EXPECT_TRUE(sd.count("layers.0.blocks.2.attn.attn_mask_0"));
  EXPECT_TRUE(sd.count("layers.1.blocks.0.attn.attn_mask_1"));
  EXPECT_FALSE(sd.count("layers.0.blocks.0.attn.attn_mask_0"));
  EXPECT_EQ(sd.at("layers.0.blocks.2.attn.attn_mask_0").sizes(), (std::vector<int64_t>{8, 8, 8}));  // (8/2)*(8/4) windows
  EXPECT_EQ(sd.at("layers.0.blocks.0.attn.attns.0.rpe_biases").sizes(), (std::vector<int64_t>{21, 2}));  // 3 x 7
  EXPECT_EQ(sd.at("layers.0.blocks.0.attn.attns.1.relative_position_index").sizes(), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(sd.at("layers.0.blocks.1.attn.conv.weight").sizes(), (std::vector<int64_t>{4, 8, 1, 1}));
  EXPECT_EQ(sd.at("layers.0.blocks.1.attn.reduction1.weight").sizes(), (std::vector<int64_t>{8, 1, 4, 4}));
  EXPECT_EQ(sd.at("layers.1.blocks.1.mlp.sg.conv.weight").sizes(), (std::vector<int64_t>{8, 1, 3, 3}));
  EXPECT_EQ(sd.at("upsample.2.weight").sizes(), (std::vector<int64_t>{256, 64, 3, 3}));
  EXPECT_TRUE(sd.count("before_RG.1.bias"));
  EXPECT_TRUE(sd.count("layers.1.conv.weight"));
  // rpe_biases of branch 0 start at (1 - Sh, 1 - Sw), of branch 1 at (1 - Sw, 1 - Sh).
  EXPECT_TRUE(torch::equal(sd.at("layers.0.blocks.0.attn.attns.0.rpe_biases")[0], torch::tensor({-1.0f, -3.0f})));
  EXPECT_TRUE(torch::equal(sd.at("layers.0.blocks.0.attn.attns.1.rpe_biases")[0], torch::tensor({-3.0f, -1.0f})));
  const auto k3 = state_dict_of(tiny(", resi_connection: 3conv, qkv_bias: false", 3));
  for (const char* k : {"layers.0.conv.4.weight", "conv_after_body.2.weight", "upsample.0.weight"}) EXPECT_TRUE(k3.count(k)) << k;
  for (const char* k : {"layers.0.blocks.0.attn.qkv.bias", "layers.0.blocks.1.attn.q.bias", "upsample.2.weight"})
    EXPECT_FALSE(k3.count(k)) << k;
}

TEST(Rgt, OutputShapesAtOddAndElongatedSizes) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (int s : {2, 3, 4}) {
    auto g = tiny("", s);
    for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {1, 1}, {17, 19}, {3, 40}, {16, 16}}) {
      const auto y = g->forward(torch::rand({s == 2 ? 2 : 1, 3, h, w}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{s == 2 ? 2 : 1, 3, h * s, w * s})) << "x" << s << " " << h << "x" << w;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
  // max(h, w) >= 1024: RG-SA reduces 3 times, so the short side is padded to 64.
  auto g = build("{type: rgt, embed_dim: 8, depth: [2], num_heads: [2], split_size: [2, 4]}", 2);
  EXPECT_EQ(dynamic_cast<const sm::RgtImpl&>(*g).padded_size(17, 1024), (std::pair<int64_t, int64_t>{64, 1024}));
  EXPECT_EQ(g->forward(torch::rand({1, 3, 17, 1024})).sizes(), (std::vector<int64_t>{1, 3, 34, 2048}));
}

TEST(Rgt, PaddingOnlyWhereTheReferenceCannotRun) {
  auto g = tiny("", 2);
  const auto& impl = dynamic_cast<const sm::RgtImpl&>(*g);
  EXPECT_EQ(impl.padded_size(18, 22), (std::pair<int64_t, int64_t>{18, 22}));     // the reference runs: no padding
  EXPECT_EQ(impl.padded_size(16, 255), (std::pair<int64_t, int64_t>{16, 255}));
  EXPECT_EQ(impl.padded_size(5, 30), (std::pair<int64_t, int64_t>{16, 30}));
  EXPECT_EQ(impl.padded_size(300, 1100), (std::pair<int64_t, int64_t>{300, 1100}));
  // A 5x7 input is reflect-padded to 16x16 (rows 5..15 = 3,2,1,0,1,2,3,4,3,2,1 by repeated reflection):
  // the output equals the crop of the output for the explicitly padded input.
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  const auto x = torch::rand({1, 3, 5, 7});
  const auto rows = torch::tensor({0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1}, torch::kLong);
  const auto cols = torch::tensor({0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3}, torch::kLong);
  const auto full = g->forward(x.index_select(2, rows).index_select(3, cols));
  EXPECT_TRUE(torch::allclose(g->forward(x), full.slice(2, 0, 10).slice(3, 0, 14), 1e-6, 1e-6));
}

TEST(Rgt, ReductionStepsFollowTheReference) {
  EXPECT_EQ(sm::rgt_reduction_steps(18, 22, false), 2);
  EXPECT_EQ(sm::rgt_reduction_steps(256, 256, false), 2);    // log4(16) = 2
  EXPECT_EQ(sm::rgt_reduction_steps(64, 1024, false), 3);    // log4(64) = 3
  EXPECT_EQ(sm::rgt_reduction_steps(4096, 64, false), 4);    // log4(256) = 4
  EXPECT_EQ(sm::rgt_reduction_steps(1023, 64, false), 2);    // 63 -> 2.99
  EXPECT_EQ(sm::rgt_reduction_steps(64, 64, true), 2);       // training: log4(16)
  EXPECT_EQ(sm::rgt_reduction_steps(16, 20, true), 1);
  for (int j : {0, 1, 2, 3, 4, 5, 6}) {
    EXPECT_EQ(sm::rgt_block_shifted(0, j), j == 2 || j == 6) << j;
    EXPECT_EQ(sm::rgt_block_shifted(1, j), j == 0 || j == 4) << j;
  }
}

TEST(Rgt, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  // embed_dim 128: the DPB has 128/2/4/4 = 4 channels (16 gives 0, a zero-size MLP as in the fixture; 32
  // gives 1, where its LayerNorms output a constant and pass no gradient back; with 2 channels the last
  // LayerNorm's bias gets an exactly zero gradient whenever every relative position activates the same
  // ReLU channel, which happens with LibTorch 2.6's initial weights: softmax ignores a per-head constant).
  auto g = build("{type: rgt, embed_dim: 128, depth: [3, 2], num_heads: [2, 4], split_size: [4, 2], img_size: 8, "
                 "mlp_ratio: 2, c_ratio: 0.5, drop_path_rate: 0}", 2);
  g->to(srlab::testing::test_device());
  g->train();
  const auto y = g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 16, 12})));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 32, 24}));
  y.square().mean().backward();
  for (const auto& p : g->named_parameters()) {
    if (p.value().numel() == 0) continue;
    // pos3.2.bias adds one constant per head to every logit of a window: softmax is invariant to it,
    // so its gradient is zero up to rounding (in the reference too).
    if (p.key().find("pos.pos3.2.bias") != std::string::npos) continue;
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Rgt, RectangularWindowHelpersGeneraliseTheSquareOnes) {
  const auto x = torch::arange(2 * 4 * 6 * 3, torch::kFloat).view({2, 4, 6, 3});
  EXPECT_TRUE(torch::equal(sm::swin_window_partition(x, 2, 2), sm::swin_window_partition(x, 2)));
  const auto w = sm::swin_window_partition(x, 2, 3);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{8, 6, 3}));
  EXPECT_TRUE(torch::equal(w[1][0], x[0][0][3]));  // window (0,1) starts at pixel (0,3)
  EXPECT_TRUE(torch::equal(w[2][4], x[0][3][1]));  // window (1,0), token (1,1) = pixel (3,1)
  EXPECT_TRUE(torch::equal(sm::swin_window_reverse(w, 2, 3, 4, 6), x));
  EXPECT_TRUE(torch::equal(sm::swin_relative_position_index(3, 3), sm::swin_relative_position_index(3)));
  EXPECT_TRUE(torch::equal(sm::swin_rect_shift_attention_mask(8, 12, 4, 4, 2, 2), sm::swin_shift_attention_mask(8, 12, 4, 2)));
  // Wh = 2, Ww = 3: index = (dy + 1) * 5 + (dx + 2).
  const auto idx = sm::swin_relative_position_index(2, 3);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) EXPECT_EQ(idx[i][j].item<int64_t>(), (i / 3 - j / 3 + 1) * 5 + (i % 3 - j % 3 + 2));
  // 4x6 map, 2x3 windows, shift (1, 1): rows [0,2) [2,3) [3,4), columns [0,3) [3,5) [5,6).
  const auto mask = sm::swin_rect_shift_attention_mask(4, 6, 2, 3, 1, 1);
  ASSERT_EQ(mask.sizes(), (std::vector<int64_t>{4, 6, 6}));
  auto region = [](int64_t v, int64_t n, int64_t win, int64_t sh) { return v < n - win ? 0 : (v < n - sh ? 1 : 2); };
  for (int64_t wy = 0; wy < 2; ++wy)
    for (int64_t wx = 0; wx < 2; ++wx)
      for (int64_t i = 0; i < 6; ++i)
        for (int64_t j = 0; j < 6; ++j) {
          const int64_t yi = wy * 2 + i / 3, xi = wx * 3 + i % 3, yj = wy * 2 + j / 3, xj = wx * 3 + j % 3;
          const bool same = region(yi, 4, 2, 1) * 3 + region(xi, 6, 3, 1) == region(yj, 4, 2, 1) * 3 + region(xj, 6, 3, 1);
          EXPECT_EQ(mask[wy * 2 + wx][i][j].item<float>(), same ? 0.0f : -100.0f);
        }
  EXPECT_NE(error_of([] { sm::swin_rect_shift_attention_mask(5, 6, 2, 3, 1, 1); }).find("multiples"), std::string::npos);
}

TEST(Rgt, DetectorRoundTrips) {
  const std::vector<std::pair<std::string, int>> variants{
      {"", 2}, {", split_size: [4, 2]", 3}, {", resi_connection: 3conv, qkv_bias: false, num_feat: 16", 4},
      {", split_size: [2, 2]", 8}};
  for (const auto& [extra, s] : variants) {
    const auto g = tiny(extra, s);
    const auto d = sm::detect_rgt(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << extra;
    EXPECT_EQ(d->scale, s);
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(shapes_of(state_dict_of(back)), shapes_of(state_dict_of(g))) << d->model_yaml;
    const auto &a = options_of(g), &b = options_of(back);
    EXPECT_EQ(a.embed_dim, b.embed_dim);
    EXPECT_EQ(a.depth, b.depth);
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.split_size, b.split_size) << d->model_yaml;
    EXPECT_EQ(a.img_size, b.img_size);
    EXPECT_EQ(a.mlp_ratio, b.mlp_ratio);
    EXPECT_EQ(a.c_ratio, b.c_ratio);
    EXPECT_EQ(a.three_conv, b.three_conv);
    EXPECT_EQ(a.qkv_bias, b.qkv_bias);
    EXPECT_EQ(a.num_feat, b.num_feat);
  }
  {  // the default model (four groups; group 1 has shifted blocks)
    const auto g = build("{type: rgt}", 2);
    const auto d = sm::detect_rgt(state_dict_of(g));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(shapes_of(state_dict_of(build(d->model_yaml, d->scale))), shapes_of(state_dict_of(g))) << d->model_yaml;
  }
  // Sh > Sw is told from Sh < Sw by the stored offsets alone (the shapes are the same), also when the
  // buffer is perturbed (the zoo fixture's buffers are).
  for (const char* split : {"[4, 2]", "[2, 4]"}) {
    auto sd = state_dict_of(tiny(std::string(", split_size: ") + split, 2));
    auto& rpe = sd["layers.0.blocks.0.attn.attns.0.rpe_biases"];
    rpe = rpe + 0.3 * torch::rand_like(rpe) - 0.15;
    const auto det = sm::detect_rgt(sd);
    ASSERT_TRUE(det.has_value());
    EXPECT_NE(det->model_yaml.find(std::string("split_size: ") + split), std::string::npos) << det->model_yaml;
  }
  // Several groups with different heads, c_ratio 0.25, mlp_ratio 1.5.
  const auto g = build("{type: rgt, embed_dim: 48, depth: [2, 1, 2], num_heads: [4, 2, 6], c_ratio: 0.25, mlp_ratio: 1.5, "
                       "split_size: [4, 4]}", 2);
  const auto d = sm::detect_rgt(state_dict_of(g));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->model_yaml.find("depth: [2, 1, 2], num_heads: [4, 2, 6], mlp_ratio: 1.5"), std::string::npos) << d->model_yaml;
  EXPECT_NE(d->model_yaml.find("c_ratio: 0.25"), std::string::npos) << d->model_yaml;
}

TEST(Rgt, DetectorRejectsOtherNetworksAndExplainsInconsistentKeys) {
  EXPECT_FALSE(sm::detect_rgt({}).has_value());
  EXPECT_FALSE(sm::detect_rgt(state_dict_of(build("{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                                                  "img_size: 8}", 2))).has_value());
  // DAT-like keys (same trunk, `ffn` instead of `mlp`, no HAI gamma) are not RGT.
  sm::StateDict dat;
  for (const auto& [k, v] : state_dict_of(tiny("", 2))) {
    std::string key = k;
    if (key.find(".gamma") != std::string::npos) continue;
    const auto p = key.find(".mlp.");
    if (p != std::string::npos) key.replace(p, 5, ".ffn.");
    dat[key] = v;
  }
  EXPECT_FALSE(sm::detect_rgt(dat).has_value());
  // And RGT weights are claimed by no other registered detector.
  const auto rgt_sd = state_dict_of(tiny("", 2));
  for (const auto& [type, detector] : sm::generator_detectors()) {
    if (type == "rgt") continue;
    std::optional<sm::DetectedModel> other;
    try {
      other = detector(rgt_sd);
    } catch (const srlab::Error&) {
    }
    EXPECT_FALSE(other.has_value()) << type;
  }
  auto sd = state_dict_of(tiny("", 2));
  sd["layers.0.blocks.0.attn.attns.0.rpe_biases"] = torch::zeros({20, 2});
  EXPECT_NE(error_of([&] { sm::detect_rgt(sd); }).find("rpe_biases"), std::string::npos);
  auto sd3 = state_dict_of(tiny("", 2));
  sd3.erase("upsample.0.weight");
  EXPECT_NE(error_of([&] { sm::detect_rgt(sd3); }).find("upsample.0.weight"), std::string::npos);
}

TEST(Rgt, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& yaml, int scale) { return error_of([&] { build(yaml, scale); }); };
  EXPECT_NE(err(std::string("{") + kTiny + "}", 5).find("scale"), std::string::npos);
  EXPECT_NE(err("{type: rgt, embed_dim: 9, depth: [2], num_heads: [2]}", 2).find("embed_dim"), std::string::npos);
  EXPECT_NE(err("{type: rgt, embed_dim: 12, depth: [2], num_heads: [5]}", 2).find("num_heads"), std::string::npos);
  EXPECT_NE(err("{type: rgt, depth: [2, 2], num_heads: [2]}", 2).find("one entry per depth"), std::string::npos);
  EXPECT_NE(err("{type: rgt, split_size: [8]}", 2).find("split_size"), std::string::npos);
  EXPECT_NE(err("{type: rgt, split_size: [1, 8]}", 2).find("split_size"), std::string::npos);
  EXPECT_NE(err("{type: rgt, embed_dim: 12, depth: [2], num_heads: [2], mlp_ratio: 1.25}", 2).find("mlp_ratio"), std::string::npos);
  EXPECT_NE(err("{type: rgt, embed_dim: 12, depth: [2], num_heads: [4], c_ratio: 0.5}", 2).find("c_ratio"), std::string::npos);
  EXPECT_NE(err("{type: rgt, depth: [3], num_heads: [2], split_size: [8, 24]}", 2).find("img_size"), std::string::npos);
  EXPECT_NE(err("{type: rgt, resi_connection: 2conv}", 2).find("resi_connection"), std::string::npos);
  EXPECT_NE(err("{type: rgt, drop_path_rate: 1.0}", 2).find("drop_path_rate"), std::string::npos);
  EXPECT_NE(err(std::string("{") + kTiny + ", window_size: 8}", 2).find("window_size"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

TEST(Rgt, DropPathOnlyInTraining) {
  torch::manual_seed(3);
  auto g = tiny(", drop_path_rate: 0.5", 2);
  const auto x = torch::rand({4, 3, 16, 16});
  torch::NoGradGuard ng;
  const auto a = g->forward(x), b = g->forward(x);
  EXPECT_TRUE(torch::equal(a, b));
  g->train();
  const auto c = g->forward(x);
  EXPECT_FALSE(torch::allclose(a, c));
  EXPECT_TRUE(torch::isfinite(c).all().item<bool>());
}

TEST(RgtFixture, DetectorClaimsNoOtherZooFile) {
  // DAT, HAT, DRCT, ATD, OmniSR, RCAN, Real-CUGAN, MoSR files: detect_rgt says "not mine" (std::nullopt).
  const auto dir = srlab::testing::zoo_dir();
  if (dir.empty() || !std::filesystem::exists(dir / "manifest.json")) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto manifest = nlohmann::json::parse(srlab::core::read_file(dir / "manifest.json"));
  int checked = 0;
  for (const auto& model : manifest["models"]) {
    const std::string file = model["file"].get<std::string>();
    SCOPED_TRACE(file);
    const auto sd = sm::read_weight_file(dir / file).state_dict;
    const bool mine = model["name"].get<std::string>().rfind("rgt", 0) == 0;
    std::optional<sm::DetectedModel> d;
    EXPECT_NO_THROW(d = sm::detect_rgt(sd));
    EXPECT_EQ(d.has_value(), mine);
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

}  // namespace test_rgt
