// SwinIR (models/arch/swinir.h): output shapes at sizes that are not window multiples for every
// upsampler, official state-dict keys per variant, the relative position index and shifted-window
// mask against hand-built references and against the official buffers stored in the interop fixture,
// detection round trips, config errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "tests/models/generator_test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/registry.h"
#include "models/arch/swinir.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;

namespace test_swinir {

const char* kTiny = "type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, mlp_ratio: 2";

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_swinir.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

sm::Generator tiny(const std::string& extra, int scale) { return build(std::string("{") + kTiny + extra + "}", scale); }

std::vector<std::string> keys_of(const sm::Generator& g) {
  std::vector<std::string> keys;
  for (const auto& kv : g->named_parameters()) keys.push_back(kv.key());
  for (const auto& kv : g->named_buffers()) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

/// The keys of one Swin Transformer layer "layers.<i>.residual_group.blocks.<j>." (with attn_mask when shifted).
std::vector<std::string> block_keys(int i, int j, bool shifted) {
  const std::string p = "layers." + std::to_string(i) + ".residual_group.blocks." + std::to_string(j) + ".";
  std::vector<std::string> k;
  for (const char* s : {"norm1.weight", "norm1.bias", "attn.relative_position_bias_table", "attn.relative_position_index",
                        "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "norm2.weight",
                        "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"})
    k.push_back(p + s);
  if (shifted) k.push_back(p + "attn_mask");
  return k;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(SwinIr, OutputShapesNonMultipleSizesEveryUpsampler) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  const std::vector<std::pair<std::string, std::vector<int>>> variants{
      {"pixelshuffle", {2, 3, 4}}, {"pixelshuffledirect", {2, 3, 4}}, {"nearest+conv", {2, 4}}};
  for (const auto& [up, scales] : variants)
    for (int s : scales) {
      auto g = tiny(", upsampler: " + up, s);
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "swinir");
      for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {9, 3}, {8, 12}}) {
        const auto y = g->forward(torch::rand({2, 3, h, w}));
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << up << " x" << s << " " << h << "x" << w;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      }
    }
}

TEST(SwinIr, PaddingIsReflectAndCroppedLikeTheReference) {
  // A 5x6 input is reflect-padded to 8x8: the output equals the crop of the output for the explicitly
  // reflect-padded input (rows 5,6,7 = rows 3,2,1; columns 6,7 = columns 4,3).
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  auto g = tiny(", upsampler: pixelshuffledirect", 2);
  const auto x = torch::rand({1, 3, 5, 6});
  const auto rows = torch::tensor({0, 1, 2, 3, 4, 3, 2, 1}, torch::kLong), cols = torch::tensor({0, 1, 2, 3, 4, 5, 4, 3}, torch::kLong);
  const auto padded = x.index_select(2, rows).index_select(3, cols);
  const auto full = g->forward(padded);
  EXPECT_TRUE(torch::allclose(g->forward(x), full.slice(2, 0, 10).slice(3, 0, 12), 1e-6, 1e-6));
}

TEST(SwinIr, StateDictKeysPerVariant) {
  std::vector<std::string> trunk{"conv_first.weight", "conv_first.bias", "patch_embed.norm.weight", "patch_embed.norm.bias",
                                 "layers.0.conv.weight", "layers.0.conv.bias", "norm.weight", "norm.bias",
                                 "conv_after_body.weight", "conv_after_body.bias"};
  for (const auto& k : block_keys(0, 0, false)) trunk.push_back(k);
  for (const auto& k : block_keys(0, 1, true)) trunk.push_back(k);
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), trunk.begin(), trunk.end());
    return sorted(extra);
  };
  EXPECT_EQ(keys_of(tiny(", upsampler: pixelshuffledirect", 2)), with({"upsample.0.weight", "upsample.0.bias"}));
  EXPECT_EQ(keys_of(tiny(", upsampler: pixelshuffle", 4)),
            with({"conv_before_upsample.0.weight", "conv_before_upsample.0.bias", "upsample.0.weight", "upsample.0.bias",
                  "upsample.2.weight", "upsample.2.bias", "conv_last.weight", "conv_last.bias"}));
  EXPECT_EQ(keys_of(tiny(", upsampler: pixelshuffle", 3)),
            with({"conv_before_upsample.0.weight", "conv_before_upsample.0.bias", "upsample.0.weight", "upsample.0.bias",
                  "conv_last.weight", "conv_last.bias"}));
  EXPECT_EQ(keys_of(tiny(", upsampler: nearest+conv", 4)),
            with({"conv_before_upsample.0.weight", "conv_before_upsample.0.bias", "conv_up1.weight", "conv_up1.bias",
                  "conv_up2.weight", "conv_up2.bias", "conv_hr.weight", "conv_hr.bias", "conv_last.weight", "conv_last.bias"}));
  // Shapes: bias table (2M-1)^2 x heads, index M^2 x M^2, mask nW x M^2 x M^2 with nW = (img_size/M)^2,
  // num_feat 64 in the upsampler, 3*s^2 outputs of the direct upsampler.
  const auto sd = state_dict_of(tiny(", upsampler: pixelshuffle", 3));
  const std::string b = "layers.0.residual_group.blocks.1.";
  EXPECT_EQ(sd.at(b + "attn.relative_position_bias_table").sizes(), (std::vector<int64_t>{49, 2}));
  EXPECT_EQ(sd.at(b + "attn.relative_position_index").sizes(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(sd.at(b + "attn.relative_position_index").scalar_type(), torch::kLong);
  EXPECT_EQ(sd.at(b + "attn_mask").sizes(), (std::vector<int64_t>{4, 16, 16}));
  EXPECT_EQ(sd.at(b + "mlp.fc1.weight").sizes(), (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(sd.at("upsample.0.weight").sizes(), (std::vector<int64_t>{9 * 64, 64, 3, 3}));
  EXPECT_EQ(state_dict_of(tiny(", upsampler: pixelshuffledirect", 3)).at("upsample.0.weight").sizes(),
            (std::vector<int64_t>{27, 8, 3, 3}));
  // 3conv, no patch norm, no qkv bias.
  const auto k3 = keys_of(tiny(", upsampler: pixelshuffledirect, resi_connection: 3conv, patch_norm: false, qkv_bias: false", 2));
  for (const char* k : {"layers.0.conv.0.weight", "layers.0.conv.2.weight", "layers.0.conv.4.bias", "conv_after_body.0.weight",
                        "conv_after_body.2.bias", "conv_after_body.4.weight"})
    EXPECT_TRUE(std::count(k3.begin(), k3.end(), k)) << k;
  for (const char* k : {"patch_embed.norm.weight", "layers.0.residual_group.blocks.0.attn.qkv.bias", "conv_after_body.weight"})
    EXPECT_FALSE(std::count(k3.begin(), k3.end(), k)) << k;
}

TEST(SwinIr, RelativePositionIndexMatchesHandBuiltTable) {
  // M = 3: token t = (t / 3, t % 3); index = (dy + 2) * 5 + (dx + 2).
  const auto idx = sm::swin_relative_position_index(3);
  ASSERT_EQ(idx.sizes(), (std::vector<int64_t>{9, 9}));
  for (int i = 0; i < 9; ++i)
    for (int j = 0; j < 9; ++j) EXPECT_EQ(idx[i][j].item<int64_t>(), (i / 3 - j / 3 + 2) * 5 + (i % 3 - j % 3 + 2));
  EXPECT_EQ(idx[0][8].item<int64_t>(), 0);   // (-2,-2): first row of the table
  EXPECT_EQ(idx[8][0].item<int64_t>(), 24);  // (+2,+2): last row
  EXPECT_EQ(idx[4][4].item<int64_t>(), 12);  // (0,0): centre
}

TEST(SwinIr, ShiftMaskMatchesHandBuiltReference) {
  // 4x6 map, window 2, shift 1. Regions as the official slices: rows [0,2) [2,3) [3,4), columns [0,4)
  // [4,5) [5,6); label = 3 * row region + column region. Windows in row-major order, tokens row-major.
  const int64_t H = 4, W = 6, M = 2;
  auto region = [](int64_t v, int64_t n) { return v < n - 2 ? 0 : (v < n - 1 ? 1 : 2); };
  const auto mask = sm::swin_shift_attention_mask(H, W, M, 1);
  ASSERT_EQ(mask.sizes(), (std::vector<int64_t>{6, 4, 4}));
  int64_t nonzero = 0;
  for (int64_t wy = 0; wy < H / M; ++wy)
    for (int64_t wx = 0; wx < W / M; ++wx)
      for (int64_t i = 0; i < M * M; ++i)
        for (int64_t j = 0; j < M * M; ++j) {
          const int64_t yi = wy * M + i / M, xi = wx * M + i % M, yj = wy * M + j / M, xj = wx * M + j % M;
          const bool same = region(yi, H) * 3 + region(xi, W) == region(yj, H) * 3 + region(xj, W);
          const float v = mask[wy * (W / M) + wx][i][j].item<float>();
          EXPECT_EQ(v, same ? 0.0f : -100.0f) << wy << "," << wx << " " << i << "," << j;
          nonzero += same ? 0 : 1;
        }
  // Only the last window row / column straddles regions: windows (0,2), (1,0), (1,1), (1,2).
  EXPECT_EQ(nonzero, 8 + 8 + 8 + 12);
  EXPECT_NE(error_of([] { sm::swin_shift_attention_mask(5, 6, 2, 1); }).find("multiples"), std::string::npos);
}

TEST(SwinIr, WindowPartitionRoundTrip) {
  const auto x = torch::arange(2 * 4 * 6 * 3, torch::kFloat).view({2, 4, 6, 3});
  const auto w = sm::swin_window_partition(x, 2);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{12, 4, 3}));
  EXPECT_TRUE(torch::equal(w[1][0], x[0][0][2]));  // window (0,1) starts at pixel (0,2)
  EXPECT_TRUE(torch::equal(w[3][3], x[0][3][1]));  // window (1,0), token (1,1) = pixel (3,1)
  EXPECT_TRUE(torch::equal(sm::swin_window_reverse(w, 2, 4, 6), x));
}

TEST(SwinIr, DetectorRoundTripsEveryVariant) {
  const std::vector<std::pair<std::string, int>> variants{
      {", upsampler: pixelshuffle", 2},  {", upsampler: pixelshuffle", 3},        {", upsampler: pixelshuffle", 8},
      {", upsampler: pixelshuffledirect", 3}, {", upsampler: nearest+conv", 4},  {", upsampler: nearest+conv", 8},
      {", upsampler: pixelshuffle, resi_connection: 3conv, patch_norm: false, qkv_bias: false, num_feat: 16", 4}};
  for (const auto& [extra, s] : variants) {
    const auto g = tiny(extra, s);
    const auto d = sm::detect_swinir(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << extra;
    EXPECT_EQ(d->scale, s) << extra;
    const auto back = build(d->model_yaml, d->scale);
    EXPECT_EQ(keys_of(back), keys_of(g)) << d->model_yaml;
    const auto& a = dynamic_cast<const sm::SwinIrImpl&>(*g).options();
    const auto& b = dynamic_cast<const sm::SwinIrImpl&>(*back).options();
    EXPECT_EQ(a.upsampler, b.upsampler);
    EXPECT_EQ(a.embed_dim, b.embed_dim);
    EXPECT_EQ(a.depths, b.depths);
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.window_size, b.window_size);
    EXPECT_EQ(a.img_size, b.img_size);
    EXPECT_EQ(a.mlp_ratio, b.mlp_ratio);
    EXPECT_EQ(a.three_conv, b.three_conv);
    EXPECT_EQ(a.patch_norm, b.patch_norm);
    EXPECT_EQ(a.qkv_bias, b.qkv_bias);
    if (a.upsampler != sm::SwinIrUpsampler::kPixelShuffleDirect) EXPECT_EQ(a.num_feat, b.num_feat);
  }
  // Several RSTBs with different heads and depths, window 3, mlp_ratio 1.5.
  const auto g = build("{type: swinir, upsampler: pixelshuffledirect, embed_dim: 12, depths: [1, 3], num_heads: [3, 2], "
                       "window_size: 3, img_size: 9, mlp_ratio: 1.5}", 2);
  const auto d = sm::detect_swinir(state_dict_of(g));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->model_yaml.find("depths: [1, 3], num_heads: [3, 2], window_size: 3, mlp_ratio: 1.5, img_size: 9"),
            std::string::npos) << d->model_yaml;
}

TEST(SwinIr, DetectorRejectsOtherNetworksAndExplainsUnsupported) {
  EXPECT_FALSE(sm::detect_swinir(state_dict_of(build("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_swinir({}).has_value());
  auto sd = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd.erase("upsample.0.weight");
  sd.erase("upsample.0.bias");
  EXPECT_NE(error_of([&] { sm::detect_swinir(sd); }).find("without upsampler"), std::string::npos);
  auto sd2 = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd2["absolute_pos_embed"] = torch::zeros({1, 64, 8});
  EXPECT_NE(error_of([&] { sm::detect_swinir(sd2); }).find("absolute_pos_embed"), std::string::npos);
  auto sd3 = state_dict_of(tiny(", upsampler: pixelshuffledirect", 2));
  sd3["layers.0.residual_group.blocks.0.attn.relative_position_bias_table"] = torch::zeros({50, 2});
  EXPECT_NE(error_of([&] { sm::detect_swinir(sd3); }).find("(2 x window - 1)^2"), std::string::npos);
}

TEST(SwinIr, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& yaml, int scale) { return error_of([&] { build(yaml, scale); }); };
  EXPECT_NE(err("{type: swinir, embed_dim: 10, depths: [2], num_heads: [3]}", 2).find("num_heads"), std::string::npos);
  EXPECT_NE(err("{type: swinir, embed_dim: 12, depths: [2, 2], num_heads: [3]}", 2).find("one entry per depths"), std::string::npos);
  EXPECT_NE(err("{type: swinir, upsampler: bicubic}", 2).find("upsampler"), std::string::npos);
  EXPECT_NE(err("{type: swinir, upsampler: nearest+conv}", 3).find("scale"), std::string::npos);
  EXPECT_NE(err("{type: swinir, window_size: 8, img_size: 6}", 2).find("img_size"), std::string::npos);
  EXPECT_NE(err("{type: swinir, resi_connection: 2conv}", 2).find("resi_connection"), std::string::npos);
  EXPECT_NE(err("{type: swinir, depths: []}", 2).find("depths"), std::string::npos);
  EXPECT_NE(err("{type: swinir, drop_path_rate: 1.0}", 2).find("drop_path_rate"), std::string::npos);
  EXPECT_NE(err(std::string("{") + kTiny + ", window: 8}", 2).find("window"), std::string::npos);  // unknown key
  // Too small for reflect padding: window 4 needs h, w >= 3.
  torch::NoGradGuard ng;
  auto g = tiny("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 3, 2, 8})); }).find("too small"), std::string::npos);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

TEST(SwinIr, ImgSizeEqualToWindowDisablesShiftLikeTheReference) {
  // Official SwinTransformerBlock: min(input_resolution) <= window_size -> shift 0, so no attn_mask.
  const auto keys = keys_of(build("{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 4, "
                                  "upsampler: pixelshuffledirect}", 2));
  EXPECT_FALSE(std::count(keys.begin(), keys.end(), "layers.0.residual_group.blocks.1.attn_mask"));
}

TEST(SwinIr, DropPathOnlyInTraining) {
  torch::manual_seed(3);
  auto g = tiny(", upsampler: pixelshuffledirect, drop_path_rate: 0.5", 2);
  const auto x = torch::rand({4, 3, 8, 8});
  torch::NoGradGuard ng;
  const auto a = g->forward(x), b = g->forward(x);
  EXPECT_TRUE(torch::equal(a, b));  // eval: deterministic
  g->train();
  const auto c = g->forward(x);
  EXPECT_FALSE(torch::allclose(a, c));
  EXPECT_TRUE(torch::isfinite(c).all().item<bool>());
}

}  // namespace test_swinir
