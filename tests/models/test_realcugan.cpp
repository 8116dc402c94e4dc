// Real-CUGAN (models/arch/realcugan.h): the zoo fixture (reference weights and output) loaded with no
// hints, the reference state-dict keys per variant, output shapes at odd and tiny sizes, the pro mapping,
// gradients, detection round trips and config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "core/config.h"
#include "core/error.h"
#include "models/arch/realcugan.h"
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

namespace test_realcugan {

std::vector<std::string> keys_of(const sm::Generator& g) {
  std::vector<std::string> keys;
  for (const auto& kv : g->named_parameters()) keys.push_back(kv.key());
  for (const auto& kv : g->named_buffers()) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

const sm::RealCuganOptions& options_of(const sm::Generator& g) {
  return dynamic_cast<const sm::RealCuganImpl&>(*g).options();
}

/// The reference keys of a UNetConv "<p>." (conv.0, conv.2, optional seblock.conv1/conv2), weights and biases.
void unet_conv_keys(std::vector<std::string>& k, const std::string& p, bool se) {
  for (const char* c : {"conv.0", "conv.2"})
    for (const char* t : {".weight", ".bias"}) k.push_back(p + "." + c + t);
  if (se)
    for (const char* c : {"seblock.conv1", "seblock.conv2"})
      for (const char* t : {".weight", ".bias"}) k.push_back(p + "." + c + t);
}

/// Every key of UpCunet2x / 3x / 4x (+ conv_final) / fast, written out from upcunet_v3.py.
std::vector<std::string> reference_keys(bool conv_final, bool pro) {
  std::vector<std::string> k;
  auto wb = [&](const std::string& p) {
    k.push_back(p + ".weight");
    k.push_back(p + ".bias");
  };
  unet_conv_keys(k, "unet1.conv1", false);
  unet_conv_keys(k, "unet1.conv2", true);
  for (const char* c : {"conv1_down", "conv2_up", "conv3", "conv_bottom"}) wb(std::string("unet1.") + c);
  unet_conv_keys(k, "unet2.conv1", false);
  for (const char* c : {"conv2", "conv3", "conv4"}) unet_conv_keys(k, std::string("unet2.") + c, true);
  for (const char* c : {"conv1_down", "conv2_down", "conv3_up", "conv4_up", "conv5", "conv_bottom"}) wb(std::string("unet2.") + c);
  if (conv_final) wb("conv_final");
  if (pro) k.push_back("pro");
  std::sort(k.begin(), k.end());
  return k;
}

TEST(RealCugan, ZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto fx = srlab::testing::zoo_fixture("realcugan_x2");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto dir = srlab::testing::zoo_dir();
  const sm::Generator g = sm::load_generator(dir / fx["file"].get<std::string>());
  EXPECT_EQ(g->type(), "realcugan");
  EXPECT_EQ(g->scale(), 2);  // source_arch UpCunet2x
  EXPECT_EQ(fx["source_arch"].get<std::string>(), "upcunet_v3.UpCunet2x");
  EXPECT_FALSE(options_of(g).pro);
  EXPECT_FALSE(options_of(g).fast);
  // The manifest's hyperparameters: in/out channels, which SRLab's Real-CUGAN fixes to RGB.
  const auto& hp = fx["hyperparameters"];
  EXPECT_EQ(hp.size(), 2u) << hp.dump();
  EXPECT_EQ(hp["in_channels"].get<int>(), 3);
  EXPECT_EQ(hp["out_channels"].get<int>(), 3);
  const auto* rc = dynamic_cast<const sm::RealCuganImpl*>(g.get());
  ASSERT_NE(rc, nullptr);
  EXPECT_EQ(rc->unet1->conv1->conv->ptr<torch::nn::Conv2dImpl>(0)->weight.size(1), 3);
  EXPECT_EQ(rc->unet2->conv_bottom->weight.size(0), 3);
  EXPECT_EQ(sm::count_parameters(*g), fx["parameters"].get<int64_t>());
  torch::NoGradGuard ng;
  const auto in = srlab::testing::read_f32(dir / fx["input"]["file"].get<std::string>(), fx["input"]["shape"]);
  const auto ref = srlab::testing::read_f32(dir / fx["output"]["file"].get<std::string>(), fx["output"]["shape"]);
  const auto out = g->forward(in);
  ASSERT_EQ(out.sizes(), ref.sizes());
  const double diff = (out - ref).abs().max().item<double>();
  std::cout << "[ fixture ] realcugan_x2: max |diff| " << diff << " (max |reference| " << ref.abs().max().item<double>()
            << ")\n";
  EXPECT_LE(diff, srlab::testing::reference_tolerance(ref));
}

TEST(RealCugan, StateDictKeysEqualTheFixtureAndTheReferenceLayout) {
  const auto g2 = build_generator("{type: realcugan}", 2);
  EXPECT_EQ(keys_of(g2), reference_keys(false, false));
  EXPECT_EQ(keys_of(build_generator("{type: realcugan, pro: true}", 3)), reference_keys(false, true));
  EXPECT_EQ(keys_of(build_generator("{type: realcugan, pro: true}", 4)), reference_keys(true, true));
  EXPECT_EQ(keys_of(build_generator("{type: realcugan, fast: true}", 2)), reference_keys(true, false));
  // Shapes that tell the variants apart.
  const auto s2 = state_dict_of(g2), s3 = state_dict_of(build_generator("{type: realcugan}", 3));
  const auto s4 = state_dict_of(build_generator("{type: realcugan}", 4));
  const auto sf = state_dict_of(build_generator("{type: realcugan, fast: true}", 2));
  EXPECT_EQ(s2.at("unet1.conv_bottom.weight").sizes(), (std::vector<int64_t>{64, 3, 4, 4}));
  EXPECT_EQ(s3.at("unet1.conv_bottom.weight").sizes(), (std::vector<int64_t>{64, 3, 5, 5}));
  EXPECT_EQ(s4.at("unet1.conv_bottom.weight").sizes(), (std::vector<int64_t>{64, 64, 4, 4}));
  EXPECT_EQ(s4.at("unet2.conv1.conv.0.weight").sizes(), (std::vector<int64_t>{32, 64, 3, 3}));
  EXPECT_EQ(s4.at("conv_final.weight").sizes(), (std::vector<int64_t>{12, 64, 3, 3}));
  EXPECT_EQ(sf.at("unet1.conv1.conv.0.weight").sizes(), (std::vector<int64_t>{32, 12, 3, 3}));
  EXPECT_EQ(s2.at("unet2.conv3.seblock.conv1.weight").sizes(), (std::vector<int64_t>{16, 128, 1, 1}));

  const auto fx = srlab::testing::zoo_fixture("realcugan_x2");
  if (fx.is_null()) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto contents = sm::read_weight_file(srlab::testing::zoo_dir() / fx["file"].get<std::string>());
  std::vector<std::string> file_keys;
  for (const auto& kv : contents.state_dict) {
    file_keys.push_back(kv.first);
    EXPECT_EQ(kv.second.sizes(), s2.at(kv.first).sizes()) << kv.first;
  }
  EXPECT_EQ(file_keys, keys_of(g2));
}

TEST(RealCugan, OutputShapesAtOddAndTinySizesEveryVariant) {
  torch::manual_seed(0);
  torch::NoGradGuard ng;
  for (const auto& [yaml, s] : std::vector<std::pair<std::string, int>>{{"{type: realcugan}", 2},
                                                                        {"{type: realcugan, pro: true}", 3},
                                                                        {"{type: realcugan}", 4},
                                                                        {"{type: realcugan, fast: true}", 2}}) {
    const auto g = build_generator(yaml, s);
    EXPECT_EQ(g->scale(), s);
    EXPECT_EQ(g->type(), "realcugan");
    for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {5, 3}, {2, 7}, {21, 26}}) {
      const auto y = g->forward(torch::rand({1, 3, h, w}));
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 3, h * s, w * s})) << yaml << " x" << s << " " << h << "x" << w;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
}

TEST(RealCugan, ProMapsInputAndOutputAroundTheSameNetwork) {
  // pro(x) = (net(0.7 x + 0.15) - 0.15) / 0.7 with the same weights (x4 included: its nearest skip
  // takes the mapped input).
  torch::manual_seed(1);
  torch::NoGradGuard ng;
  for (int s : {2, 4}) {
    const auto plain = build_generator("{type: realcugan}", s);
    const auto pro = build_generator("{type: realcugan, pro: true}", s);
    const auto src = state_dict_of(plain);
    for (auto& kv : pro->named_parameters()) kv.value().copy_(src.at(kv.key()));
    const auto x = torch::rand({1, 3, 9, 12});
    EXPECT_TRUE(torch::allclose(pro->forward(x), (plain->forward(x * 0.7 + 0.15) - 0.15) / 0.7, 1e-5, 1e-6)) << s;
  }
}

TEST(RealCugan, GradientsReachEveryParameter) {
  torch::manual_seed(2);
  const auto g = build_generator("{type: realcugan}", 4);
  g->to(srlab::testing::test_device());
  g->train();
  g->forward(srlab::testing::on_test_device(torch::rand({1, 3, 6, 5}))).square().mean().backward();
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(RealCugan, DetectorRoundTripsEveryVariant) {
  for (const auto& [yaml, s] : std::vector<std::pair<std::string, int>>{{"{type: realcugan}", 2},
                                                                        {"{type: realcugan, pro: true}", 2},
                                                                        {"{type: realcugan}", 3},
                                                                        {"{type: realcugan, pro: true}", 3},
                                                                        {"{type: realcugan}", 4},
                                                                        {"{type: realcugan, pro: true}", 4},
                                                                        {"{type: realcugan, fast: true}", 2}}) {
    const auto g = build_generator(yaml, s);
    const auto d = sm::detect_realcugan(state_dict_of(g));
    ASSERT_TRUE(d.has_value()) << yaml;
    EXPECT_EQ(d->scale, s) << yaml;
    const auto back = build_generator(d->model_yaml, d->scale);
    EXPECT_EQ(keys_of(back), keys_of(g)) << d->model_yaml;
    EXPECT_EQ(options_of(back).pro, options_of(g).pro) << yaml;
    EXPECT_EQ(options_of(back).fast, options_of(g).fast) << yaml;
  }
}

TEST(RealCugan, DetectorRejectsOtherNetworksAndNonRgb) {
  EXPECT_FALSE(sm::detect_realcugan({}).has_value());
  EXPECT_FALSE(sm::detect_realcugan(state_dict_of(build_generator("{type: srvgg_compact, num_feat: 4, num_conv: 1}", 2))).has_value());
  EXPECT_FALSE(sm::detect_realcugan(state_dict_of(build_generator("{type: rcan, n_resgroups: 1, n_resblocks: 1, n_feats: 8, "
                                                                  "reduction: 4}", 2)))
                   .has_value());
  auto sd = state_dict_of(build_generator("{type: realcugan}", 2));
  sd["unet1.conv1.conv.0.weight"] = torch::zeros({32, 1, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_realcugan(sd); }).find("RGB"), std::string::npos);
  auto sd4 = state_dict_of(build_generator("{type: realcugan}", 4));
  sd4["conv_final.weight"] = torch::zeros({4, 64, 3, 3});
  EXPECT_NE(error_of([&] { sm::detect_realcugan(sd4); }).find("conv_final.weight"), std::string::npos);
}

TEST(RealCugan, ConfigErrorsNameTheKey) {
  auto err = [](const std::string& yaml, int scale) { return error_of([&] { build_generator(yaml, scale); }); };
  EXPECT_NE(err("{type: realcugan}", 8).find("scale"), std::string::npos);
  EXPECT_NE(err("{type: realcugan, fast: true}", 3).find("fast"), std::string::npos);
  EXPECT_NE(err("{type: realcugan, fast: true, pro: true}", 2).find("fast"), std::string::npos);
  EXPECT_NE(err("{type: realcugan, alpha: 0.5}", 2).find("alpha"), std::string::npos);  // unknown key
  torch::NoGradGuard ng;
  EXPECT_NE(error_of([] { build_generator("{type: realcugan}", 2)->forward(torch::rand({1, 1, 8, 8})); }).find("(N,3,h,w)"),
            std::string::npos);
}

}  // namespace test_realcugan
