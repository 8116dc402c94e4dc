// Discriminators (models/disc/vgg_discriminator.h, models/disc/unet_discriminator.h) and their registry: output
// shapes, BasicSR state-dict keys and parameter counts, input-size errors, config errors, gradients.
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "tests/test_device.h"

#include "core/config.h"
#include "core/error.h"
#include "models/disc/discriminator_registry.h"
#include "models/arch/generator.h"
#include "models/disc/unet_discriminator.h"
#include "models/disc/vgg_discriminator.h"

namespace sm = srlab::models;
using srlab::core::Config;

using srlab::testing::error_of;

namespace test_discriminators {

sm::Discriminator build(const std::string& yaml) {
  Config cfg = Config::parse("discriminator: " + yaml, "test_discriminators.yaml");
  return sm::make_discriminator(cfg.at("discriminator"));
}

// PyTorch state_dict() order: a module's own parameters, then its own buffers, then its children's.
void state_dict_keys(const torch::nn::Module& m, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& kv : m.named_parameters(/*recurse=*/false)) out.push_back(prefix + kv.key());
  for (const auto& kv : m.named_buffers(/*recurse=*/false)) out.push_back(prefix + kv.key());
  for (const auto& kv : m.named_children()) state_dict_keys(*kv.value(), prefix + kv.key() + ".", out);
}
std::vector<std::string> state_dict_keys(const torch::nn::Module& m) {
  std::vector<std::string> out;
  state_dict_keys(m, "", out);
  return out;
}

// BasicSR UNetDiscriminatorSN().state_dict().keys(), written out independently of the C++ code:
// conv0 and conv9 plain convs with bias; conv1..conv8 spectral_norm(Conv2d(..., bias=False)).
std::vector<std::string> basicsr_unet_keys() {
  std::vector<std::string> k{"conv0.weight", "conv0.bias"};
  for (int i = 1; i <= 8; ++i)
    for (const char* p : {"weight_orig", "weight_u", "weight_v"}) k.push_back("conv" + std::to_string(i) + "." + p);
  k.insert(k.end(), {"conv9.weight", "conv9.bias"});
  return k;
}

// BasicSR VGGStyleDiscriminator(3, F, input_size).state_dict().keys().
std::vector<std::string> basicsr_vgg_keys(int input_size) {
  std::vector<std::string> k{"conv0_0.weight", "conv0_0.bias", "conv0_1.weight"};
  auto bn = [&k](const std::string& name) {
    for (const char* p : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
      k.push_back(name + "." + p);
  };
  bn("bn0_1");
  for (int s = 1; s <= (input_size == 256 ? 5 : 4); ++s)
    for (int i = 0; i < 2; ++i) {
      const std::string id = std::to_string(s) + "_" + std::to_string(i);
      k.push_back("conv" + id + ".weight");
      bn("bn" + id);
    }
  k.insert(k.end(), {"linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"});
  return k;
}

TEST(Discriminators, VggOutputShape128) {
  torch::manual_seed(0);
  auto d = build("{type: vgg128}");
  EXPECT_EQ(d->type(), "vgg128");
  EXPECT_EQ(d->input_size(), 128);
  EXPECT_EQ(d->input_multiple(), 1);
  torch::NoGradGuard ng;
  const auto y = d->forward(torch::rand({2, 3, 128, 128}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  // 256 variant (small width): one more stride-2 stage, same (N,1) output.
  auto d256 = build("{type: vgg128, num_feat: 4, input_size: 256}");
  EXPECT_EQ(d256->input_size(), 256);
  EXPECT_EQ(d256->forward(torch::rand({2, 3, 256, 256})).sizes(), (std::vector<int64_t>{2, 1}));
}

TEST(Discriminators, VggParameterCountAndKeysMatchBasicSR) {
  // VGGStyleDiscriminator(3, 64, 128) by hand (conv0_0 is the only conv with a bias; BN: 2C each):
  //   conv0_0 3*64*9+64 = 1,792; conv0_1 64*64*16 = 65,536; bn0_1 128
  //   conv1_0 64*128*9 = 73,728; bn1_0 256; conv1_1 128*128*16 = 262,144; bn1_1 256
  //   conv2_0 128*256*9 = 294,912; bn2_0 512; conv2_1 256*256*16 = 1,048,576; bn2_1 512
  //   conv3_0 256*512*9 = 1,179,648; bn3_0 1,024; conv3_1 512*512*16 = 4,194,304; bn3_1 1,024
  //   conv4_0 512*512*9 = 2,359,296; bn4_0 1,024; conv4_1 4,194,304; bn4_1 1,024
  //   linear1 8192*100+100 = 819,300; linear2 101
  //   total 14,499,401. input_size 256 adds conv5_0 + bn5_0 + conv5_1 + bn5_1 = 6,555,648.
  auto d = build("{type: vgg128, num_feat: 64}");
  EXPECT_EQ(sm::count_parameters(*d), 14499401);
  EXPECT_EQ(sm::vgg_discriminator_parameter_count({}), 14499401);
  sm::VggDiscriminatorOptions o256;
  o256.input_size = 256;
  EXPECT_EQ(sm::vgg_discriminator_parameter_count(o256), 14499401 + 6555648);
  // Formula vs instantiated model on small configurations.
  for (int size : {128, 256})
    for (int c : {1, 3}) {
      sm::VggDiscriminatorOptions o;
      o.num_in_ch = c;
      o.num_feat = 5;
      o.input_size = size;
      EXPECT_EQ(sm::count_parameters(sm::VggStyleDiscriminatorImpl(o)), sm::vgg_discriminator_parameter_count(o));
    }
  EXPECT_EQ(state_dict_keys(*d), basicsr_vgg_keys(128));
  EXPECT_EQ(state_dict_keys(*build("{type: vgg128, num_feat: 2, input_size: 256}")), basicsr_vgg_keys(256));
  // Layer shapes BasicSR checkpoints carry.
  auto& vgg = dynamic_cast<sm::VggStyleDiscriminatorImpl&>(*d);
  EXPECT_EQ(vgg.conv(0, 1)->weight.sizes(), (std::vector<int64_t>{64, 64, 4, 4}));
  EXPECT_EQ(vgg.conv(4, 0)->weight.sizes(), (std::vector<int64_t>{512, 512, 3, 3}));
  EXPECT_EQ(vgg.linear1->weight.sizes(), (std::vector<int64_t>{100, 8192}));
}

TEST(Discriminators, VggWrongInputSizeErrors) {
  auto d = build("{type: vgg128, num_feat: 2}");
  const std::string e = error_of([&] { d->forward(torch::rand({2, 3, 64, 64})); });
  EXPECT_NE(e.find("input_size"), std::string::npos) << e;
  EXPECT_NE(e.find("128x128"), std::string::npos) << e;
  EXPECT_NE(e.find("got 64x64"), std::string::npos) << e;
  // Only the width wrong.
  EXPECT_NE(error_of([&] { d->forward(torch::rand({1, 3, 128, 120})); }).find("got 128x120"), std::string::npos);
  EXPECT_NE(error_of([&] { d->forward(torch::rand({3, 128, 128})); }).find("(N,3,H,W)"), std::string::npos);
  EXPECT_NE(error_of([&] { d->forward(torch::zeros({1, 3, 128, 128}, torch::kUInt8)); }).find("floating-point"),
            std::string::npos);
  // Config errors name the key.
  const std::string cfg_err = error_of([] { build("{type: vgg128, input_size: 192}"); });
  EXPECT_NE(cfg_err.find("input_size"), std::string::npos) << cfg_err;
  EXPECT_NE(cfg_err.find("128 or 256"), std::string::npos) << cfg_err;
  EXPECT_NE(error_of([] { build("{type: vgg128, num_feat: 0}"); }).find("num_feat"), std::string::npos);
}

TEST(Discriminators, UnetOutputShapeAndKeys) {
  torch::manual_seed(1);
  auto d = build("{type: unet_sn}");
  EXPECT_EQ(d->type(), "unet_sn");
  EXPECT_EQ(d->input_size(), 0);
  EXPECT_EQ(d->input_multiple(), 8);
  {
    torch::NoGradGuard ng;
    const auto y = d->forward(torch::rand({2, 3, 64, 64}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 1, 64, 64}));
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    // Non-square, smallest and skip-free variants.
    auto small = build("{type: unet_sn, num_feat: 4, skip_connection: false}");
    EXPECT_EQ(small->forward(torch::rand({1, 3, 8, 24})).sizes(), (std::vector<int64_t>{1, 1, 8, 24}));
  }
  // Parameters: 1068F^2 + 9cF + 10F + 1 (see unet_discriminator.h) = 4,376,897 for F 64.
  EXPECT_EQ(sm::count_parameters(*d), 4376897);
  EXPECT_EQ(sm::unet_discriminator_parameter_count({}), 4376897);

  auto s = build("{type: unet_sn, num_feat: 4}");
  EXPECT_EQ(state_dict_keys(*s), basicsr_unet_keys());
  // Shapes of a few entries (F = 4): conv1 4->8 4x4, conv4 32->16 3x3.
  const auto params = s->named_parameters();
  const auto buffers = s->named_buffers();
  EXPECT_EQ(params["conv1.weight_orig"].sizes(), (std::vector<int64_t>{8, 4, 4, 4}));
  EXPECT_EQ(buffers["conv1.weight_u"].sizes(), (std::vector<int64_t>{8}));
  EXPECT_EQ(buffers["conv1.weight_v"].sizes(), (std::vector<int64_t>{64}));
  EXPECT_EQ(params["conv4.weight_orig"].sizes(), (std::vector<int64_t>{16, 32, 3, 3}));
  EXPECT_EQ(buffers["conv4.weight_v"].sizes(), (std::vector<int64_t>{288}));
  EXPECT_EQ(params["conv9.weight"].sizes(), (std::vector<int64_t>{1, 4, 3, 3}));
}

TEST(Discriminators, UnetForwardMatchesLayerByLayerRecomputation) {
  // Eval mode, recomputed from the state-dict tensors alone with the BasicSR forward written out here:
  // SN weight = weight_orig / (u^T W v), LeakyReLU 0.2, bilinear x2 (align_corners=False), U-Net skips.
  namespace F = torch::nn::functional;
  torch::manual_seed(4);
  auto d = build("{type: unet_sn, num_feat: 3}");
  d->train();
  {
    torch::NoGradGuard ng;
    for (int i = 0; i < 3; ++i) d->forward(torch::rand({1, 3, 16, 24}));  // move u, v away from their init
  }
  d->eval();
  const auto p = d->named_parameters();
  const auto b = d->named_buffers();
  auto sn_w = [&](int i) {
    const std::string k = "conv" + std::to_string(i);
    const auto w = p[k + ".weight_orig"];
    return w / torch::dot(b[k + ".weight_u"], torch::mv(w.reshape({w.size(0), -1}), b[k + ".weight_v"]));
  };
  auto conv = [](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias, int stride) {
    return F::conv2d(x, w, F::Conv2dFuncOptions().bias(bias).stride(stride).padding(1));
  };
  auto act = [](const torch::Tensor& x) { return torch::where(x > 0, x, 0.2 * x); };
  auto up = [](const torch::Tensor& x) {
    return F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0})
                                 .mode(torch::kBilinear).align_corners(false));
  };
  torch::NoGradGuard ng;
  const auto x = torch::rand({2, 3, 16, 24});
  const auto x0 = act(conv(x, p["conv0.weight"], p["conv0.bias"], 1));
  const auto x1 = act(conv(x0, sn_w(1), {}, 2));
  const auto x2 = act(conv(x1, sn_w(2), {}, 2));
  const auto x3 = act(conv(x2, sn_w(3), {}, 2));
  const auto x4 = act(conv(up(x3), sn_w(4), {}, 1)) + x2;
  const auto x5 = act(conv(up(x4), sn_w(5), {}, 1)) + x1;
  const auto x6 = act(conv(up(x5), sn_w(6), {}, 1)) + x0;
  const auto o = act(conv(act(conv(x6, sn_w(7), {}, 1)), sn_w(8), {}, 1));
  const auto expect = conv(o, p["conv9.weight"], p["conv9.bias"], 1);
  const auto y = d->forward(x);
  EXPECT_TRUE(torch::allclose(y, expect, 1e-5, 1e-6)) << (y - expect).abs().max();
}

TEST(Discriminators, UnetTrainModeUpdatesSpectralNormEvalDoesNot) {
  torch::manual_seed(2);
  auto d = build("{type: unet_sn, num_feat: 4}");
  const auto x = torch::rand({1, 3, 16, 16});
  const auto u0 = d->named_buffers()["conv5.weight_u"].clone();
  d->eval();
  torch::NoGradGuard ng;
  const auto y0 = d->forward(x);
  EXPECT_TRUE(torch::equal(d->named_buffers()["conv5.weight_u"], u0));
  EXPECT_TRUE(torch::equal(d->forward(x), y0));
  d->train();
  d->forward(x);
  EXPECT_FALSE(torch::equal(d->named_buffers()["conv5.weight_u"], u0));
}

TEST(Discriminators, UnetSizeNotMultipleOf8Errors) {
  auto d = build("{type: unet_sn, num_feat: 2}");
  const std::string e = error_of([&] { d->forward(torch::rand({1, 3, 60, 64})); });
  EXPECT_NE(e.find("divisible by 8"), std::string::npos) << e;
  EXPECT_NE(e.find("60x64"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { d->forward(torch::rand({1, 3, 64, 20})); }).find("64x20"), std::string::npos);
  EXPECT_NE(error_of([&] { d->forward(torch::rand({1, 1, 64, 64})); }).find("(N,3,H,W)"), std::string::npos);
  // num_in_ch 1 accepts gray batches.
  auto gray = build("{type: unet_sn, num_feat: 2, num_in_ch: 1}");
  torch::NoGradGuard ng;
  EXPECT_EQ(gray->forward(torch::rand({1, 1, 16, 16})).sizes(), (std::vector<int64_t>{1, 1, 16, 16}));
}

TEST(Discriminators, RegistryListsTypesAndReportsConfigErrors) {
  const auto types = sm::discriminator_types();
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0].first, "unet_sn");
  EXPECT_EQ(types[1].first, "vgg128");
  const std::string unknown = error_of([] { build("{type: patchgan}"); });
  EXPECT_NE(unknown.find("unknown discriminator type 'patchgan'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("known types: unet_sn, vgg128"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("discriminator.type"), std::string::npos) << unknown;
  const std::string typo = error_of([] { build("{type: unet_sn, num_fet: 8}"); });
  EXPECT_NE(typo.find("num_fet"), std::string::npos) << typo;
  EXPECT_NE(typo.find("unknown key"), std::string::npos) << typo;
  EXPECT_NE(error_of([] { build("{type: unet_sn, skip_connection: maybe}"); }).find("skip_connection"),
            std::string::npos);
  // A user registration is found next to the built-ins.
  sm::register_discriminator("test_unet_small", [](const Config&) {
    sm::UnetDiscriminatorOptions o;
    o.num_feat = 2;
    return std::make_shared<sm::UnetDiscriminatorSNImpl>(o);
  }, "test");
  EXPECT_EQ(build("{type: test_unet_small}")->type(), "unet_sn");
}

TEST(Discriminators, GradientsReachTheInput) {
  torch::manual_seed(3);
  for (const char* yaml : {"{type: vgg128, num_feat: 4}", "{type: unet_sn, num_feat: 4}"}) {
    auto d = build(yaml);
    d->to(srlab::testing::test_device());
    d->train();
    const int64_t size = d->input_size() > 0 ? d->input_size() : 32;
    auto x = srlab::testing::on_test_device(torch::rand({2, 3, size, size})).requires_grad_(true);
    d->forward(x).sum().backward();
    ASSERT_TRUE(x.grad().defined()) << yaml;
    EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0) << yaml;
    // Every trainable parameter receives a gradient.
    for (const auto& p : d->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << yaml << " " << p.key();
    }
  }
}

}  // namespace test_discriminators
