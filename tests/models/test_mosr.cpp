// MoSR (models/arch/mosr.h): the zoo fixture through the one entry point (no hints) against the
// reference output, the reference's state-dict keys per upsampler, shapes at odd sizes, gradients,
// the geo-ensemble pixel shuffle by hand, detection round trips (ratios that do not survive n / dim *
// dim included), foreign keys and config errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/arch/mosr.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "models/weights/safetensors.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_mosr {

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_mosr.yaml");
  return sm::make_generator(cfg.at("model"), scale);
}

const char* kSmall = "type: mosr, n_block: 2, dim: 8, kernel_size: 3";

sm::Generator small(const std::string& extra, int scale) { return build(std::string("{") + kSmall + extra + "}", scale); }

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

const sm::MosrOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::MosrImpl&>(*g).options(); }

TEST(Mosr, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto m = srlab::testing::zoo_fixture("mosr_x4_d32");
  if (m.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  const auto file = dir / m["file"].get<std::string>();
  const sm::Generator g = sm::load_generator(file);
  const auto& hp = m["hyperparameters"];
  EXPECT_EQ(g->type(), "mosr");
  EXPECT_EQ(g->scale(), hp["upscale"].get<int>());
  const auto& o = options_of(g);
  EXPECT_EQ(o.dim, hp["dim"].get<int>());
  EXPECT_EQ(o.n_block, hp["n_block"].get<int>());
  EXPECT_EQ(sm::mosr_upsampler_name(o.upsampler), hp["upsampler"].get<std::string>());
  EXPECT_EQ(hp["in_ch"].get<int>(), 3);
  EXPECT_EQ(hp["out_ch"].get<int>(), 3);
  // Reference defaults for what the manifest does not list (spandrel reads them off the shapes).
  EXPECT_EQ(o.kernel_size, 7);
  EXPECT_EQ(o.expansion_ratio, 1.5);
  EXPECT_EQ(o.conv_ratio, 1.0);
  EXPECT_EQ(sm::count_parameters(*g), m["parameters"].get<int64_t>());

  // The key set of a model built from the detected options equals the file's, tensor for tensor.
  const auto file_sd = sm::read_safetensors(file).tensors;
  std::vector<std::string> file_keys;
  for (const auto& kv : file_sd) file_keys.push_back(kv.first);
  const auto built = build("{type: mosr, n_block: 2, dim: 32}", 4);
  EXPECT_EQ(keys_of(*built), file_keys);
  EXPECT_EQ(static_cast<int64_t>(file_keys.size()), m["tensors"].get<int64_t>());
  for (const auto& [k, t] : state_dict_of(*built)) EXPECT_EQ(t.sizes(), file_sd.at(k).sizes()) << k;

  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / m["input"]["file"].get<std::string>(), m["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / m["output"]["file"].get<std::string>(), m["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
  std::cout << "[ fixture ] mosr_x4_d32: max |diff| " << diff << " (max |reference| " << ref.abs().max().item<double>()
            << ")\n";
}

TEST(Mosr, StateDictKeysPerUpsampler) {
  std::vector<std::string> trunk{"gblocks.0.weight", "gblocks.0.bias", "gblocks.3.weight", "gblocks.3.bias",
                                 "gblocks.5.weight", "gblocks.5.bias", "gblocks.7.weight", "gblocks.7.bias",
                                 "shortcut.block.0.weight", "shortcut.block.0.bias", "shortcut.block.2.weight",
                                 "shortcut.block.2.bias", "shortcut.conv11.weight", "shortcut.conv11.bias"};
  for (int b : {1, 2})
    for (const char* p : {"norm.weight", "norm.bias", "fc1.weight", "fc1.bias", "conv.weight", "conv.bias",
                          "fc2.weight", "fc2.bias"})
      trunk.push_back("gblocks." + std::to_string(b) + "." + p);
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), trunk.begin(), trunk.end());
    std::sort(extra.begin(), extra.end());
    return extra;
  };
  EXPECT_EQ(keys_of(*small("", 2)), with({"upsampler.0.weight", "upsampler.0.bias"}));
  EXPECT_EQ(keys_of(*small(", upsampler: gps", 2)), with({"upsampler.in_to_k.weight", "upsampler.in_to_k.bias"}));
  EXPECT_EQ(keys_of(*small(", upsampler: dys", 2)),
            with({"upsampler.end_conv.weight", "upsampler.end_conv.bias", "upsampler.offset.weight",
                  "upsampler.offset.bias", "upsampler.scope.weight", "upsampler.init_pos"}));
  // Shapes: D = 8, E = int(1.5 * 8) = 12, K = 8, kernel 3; x3 upsamplers.
  const auto sd = state_dict_of(*small("", 3));
  EXPECT_EQ(sd.at("gblocks.1.fc1.weight").sizes(), (std::vector<int64_t>{24, 8, 3, 3}));
  EXPECT_EQ(sd.at("gblocks.1.conv.weight").sizes(), (std::vector<int64_t>{8, 1, 3, 3}));
  EXPECT_EQ(sd.at("gblocks.1.fc2.weight").sizes(), (std::vector<int64_t>{8, 12, 3, 3}));
  EXPECT_EQ(sd.at("gblocks.3.weight").sizes(), (std::vector<int64_t>{16, 8, 3, 3}));
  EXPECT_EQ(sd.at("gblocks.7.weight").sizes(), (std::vector<int64_t>{8, 8, 1, 1}));
  EXPECT_EQ(sd.at("upsampler.0.weight").sizes(), (std::vector<int64_t>{27, 8, 3, 3}));
  EXPECT_EQ(state_dict_of(*small(", upsampler: gps", 3)).at("upsampler.in_to_k.weight").sizes(),
            (std::vector<int64_t>{8 * 27, 8, 3, 3}));
  const auto dsd = state_dict_of(*small(", upsampler: dys", 3));
  EXPECT_EQ(dsd.at("upsampler.offset.weight").sizes(), (std::vector<int64_t>{72, 8, 1, 1}));
  EXPECT_EQ(dsd.at("upsampler.end_conv.weight").sizes(), (std::vector<int64_t>{3, 8, 1, 1}));
  // Parameters by hand (ps x3): gblocks.0 8*3*9+8, per block norm 16 + fc1 24*8*9+24 + conv 8*9+8 + fc2
  // 8*12*9+8, tail 16*8*9+16 + 8*16*9+8 + 8*8+8, shortcut 8*3*9+8 + 8*8*9+8 + 8*3+8, upsampler 27*8*9+27.
  const int64_t block = 16 + (24 * 72 + 24) + (72 + 8) + (8 * 108 + 8);
  const int64_t expected = (216 + 8) + 2 * block + (1152 + 16) + (1152 + 8) + (64 + 8) + (216 + 8) + (576 + 8) +
                           (24 + 8) + (27 * 72 + 27);
  EXPECT_EQ(sm::count_parameters(*small("", 3)), expected);
}

TEST(Mosr, OutputShapesAtOddSizesForEveryUpsampler) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (const char* up : {"ps", "gps", "dys"})
    for (int s : {1, 2, 3, 4, 8}) {
      auto g = small(std::string(", upsampler: ") + up, s);
      g->eval();
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "mosr");
      for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {1, 3}, {9, 4}}) {
        const auto y = g->forward(torch::rand({2, 3, h, w}));
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << up << " x" << s << " " << h << "x" << w;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << up;
      }
    }
  // expansion_ratio 1, conv_ratio 1: the identity part i of the split is empty (E = K = D).
  auto g = build("{type: mosr, n_block: 1, dim: 4, expansion_ratio: 1.0}", 2);
  EXPECT_EQ(g->forward(torch::rand({1, 3, 3, 5})).sizes(), (std::vector<int64_t>{1, 3, 6, 10}));
}

TEST(Mosr, GradientsReachEveryParameter) {
  torch::manual_seed(1);
  for (const char* up : {"ps", "gps", "dys"}) {
    // conv_ratio 0.5: the identity part i of the split is non-empty.
    auto g = small(std::string(", upsampler: ") + up + ", conv_ratio: 0.5", 2);
    g->to(srlab::testing::test_device());
    g->train();
    g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 5, 6}))).square().mean().backward();
    for (const auto& p : g->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << up << " " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << up << " " << p.key();
    }
  }
}

TEST(Mosr, GeoPixelShuffleAveragesEightPredictions) {
  torch::manual_seed(2);
  torch::NoGradGuard ng;
  sm::GeoPixelShuffle gps(6, 2, 3);
  const auto x = torch::rand({2, 6, 4, 5});
  const auto k = gps->in_to_k->forward(x);  // (2, 8*12, 4, 5)
  torch::Tensor sum = torch::zeros({2, 12, 4, 5});
  for (int e = 0; e < 8; ++e) sum += k.slice(1, 12 * e, 12 * (e + 1));
  EXPECT_TRUE(torch::allclose(gps->forward(x), torch::pixel_shuffle(sum / 8, 2), 1e-6, 1e-6));
}

TEST(Mosr, GatedBlockMatchesHandComputation) {
  torch::manual_seed(3);
  torch::NoGradGuard ng;
  sm::GatedCnnBlock b(4, 1.5, 3, 0.5, 0.0);  // E = 6, K = 2: g 6, i 4, c 2 channels
  b->eval();
  ASSERT_EQ(b->fc1->weight.size(0), 12);
  ASSERT_EQ(b->conv->weight.size(0), 2);
  const auto x = torch::rand({1, 4, 5, 3});
  const auto u = x.mean(1, true), v = (x - u).square().mean(1, true);
  const auto t = b->fc1->forward((x - u) / torch::sqrt(v + 1e-6));  // norm weight 1, bias 0
  const auto g = t.slice(1, 0, 6), i = t.slice(1, 6, 10), c = t.slice(1, 10, 12);
  const auto expected =
      torch::mish(b->fc2->forward(torch::mish(g) * torch::cat({i, b->conv->forward(c)}, 1))) + x - 0.5;
  EXPECT_TRUE(torch::allclose(b->forward(x), expected, 1e-6, 1e-6));
}

TEST(Mosr, DropPathOnlyInTraining) {
  torch::manual_seed(4);
  auto g = small(", drop_path: 0.5", 2);
  g->eval();
  const auto x = torch::rand({4, 3, 6, 6});
  torch::NoGradGuard ng;
  const auto a = g->forward(x), b = g->forward(x);
  EXPECT_TRUE(torch::equal(a, b));
  g->train();
  EXPECT_FALSE(torch::allclose(a, g->forward(x)));
}

TEST(Mosr, DetectorRoundTripsEveryUpsampler) {
  torch::manual_seed(5);
  const std::string d8 = "{type: mosr, n_block: 2, dim: 8, kernel_size: 3";
  const std::vector<std::pair<std::string, int>> variants{
      {d8 + "}", 4}, {d8 + ", upsampler: gps}", 3}, {d8 + ", upsampler: dys}", 2}, {d8 + ", upsampler: dys}", 8},
      {"{type: mosr, n_block: 3, dim: 4}", 1},
      // E = int(15/11 * 11) would be 14 with 15/11 itself: the detector must write a ratio that gives 15.
      {"{type: mosr, n_block: 1, dim: 11, expansion_ratio: 1.364}", 2},
      // K = 15 of D = 22 (15/22 * 22 < 15 in doubles), E = 33, kernel 5.
      {"{type: mosr, n_block: 1, dim: 22, conv_ratio: 0.682, kernel_size: 5, upsampler: ps}", 3}};
  for (const auto& [yaml, s] : variants) {
    SCOPED_TRACE(yaml);
    const auto g = build(yaml, s);
    g->eval();
    const auto d = sm::detect_mosr(state_dict_of(*g));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->scale, s);
    const auto back = sm::make_generator(Config::parse(d->model_yaml, "detected"), d->scale);
    back->eval();
    const auto sd = state_dict_of(*g), sd_back = state_dict_of(*back);
    ASSERT_EQ(keys_of(*back), keys_of(*g)) << d->model_yaml;
    for (const auto& [k, t] : sd) EXPECT_EQ(sd_back.at(k).sizes(), t.sizes()) << k << "\n" << d->model_yaml;
    const auto& a = options_of(g);
    const auto& b = options_of(back);
    EXPECT_EQ(a.upsampler, b.upsampler);
    EXPECT_EQ(a.dim, b.dim);
    EXPECT_EQ(a.n_block, b.n_block);
    EXPECT_EQ(a.kernel_size, b.kernel_size);
  }
}

TEST(Mosr, DetectorRejectsOtherNetworksAndExplainsUnsupported) {
  EXPECT_FALSE(sm::detect_mosr({}).has_value());
  EXPECT_FALSE(sm::detect_mosr(state_dict_of(*build("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_mosr(state_dict_of(*build("{type: realplksr, dim: 8, n_blocks: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_mosr(state_dict_of(*build(
      "{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8}", 2))).has_value());
  // The other detectors leave MoSR alone.
  const auto sd = state_dict_of(*small("", 2));
  for (const auto& [type, detect] : sm::generator_detectors())
    if (type != "mosr") EXPECT_FALSE(detect(sd).has_value()) << type;

  auto gray = sd;
  gray["gblocks.0.weight"] = torch::zeros({8, 1, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_mosr(gray); }).find("RGB"), std::string::npos);
  auto missing = sd;
  missing.erase("gblocks.2.fc1.weight");
  EXPECT_NE(error_of([&] { sm::detect_mosr(missing); }).find("gblocks.2.fc1.weight"), std::string::npos);
  auto dys = state_dict_of(*small(", upsampler: dys", 2));
  dys["upsampler.end_conv.weight"] = torch::zeros({1, 8, 1, 1});
  EXPECT_NE(error_of([&] { sm::detect_mosr(dys); }).find("upsampler.end_conv.weight"), std::string::npos);
  auto ps5 = sd;
  ps5["upsampler.0.weight"] = torch::zeros({75, 8, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_mosr(ps5); }).find("scale 5"), std::string::npos);
}

TEST(Mosr, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& extra, int scale) {
    return error_of([&] { build("{type: mosr, n_block: 1" + extra + "}", scale); });
  };
  EXPECT_NE(err("", 5).find("scale"), std::string::npos);
  EXPECT_NE(err(", upsampler: pixelshuffle", 2).find("upsampler"), std::string::npos);
  EXPECT_NE(error_of([] { build("{type: mosr, n_block: 0}", 2); }).find("n_block"), std::string::npos);
  EXPECT_NE(err(", dim: 0", 2).find("dim"), std::string::npos);
  EXPECT_NE(err(", kernel_size: 4", 2).find("kernel_size"), std::string::npos);
  EXPECT_NE(err(", conv_ratio: 2.0", 2).find("conv_ratio"), std::string::npos);
  EXPECT_NE(err(", expansion_ratio: 0.0", 2).find("expansion_ratio"), std::string::npos);
  EXPECT_NE(err(", drop_path: 1.0", 2).find("drop_path"), std::string::npos);
  EXPECT_NE(err(", dim: 6, upsampler: dys", 2).find("dim"), std::string::npos);
  EXPECT_NE(err(", blocks: 2", 2).find("blocks"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  auto g = small("", 2);
  EXPECT_NE(error_of([&] { g->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

}  // namespace test_mosr
