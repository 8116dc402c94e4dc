// RCAN (models/arch/rcan.h): the zoo fixture (reference weights and output) loaded with no hints, the
// reference state-dict keys, output shapes at odd sizes for every scale and stem, reflect padding of the
// unshuffle stem, gradients, detection round trips and config errors. Also the shared reflect padding
// helper (models/arch/reflect_pad.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "core/config.h"
#include "core/error.h"
#include "models/arch/rcan.h"
#include "models/arch/reflect_pad.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"
#include "tests/models/generator_test_util.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_util.h"
#include "tests/test_device.h"

namespace sm = srlab::models;
using srlab::testing::build_generator;
using srlab::testing::error_of;

using srlab::testing::state_dict_of;

namespace test_rcan {

/// A small RCAN (G 1, B 1, F 8, r 4) with the keys of `extra` (", key: value, ...") replacing those sizes.
sm::Generator tiny(const std::string& extra, int scale) {
  std::string yaml = "{type: rcan" + extra;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"n_resgroups", "1"}, {"n_resblocks", "1"}, {"n_feats", "8"}, {"reduction", "4"}})
    if (extra.find(" " + key + ":") == std::string::npos) yaml += ", " + key + ": " + value;
  return build_generator(yaml + "}", scale);
}

std::vector<std::string> keys_of(const sm::Generator& g) {
  std::vector<std::string> keys;
  for (const auto& kv : g->named_parameters()) keys.push_back(kv.key());
  for (const auto& kv : g->named_buffers()) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

const sm::RcanOptions& options_of(const sm::Generator& g) { return dynamic_cast<const sm::RcanImpl&>(*g).options(); }

TEST(Rcan, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("rcan_x2_f16");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  const sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  EXPECT_EQ(g->type(), "rcan");
  const auto& o = options_of(g);
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(g->scale(), hp["scale"].get<int>());
  EXPECT_EQ(o.n_resgroups, hp["n_resgroups"].get<int>());
  EXPECT_EQ(o.n_resblocks, hp["n_resblocks"].get<int>());
  EXPECT_EQ(o.n_feats, hp["n_feats"].get<int>());
  EXPECT_EQ(o.reduction, hp["reduction"].get<int>());
  EXPECT_EQ(hp.size(), 5u) << hp.dump();  // every manifest hyperparameter is compared above
  // Traceless: the reference defaults.
  EXPECT_TRUE(o.norm);
  EXPECT_EQ(o.rgb_range, 255);
  EXPECT_EQ(o.kernel_size, 3);
  EXPECT_EQ(o.act_mode, "relu");
  EXPECT_FALSE(o.unshuffle_mod);
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());
  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  std::cout << "[ fixture ] rcan_x2_f16: max |diff| " << diff << " (max |reference| " << ref.abs().max().item<double>()
            << ")\n";
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
}

TEST(Rcan, StateDictKeysEqualTheFixtureAndTheReferenceLayout) {
  const auto g = build_generator("{type: rcan, n_resgroups: 2, n_resblocks: 2, n_feats: 16, reduction: 4}", 2);
  // Written out independently of the C++ module tree.
  std::vector<std::string> expected;
  auto wb = [&](const std::string& p) {
    expected.push_back(p + ".weight");
    expected.push_back(p + ".bias");
  };
  wb("sub_mean");
  wb("add_mean");
  wb("head.0");
  for (int gi = 0; gi < 2; ++gi) {
    const std::string grp = "body." + std::to_string(gi) + ".body.";
    for (int b = 0; b < 2; ++b) {
      const std::string blk = grp + std::to_string(b) + ".body.";
      wb(blk + "0");
      wb(blk + "2");
      wb(blk + "3.conv_du.0");
      wb(blk + "3.conv_du.2");
    }
    wb(grp + "2");
  }
  wb("body.2");
  wb("tail.0.0");
  wb("tail.1");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys_of(g), expected);
  const auto sd = state_dict_of(g);
  EXPECT_EQ(sd.at("body.0.body.0.body.3.conv_du.0.weight").sizes(), (std::vector<int64_t>{4, 16, 1, 1}));
  EXPECT_EQ(sd.at("tail.0.0.weight").sizes(), (std::vector<int64_t>{64, 16, 3, 3}));
  // Mean shifts initialised as the reference's MeanShift (identity, -/+ 255 * DIV2K mean).
  EXPECT_TRUE(torch::equal(sd.at("sub_mean.weight"), torch::eye(3).view({3, 3, 1, 1})));
  EXPECT_NEAR(sd.at("sub_mean.bias")[0].item<float>(), -255 * 0.4488, 1e-4);
  EXPECT_NEAR(sd.at("add_mean.bias")[2].item<float>(), 255 * 0.4040, 1e-4);

  const auto fx = srlab::testing::zoo_fixture("rcan_x2_f16");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto contents = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>());
  std::vector<std::string> file_keys;
  for (const auto& kv : contents.state_dict) {
    file_keys.push_back(kv.first);
    EXPECT_EQ(kv.second.sizes(), sd.at(kv.first).sizes()) << kv.first;
  }
  EXPECT_EQ(file_keys, keys_of(g));

  // Variants: no mean shifts; unshuffle stem (head.1, x4 tail); x8 (three stages), x3 (one 9F conv), x1.
  auto has = [](const std::vector<std::string>& k, const std::string& s) { return std::count(k.begin(), k.end(), s) > 0; };
  const auto k_nonorm = keys_of(tiny(", norm: false", 2));
  EXPECT_FALSE(has(k_nonorm, "sub_mean.weight") || has(k_nonorm, "add_mean.bias"));
  const auto k_unsh = keys_of(tiny(", unshuffle_mod: true", 2));
  EXPECT_TRUE(has(k_unsh, "head.1.weight") && !has(k_unsh, "head.0.weight") && has(k_unsh, "tail.0.2.weight"));
  EXPECT_EQ(state_dict_of(tiny(", unshuffle_mod: true", 1)).at("head.1.weight").sizes(), (std::vector<int64_t>{8, 48, 3, 3}));
  const auto k8 = keys_of(tiny("", 8));
  EXPECT_TRUE(has(k8, "tail.0.4.weight") && !has(k8, "tail.0.6.weight"));
  EXPECT_EQ(state_dict_of(tiny("", 3)).at("tail.0.0.weight").sizes(), (std::vector<int64_t>{72, 8, 3, 3}));
  const auto k1 = keys_of(tiny("", 1));
  EXPECT_FALSE(has(k1, "tail.0.0.weight"));
  EXPECT_TRUE(has(k1, "tail.1.weight"));
}

TEST(Rcan, OutputShapesAtOddSizesEveryScaleAndStem) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  const std::vector<std::pair<std::string, std::vector<int>>> variants{
      {"", {1, 2, 3, 4, 8}}, {", norm: false, kernel_size: 5, act_mode: leaky_relu", {2, 3}},
      {", unshuffle_mod: true", {1, 2}}};
  for (const auto& [extra, scales] : variants)
    for (int s : scales) {
      const auto g = tiny(extra, s);
      EXPECT_EQ(g->scale(), s);
      EXPECT_EQ(g->type(), "rcan");
      for (auto [h, w] : {std::pair<int64_t, int64_t>{5, 7}, {1, 3}, {9, 2}, {2, 1}}) {
        const auto y = g->forward(torch::rand({2, 3, h, w}));
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, h * s, w * s})) << extra << " x" << s << " " << h << "x" << w;
        EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      }
    }
}

TEST(Rcan, UnshuffleStemReflectPadsAndCropsLikeTheReference) {
  // x1 unshuffle (d = 4): a 5x6 input is reflect-padded to 8x8 (rows 5,6,7 = 3,2,1; columns 6,7 = 4,3).
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  const auto g = tiny(", unshuffle_mod: true", 1);
  const auto x = torch::rand({1, 3, 5, 6});
  const auto rows = torch::tensor({0, 1, 2, 3, 4, 3, 2, 1}, torch::kLong), cols = torch::tensor({0, 1, 2, 3, 4, 5, 4, 3}, torch::kLong);
  const auto full = g->forward(x.index_select(2, rows).index_select(3, cols));
  EXPECT_TRUE(torch::allclose(g->forward(x), full.slice(2, 0, 5).slice(3, 0, 6), 1e-6, 1e-6));
  // The input tensor is not modified (the reference scales it in place when no padding is needed).
  const auto x8 = torch::rand({1, 3, 8, 8}), copy = x8.clone();
  g->forward(x8);
  EXPECT_TRUE(torch::equal(x8, copy));
}

TEST(Rcan, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  for (const std::string extra : {"", ", unshuffle_mod: true"}) {
    const auto g = tiny(extra, 2);
    g->to(srlab::testing::test_device());
    g->train();
    g->forward(srlab::testing::on_test_device(torch::rand({2, 3, 6, 5}))).square().mean().backward();
    for (const auto& p : g->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << extra << " " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << extra << " " << p.key();
    }
  }
}

TEST(Rcan, DetectorRoundTripsEveryVariant) {
  const std::vector<std::pair<std::string, int>> variants{
      {"", 2}, {"", 3}, {"", 4}, {"", 8}, {"", 1}, {", norm: false", 2}, {", kernel_size: 5, reduction: 2", 4},
      {", unshuffle_mod: true", 2}, {", unshuffle_mod: true, norm: false", 1},
      {", n_resgroups: 3, n_resblocks: 0", 2}};
  for (const auto& [extra, s] : variants) {
    const auto g = tiny(extra, s);
    const auto d = sm::detect_rcan(state_dict_of(g));
    if (extra == ", n_resgroups: 3, n_resblocks: 0") {  // no RCAB: no channel-attention key to recognise (as spandrel)
      EXPECT_FALSE(d.has_value());
      continue;
    }
    ASSERT_TRUE(d.has_value()) << extra;
    EXPECT_EQ(d->scale, s) << extra;
    const auto back = build_generator(d->model_yaml, d->scale);
    EXPECT_EQ(keys_of(back), keys_of(g)) << d->model_yaml;
    const auto& a = options_of(g);
    const auto& b = options_of(back);
    EXPECT_EQ(a.n_resgroups, b.n_resgroups);
    EXPECT_EQ(a.n_resblocks, b.n_resblocks);
    EXPECT_EQ(a.n_feats, b.n_feats);
    EXPECT_EQ(a.reduction, b.reduction);
    EXPECT_EQ(a.kernel_size, b.kernel_size);
    EXPECT_EQ(a.norm, b.norm);
    EXPECT_EQ(a.unshuffle_mod, b.unshuffle_mod);
  }
}

TEST(Rcan, DetectorRejectsOtherNetworksAndExplainsInconsistentKeys) {
  EXPECT_FALSE(sm::detect_rcan({}).has_value());
  EXPECT_FALSE(sm::detect_rcan(state_dict_of(build_generator("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_rcan(state_dict_of(build_generator("{type: edsr, num_feat: 4, num_block: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_rcan(state_dict_of(build_generator(
                   "{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, mlp_ratio: 2}", 2)))
                   .has_value());
  auto sd = state_dict_of(tiny("", 2));
  sd["tail.1.weight"] = torch::zeros({1, 8, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_rcan(sd); }).find("tail.1.weight"), std::string::npos);
  auto sd2 = state_dict_of(tiny("", 2));
  sd2["tail.0.0.weight"] = torch::zeros({20, 8, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_rcan(sd2); }).find("tail.0.0.weight"), std::string::npos);
  auto sd3 = state_dict_of(tiny("", 2));
  sd3.erase("body.1.weight");
  sd3.erase("body.1.bias");
  EXPECT_NE(error_of([&] { sm::detect_rcan(sd3); }).find("body."), std::string::npos);
  auto sd4 = state_dict_of(tiny(", n_feats: 16", 2));
  sd4["body.0.body.0.body.3.conv_du.0.weight"] = torch::zeros({6, 16, 1, 1});
  EXPECT_NE(error_of([&] { sm::detect_rcan(sd4); }).find("conv_du.0.weight"), std::string::npos);
}

TEST(Rcan, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& extra, int scale) { return error_of([&] { tiny(extra, scale); }); };
  EXPECT_NE(err("", 5).find("scale"), std::string::npos);
  EXPECT_NE(err(", unshuffle_mod: true", 4).find("unshuffle_mod"), std::string::npos);
  EXPECT_NE(err(", reduction: 0", 2).find("reduction"), std::string::npos);
  EXPECT_NE(err(", reduction: 9", 2).find("reduction"), std::string::npos);
  EXPECT_NE(err(", kernel_size: 2", 2).find("kernel_size"), std::string::npos);
  EXPECT_NE(err(", act_mode: tanh", 2).find("act_mode"), std::string::npos);
  EXPECT_NE(err(", rgb_range: 0", 2).find("rgb_range"), std::string::npos);
  EXPECT_NE(err(", n_resgroups: 0", 2).find("n_resgroups"), std::string::npos);
  EXPECT_NE(err(", n_feat: 8", 2).find("n_feat"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  EXPECT_NE(error_of([] { tiny("", 2)->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"), std::string::npos);
}

TEST(ReflectPad, MatchesPyTorchWhereDefinedAndKeepsReflectingBeyond) {
  const auto x = torch::rand({2, 3, 4, 5});
  EXPECT_TRUE(torch::equal(sm::reflect_pad2d_any(x, 4, 1, 3, 2), torch::reflection_pad2d(x, {4, 1, 3, 2})));
  EXPECT_TRUE(torch::equal(sm::reflect_pad2d_any(x, 0, 0, 0, 0), x));
  // Rows of a length-4 axis padded by 7 on top and 6 at the bottom: period 6.
  const auto y = sm::reflect_pad2d_any(x, 0, 0, 7, 6);
  const std::vector<int64_t> rows{1, 0, 1, 2, 3, 2, 1, /*start*/ 0, 1, 2, 3, /*end*/ 2, 1, 0, 1, 2, 3};
  ASSERT_EQ(y.size(2), 17);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_TRUE(torch::equal(y.select(2, i), x.select(2, rows[i]))) << i;
  // A size-1 axis repeats its sample.
  const auto z = sm::reflect_pad2d_any(torch::rand({1, 1, 1, 3}), 2, 2, 3, 3);
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{1, 1, 7, 7}));
  EXPECT_TRUE(torch::equal(z.select(2, 0), z.select(2, 6)));
  EXPECT_TRUE(torch::equal(sm::reflect_pad_to_multiple(x, 4).slice(3, 5, 8), x.index_select(3, torch::tensor({3, 2, 1}, torch::kLong))));
}

}  // namespace test_rcan
