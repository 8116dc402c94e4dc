// DAT (models/arch/dat.h): the zoo fixture (dat_x4_e24) loaded with no hints against the reference output
// and the manifest's hyperparameters, its exact key set, output shapes at odd sizes for both upsamplers,
// gradients to every parameter, the layout-safe GELU backward and training-mode gradients that are
// deterministic and correct (the root cause of the resume mismatch), the rectangular-window helpers,
// split_size order from the index, the detector's refusal of other architectures, config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/dat.h"
#include "models/arch/dat_blocks.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;
using srlab::testing::key_set;

namespace test_dat {

// embed_dim 32: the dynamic position bias gets (32/2/4)/4 = 1 channel (with 24, as in the fixture, 0).
const char* kTiny = "type: dat, embed_dim: 32, split_size: [2, 4], depth: [2, 3], num_heads: [2, 4], expansion_factor: 2, img_size: 8";

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_dat.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

sm::Generator tiny(const std::string& extra, int scale) { return build(std::string("{") + kTiny + extra + "}", scale); }

const sm::DatOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::DatImpl&>(*g).options(); }

TEST(Dat, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("dat_x4_e24");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(g->type(), "dat");
  EXPECT_EQ(g->scale(), hp["upscale"].get<int>());
  const auto& o = options_of(g);
  EXPECT_EQ(hp["in_chans"].get<int>(), 3);
  EXPECT_EQ(o.embed_dim, hp["embed_dim"].get<int>());
  EXPECT_EQ(o.split_size, hp["split_size"].get<std::vector<int>>());
  EXPECT_EQ(o.depth, hp["depth"].get<std::vector<int>>());
  EXPECT_EQ(o.num_heads, hp["num_heads"].get<std::vector<int>>());
  EXPECT_EQ(o.expansion_factor, hp["expansion_factor"].get<double>());
  EXPECT_EQ(o.img_size, hp["img_size"].get<int>());
  EXPECT_EQ(o.img_range, hp["img_range"].get<double>());
  EXPECT_EQ(o.three_conv, hp["resi_connection"].get<std::string>() == "3conv");
  EXPECT_EQ(o.direct_upsampler, hp["upsampler"].get<std::string>() == "pixelshuffledirect");
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());
  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
  std::cout << "[ fixture ] dat_x4_e24: max |diff| " << diff << " (max |reference| " << ref.abs().max().item<double>() << ")\n";
}

TEST(Dat, BuiltModelHasExactlyTheFixtureKeys) {
  const auto fx = srlab::testing::zoo_fixture("dat_x4_e24");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto file = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>());
  EXPECT_EQ(file.state_dict.size(), fx["tensors"].get<size_t>());
  const auto g = build("{type: dat, embed_dim: 24, split_size: [2, 4], depth: [2, 2], num_heads: [2, 2], expansion_factor: 2}", 4);
  const auto mine = state_dict_of(g);
  EXPECT_EQ(key_set(mine), key_set(file.state_dict));
  for (const auto& [k, t] : file.state_dict)
    if (mine.count(k)) EXPECT_EQ(mine.at(k).sizes(), t.sizes()) << k;
}

TEST(Dat, OutputShapesAtOddSizesBothUpsamplers) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (const std::string up : {"pixelshuffle", "pixelshuffledirect"})
    for (int s : {2, 3, 4}) {
      auto g = tiny(", upsampler: " + up, s);
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "dat");
      for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {9, 3}, {1, 1}, {8, 8}}) {
        const auto y = g->forward(torch::rand({2, 3, h, w}));
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << up << " x" << s << " " << h << "x" << w;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      }
    }
}

TEST(Dat, BatchItemsAreIndependent) {
  // Padding, windows and masks must not mix the images of a batch.
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  auto g = tiny(", upsampler: pixelshuffledirect", 2);
  const auto x = torch::rand({2, 3, 7, 5});
  const auto both = g->forward(x);
  EXPECT_TRUE(torch::allclose(both[1], g->forward(x.slice(0, 1, 2))[0], 1e-5, 1e-6));
}

TEST(Dat, StoredMasksEqualTheMasksBuiltPerForward) {
  // At img_size x img_size the shifted blocks use their attn_mask_* buffers; at other sizes masks are
  // rebuilt. A model whose buffers are for 16x16 must give the same 8x8 output as one with 8x8 buffers.
  torch::manual_seed(2);
  torch::NoGradGuard ng;
  auto a = tiny(", upsampler: pixelshuffledirect", 2);
  auto b = build(std::string("{") + kTiny + ", upsampler: pixelshuffledirect, img_size: 16}", 2);
  auto sa = state_dict_of(a), sb = state_dict_of(b);
  size_t masks = 0;
  for (auto& [k, t] : sb) {
    if (k.find("attn_mask") != std::string::npos) {
      ++masks;
      continue;
    }
    t.copy_(sa.at(k));
  }
  EXPECT_EQ(masks, 2u);  // depth [2, 3]: only group 1 block 0 is shifted (attn_mask_0, attn_mask_1)
  const auto x = torch::rand({1, 3, 8, 8});
  EXPECT_TRUE(torch::allclose(a->forward(x), b->forward(x), 1e-6, 1e-6));
}

TEST(Dat, ShiftedBlocksFollowTheReferencePattern) {
  // Even groups: blocks 2, 6, 10, ...; odd groups: blocks 0, 4, 8, ...
  for (int j : {2, 6, 10}) EXPECT_TRUE(sm::dat_block_shifted(0, j)) << j;
  for (int j : {0, 4, 8}) EXPECT_FALSE(sm::dat_block_shifted(0, j)) << j;
  for (int j : {0, 4, 8}) EXPECT_TRUE(sm::dat_block_shifted(1, j)) << j;
  for (int j : {2, 6}) EXPECT_FALSE(sm::dat_block_shifted(3, j)) << j;
  const auto keys = key_set(state_dict_of(build("{type: dat, embed_dim: 16, depth: [3, 1], num_heads: [2, 2], img_size: 8}", 2)));
  EXPECT_TRUE(keys.count("layers.0.blocks.2.attn.attn_mask_0"));
  EXPECT_TRUE(keys.count("layers.1.blocks.0.attn.attn_mask_1"));
  EXPECT_FALSE(keys.count("layers.0.blocks.0.attn.attn_mask_0"));
  EXPECT_TRUE(keys.count("layers.0.blocks.1.attn.temperature"));
  EXPECT_FALSE(keys.count("layers.1.blocks.1.attn.temperature"));
}

TEST(Dat, RectangularWindowHelpers) {
  // 2x4 windows on a 4x8 map: index = (dy + 1) * 7 + (dx + 3); partition round trip.
  const auto idx = sm::swin_relative_position_index(2, 4);
  ASSERT_EQ(idx.sizes(), (std::vector<int64_t>{8, 8}));
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) EXPECT_EQ(idx[i][j].item<int64_t>(), (i / 4 - j / 4 + 1) * 7 + (i % 4 - j % 4 + 3));
  EXPECT_TRUE(torch::equal(sm::swin_relative_position_index(3, 3), sm::swin_relative_position_index(3)));
  const auto x = torch::arange(2 * 4 * 8 * 3, torch::kFloat).view({2, 4, 8, 3});
  const auto w = sm::swin_window_partition(x, 2, 4);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{8, 8, 3}));
  EXPECT_TRUE(torch::equal(w[1][0], x[0][0][4]));  // window (0,1) starts at pixel (0,4)
  EXPECT_TRUE(torch::equal(w[2][5], x[0][3][1]));  // window (1,0), token (1,1) = pixel (3,1)
  EXPECT_TRUE(torch::equal(sm::swin_window_reverse(w, 2, 4, 4, 8), x));
  // Square windows: the rectangular mask is the square one; a zero shift makes its axis one region.
  EXPECT_TRUE(torch::equal(sm::swin_rect_shift_attention_mask(8, 12, 4, 4, 2, 2), sm::swin_shift_attention_mask(8, 12, 4, 2)));
  const auto m = sm::swin_rect_shift_attention_mask(4, 4, 1, 2, 0, 1);  // rows: one region; columns [0,2) [2,3) [3,4)
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{8, 2, 2}));
  EXPECT_EQ(m.slice(0, 0, 8, 2).abs().sum().item<float>(), 0.0f);  // windows on columns 0-1: one region
  for (int r = 0; r < 4; ++r) EXPECT_EQ(m[2 * r + 1][0][1].item<float>(), -100.0f);  // columns 2 | 3 differ
  EXPECT_NE(error_of([] { sm::swin_rect_shift_attention_mask(4, 6, 2, 4, 1, 2); }).find("multiples"), std::string::npos);
  // The DAT masks: branch 1 is branch 0 of the transposed window.
  const auto [m0, m1] = sm::dat_shift_masks(8, 8, 2, 4);
  EXPECT_TRUE(torch::equal(m0, sm::swin_rect_shift_attention_mask(8, 8, 2, 4, 1, 2)));
  EXPECT_TRUE(torch::equal(m1, sm::swin_rect_shift_attention_mask(8, 8, 4, 2, 2, 1)));
}

TEST(Dat, GradientsReachEveryParameter) {
  // embed_dim 64: the position bias LayerNorms see 2 channels (over 1 channel their output is constant).
  torch::manual_seed(4);
  auto g = build("{type: dat, embed_dim: 64, split_size: [2, 4], depth: [2, 1], num_heads: [2, 4], img_size: 8, "
                 "expansion_factor: 1, num_feat: 8, drop_path_rate: 0.0}", 2);
  g->to(srlab::testing::test_device());
  g->train();
  g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 6, 9}))).square().mean().backward();
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    // pos3's bias adds one constant per head to every attention logit: softmax cancels it (zero gradient
    // in the reference too).
    if (p.key().find("pos.pos3.2.bias") != std::string::npos) continue;
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Dat, GeluBackwardIsCorrectForAnyGradientLayout) {
  // Regression: LibTorch 1.13's CPU gelu backward returns garbage when the gradient's strides differ from the
  // input's (a channels-last gradient into an NCHW GELU, as in DAT's AIM dwconv branch); dat_gelu must not.
  torch::manual_seed(2);
  for (const bool four_d : {true, false}) {
    const torch::Tensor x0 = four_d ? torch::randn({2, 16, 5, 7}) : torch::randn({2, 35, 16});
    const torch::Tensor gy = four_d ? torch::randn({2, 5, 7, 16}).permute({0, 3, 1, 2}) : torch::randn({2, 16, 35}).transpose(1, 2);
    ASSERT_FALSE(gy.is_contiguous());
    const torch::Tensor cdf = 0.5 * (1.0 + torch::erf(x0 / std::sqrt(2.0)));
    const torch::Tensor expected = gy * (cdf + x0 * torch::exp(-0.5 * x0 * x0) / std::sqrt(2.0 * M_PI));
    for (int rep = 0; rep < 3; ++rep) {
      const torch::Tensor x = x0.clone().requires_grad_(true);
      const torch::Tensor y = sm::dat_gelu(x);
      EXPECT_TRUE(torch::equal(y.detach(), torch::gelu(x0)));
      y.backward(gy);
      EXPECT_TRUE(torch::allclose(x.grad(), expected, 1e-5, 1e-6)) << "four_d " << four_d << " rep " << rep;
    }
  }
}

TEST(Dat, TrainingGradientsAreDeterministicAndCorrect) {
  // The float gradient of a training-mode forward (BatchNorm on batch statistics) w.r.t. the input (it passes
  // conv_first and every block) must be the same on every backward and agree with the double-precision one,
  // itself checked against a central difference. Before dat_gelu the AIM branch fed uninitialised memory
  // into it (float only), so a run and its resumed copy diverged (tests/train/arch_training_test.cpp).
  const std::string yaml = "{type: dat, embed_dim: 32, split_size: [2, 4], depth: [2], num_heads: [2], expansion_factor: 2, "
                           "img_size: 8, num_feat: 8, drop_path_rate: 0.0}";
  torch::manual_seed(3);
  auto g = build(yaml, 2);
  torch::manual_seed(3);
  auto g64 = build(yaml, 2);
  {  // to double, keeping the int64 index buffers (Module::to(dtype) would convert those too)
    torch::NoGradGuard ng;
    for (auto& p : g64->parameters()) p.set_data(p.to(torch::kFloat64));
    for (auto& b : g64->buffers())
      if (b.is_floating_point()) b.set_data(b.to(torch::kFloat64));
  }
  g->train();
  g64->train();
  const torch::Tensor x0 = torch::rand({2, 3, 8, 8}), gy = torch::randn({2, 3, 16, 16});
  const auto input_grad = [&](sm::Generator& net, torch::Dtype dtype) {
    const torch::Tensor x = x0.to(dtype).clone().requires_grad_(true);
    (net->forward(x) * gy.to(dtype)).sum().backward();
    return x.grad();
  };
  const torch::Tensor first = input_grad(g, torch::kFloat32);
  for (int rep = 1; rep < 3; ++rep) EXPECT_TRUE(torch::equal(input_grad(g, torch::kFloat32), first)) << "rep " << rep;
  const torch::Tensor ref = input_grad(g64, torch::kFloat64);
  EXPECT_LE((first.to(torch::kFloat64) - ref).abs().max().item<double>(), 1e-4 * ref.abs().max().item<double>());
  // The double gradient along a random direction u against a central difference of the loss.
  torch::NoGradGuard ng;
  const torch::Tensor x64 = x0.to(torch::kFloat64), gy64 = gy.to(torch::kFloat64), u = torch::randn_like(x64);
  const auto loss = [&](const torch::Tensor& x) { return (g64->forward(x) * gy64).sum().item<double>(); };
  const double eps = 1e-6, numeric = (loss(x64 + eps * u) - loss(x64 - eps * u)) / (2 * eps);
  EXPECT_NEAR((ref * u).sum().item<double>(), numeric, 1e-5 * std::max(1.0, std::abs(numeric)));
}

TEST(Dat, DetectorRoundTripsVariantsAndSplitOrder) {
  torch::manual_seed(5);
  const std::vector<std::pair<std::string, int>> variants{
      {"{type: dat, embed_dim: 16, split_size: [2, 4], depth: [2, 2], num_heads: [2, 2], expansion_factor: 2}", 4},
      {"{type: dat, embed_dim: 16, split_size: [4, 2], depth: [2, 2], num_heads: [2, 2], expansion_factor: 2}", 4},
      {"{type: dat, embed_dim: 32, split_size: [2, 8], depth: [1, 3], num_heads: [4, 2], img_size: 16, qkv_bias: false}", 3},
      {"{type: dat, upsampler: pixelshuffledirect, resi_connection: 3conv, embed_dim: 16, split_size: [4, 4], "
       "depth: [3], num_heads: [2], img_size: 12, expansion_factor: 1.5}", 2},
      {"{type: dat, embed_dim: 16, split_size: [1, 2], depth: [2, 1], num_heads: [2, 2], num_feat: 8}", 8}};
  for (const auto& [yaml, s] : variants) {
    SCOPED_TRACE(yaml);
    const auto g = build(yaml, s);
    const auto d = sm::detect_dat(state_dict_of(g));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->scale, s);
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(key_set(state_dict_of(back)), key_set(state_dict_of(g))) << d->model_yaml;
    const auto &a = options_of(g), &b = options_of(back);
    EXPECT_EQ(a.direct_upsampler, b.direct_upsampler);
    EXPECT_EQ(a.embed_dim, b.embed_dim);
    EXPECT_EQ(a.split_size, b.split_size);
    EXPECT_EQ(a.depth, b.depth);
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.expansion_factor, b.expansion_factor);
    EXPECT_EQ(a.qkv_bias, b.qkv_bias);
    EXPECT_EQ(a.img_size, b.img_size);
    EXPECT_EQ(a.three_conv, b.three_conv);
    if (!a.direct_upsampler) EXPECT_EQ(a.num_feat, b.num_feat);
  }
}

TEST(Dat, DetectorLeavesOtherArchitecturesAndRejectsInconsistentKeys) {
  EXPECT_FALSE(sm::detect_dat({}).has_value());
  EXPECT_FALSE(sm::detect_dat(state_dict_of(build("{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                                                  "img_size: 8}", 2))).has_value());
  // RGT shares before_RG, attns.<i>.rpe_biases and the dynamic position bias, but has mlp.fc1 (no SGFN
  // spatial gate) and no AIM: without layers.0.blocks.0.ffn.sg.conv.weight the keys are not DAT's.
  auto rgt_like = state_dict_of(tiny("", 2));
  for (auto it = rgt_like.begin(); it != rgt_like.end();)
    it = it->first.find(".ffn.") != std::string::npos ? rgt_like.erase(it) : std::next(it);
  rgt_like["layers.0.blocks.0.mlp.fc1.weight"] = torch::zeros({64, 32});
  rgt_like["layers.0.blocks.0.gamma"] = torch::zeros({32});
  EXPECT_FALSE(sm::detect_dat(rgt_like).has_value());
  // A relative_position_index of no 2x4 / 4x2 window, and an offset table of no window.
  auto bad_index = state_dict_of(tiny("", 2));
  bad_index["layers.0.blocks.0.attn.attns.0.relative_position_index"] = torch::zeros({8, 8}, torch::kLong);
  EXPECT_NE(error_of([&] { sm::detect_dat(bad_index); }).find("relative_position_index"), std::string::npos);
  auto bad_table = state_dict_of(tiny("", 2));
  bad_table["layers.0.blocks.0.attn.attns.0.rpe_biases"] = torch::zeros({20, 2});
  EXPECT_NE(error_of([&] { sm::detect_dat(bad_table); }).find("rpe_biases"), std::string::npos);
  auto no_up = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  no_up.erase("upsample.0.weight");
  EXPECT_NE(error_of([&] { sm::detect_dat(no_up); }).find("upsampler"), std::string::npos);
}

TEST(Dat, DetectorLeavesEveryOtherFixtureAlone) {
  // The real weight files of the other architectures (RGT shares before_RG and attns.<i>.rpe_biases;
  // SwinIR, HAT, DRCT, ATD share layers.<i>...): detect_dat returns nullopt, without throwing.
  const auto zoo = srlab::testing::zoo_dir();
  const auto interop = srlab::testing::interop_dir();
  if (zoo.empty() || !std::filesystem::exists(zoo)) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  size_t checked = 0;
  for (const auto& dir : {zoo, interop})
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      const bool weights = name.size() > 4 && (name.substr(name.size() - 4) == ".pth" ||
                                               name.find(".safetensors") != std::string::npos);
      if (!weights || name.rfind("dat_", 0) == 0) continue;
      SCOPED_TRACE(name);
      const auto file = sm::read_weight_file(e.path());
      std::optional<sm::DetectedModel> d;
      EXPECT_NO_THROW(d = sm::detect_dat(file.state_dict));
      EXPECT_FALSE(d.has_value());
      ++checked;
    }
  EXPECT_GE(checked, 8u);
}

TEST(Dat, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& yaml, int scale) { return error_of([&] { build(yaml, scale); }); };
  EXPECT_NE(err("{type: dat}", 5).find("scale"), std::string::npos);
  EXPECT_NE(err("{type: dat, split_size: [3, 4]}", 2).find("split_size"), std::string::npos);
  EXPECT_NE(err("{type: dat, split_size: [8]}", 2).find("split_size"), std::string::npos);
  EXPECT_NE(err("{type: dat, embed_dim: 20, num_heads: [3, 3, 3, 3]}", 2).find("num_heads"), std::string::npos);
  EXPECT_NE(err("{type: dat, depth: [2, 2], num_heads: [2]}", 2).find("num_heads"), std::string::npos);
  EXPECT_NE(err("{type: dat, embed_dim: 8}", 2).find("embed_dim"), std::string::npos);
  EXPECT_NE(err("{type: dat, embed_dim: 18, num_heads: [2, 2, 2, 2], expansion_factor: 1.5}", 2).find("expansion_factor"),
            std::string::npos);
  EXPECT_NE(err("{type: dat, img_size: 10}", 2).find("img_size"), std::string::npos);
  EXPECT_NE(err("{type: dat, upsampler: nearest+conv}", 2).find("upsampler"), std::string::npos);
  EXPECT_NE(err("{type: dat, resi_connection: 2conv}", 2).find("resi_connection"), std::string::npos);
  EXPECT_NE(err("{type: dat, split: [2, 4]}", 2).find("split"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

}  // namespace test_dat
