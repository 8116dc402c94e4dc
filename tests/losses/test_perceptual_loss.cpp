// Perceptual loss on the LPIPS SqueezeNet backbone (losses/perceptual_loss.h) with the real weights
// (../shared/data/weights/lpips/lpips_squeeze_v0.1.pt): zero for identical images, a hand-written
// feature computation, additivity over layers, equality with the LPIPS distance when lpips_weighted,
// monotone decrease towards hr, gradients, errors (small images, missing weights, bad keys).
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cstdlib>
#include <memory>

#include "core/config.h"
#include "core/error.h"
#include "core/paths.h"
#include "losses/perceptual_loss.h"
#include "losses/registry.h"
#include "models/features/lpips.h"

namespace sl = srlab::losses;
namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_perceptual_loss {
std::string weights_path() {
  return (srlab::core::shared_data_dir() / "weights" / "lpips" / "lpips_squeeze_v0.1.pt").string();
}

// The network is loaded once and shared by the losses built in code (frozen, so sharing is safe).
const sm::Lpips& net() {
  static const sm::Lpips n = sm::load_lpips(weights_path());
  return n;
}

sl::PerceptualLoss make(std::vector<int> layers = {}, std::vector<double> w = {}, std::string criterion = "l1",
                        bool lpips_weighted = false) {
  sl::PerceptualOptions o;
  o.layers = std::move(layers);
  o.layer_weights = std::move(w);
  o.criterion = std::move(criterion);
  o.lpips_weighted = lpips_weighted;
  return sl::PerceptualLoss(net(), o);
}

double value(const sl::PerceptualLoss& l, const torch::Tensor& sr, const torch::Tensor& hr) {
  sl::LossInputs in;
  in.sr = sr;
  in.hr = hr;
  return l.forward(in).item<double>();
}

sl::LossPtr from_yaml(const std::string& item) {
  Config cfg = Config::parse("loss: " + item, "test_perceptual.yaml");
  sl::LossPtr l = sl::make_loss(cfg.child("loss"));
  cfg.child("loss").check_known();
  return l;
}

struct Pair {
  torch::Tensor sr, hr;
};
Pair pair(int64_t size = 32) {
  torch::manual_seed(11);
  const auto hr = torch::rand({2, 3, size, size});
  return {(hr + 0.1 * torch::randn_like(hr)).clamp(0, 1), hr};
}

TEST(PerceptualLoss, ZeroForIdenticalPositiveOtherwise) {
  const auto p = pair();
  for (bool lw : {false, true}) {
    const auto l = make({}, {}, "l1", lw);
    EXPECT_EQ(value(l, p.hr, p.hr), 0.0) << "lpips_weighted " << lw;
    EXPECT_GT(value(l, p.sr, p.hr), 1e-3) << "lpips_weighted " << lw;
  }
  EXPECT_GT(value(make({}, {}, "l2"), p.sr, p.hr), 0.0);
  const auto l = make();
  EXPECT_EQ(l.layers(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));  // all SqueezeNet taps by default
  EXPECT_EQ(l.layer_weights(), std::vector<double>(7, 1.0));
  EXPECT_EQ(l.type(), "perceptual");
  EXPECT_FALSE(l.needs_discriminator());
}

TEST(PerceptualLoss, MatchesHandWrittenFeatureDistance) {
  // Tap 0 of SqueezeNet = ReLU(conv0(x)), x = (2 img - 1 - shift) / scale (models/features/lpips.h constants).
  const auto p = pair();
  const auto shift = torch::tensor({-0.030f, -0.088f, -0.188f}).view({1, 3, 1, 1});
  const auto scale = torch::tensor({0.458f, 0.448f, 0.450f}).view({1, 3, 1, 1});
  const auto tap0 = [&](const torch::Tensor& img) {
    torch::NoGradGuard ng;
    return torch::relu(net().ptr()->backbone.ptr()->conv0.ptr()->forward((img * 2 - 1 - shift) / scale));
  };
  const auto d = tap0(p.sr) - tap0(p.hr);
  EXPECT_NEAR(value(make({0}), p.sr, p.hr), d.abs().mean().item<double>(), 1e-6);
  EXPECT_NEAR(value(make({0}, {1}, "l2"), p.sr, p.hr), d.square().mean().item<double>(), 1e-6);
}

TEST(PerceptualLoss, LayerWeightsAreLinearAndLayersAdditive) {
  const auto p = pair();
  double sum = 0;
  for (int l = 0; l < 7; ++l) sum += value(make({l}), p.sr, p.hr);
  EXPECT_NEAR(value(make(), p.sr, p.hr), sum, 1e-5 * sum);
  EXPECT_NEAR(value(make({2}, {2.5}), p.sr, p.hr), 2.5 * value(make({2}), p.sr, p.hr), 1e-6);
  EXPECT_NEAR(value(make({4, 1}, {0.5, 0.0}), p.sr, p.hr), 0.5 * value(make({4}), p.sr, p.hr), 1e-6);
}

TEST(PerceptualLoss, LpipsWeightedEqualsLpipsDistance) {
  const auto p = pair();
  torch::Tensor ref;
  {
    torch::NoGradGuard ng;
    ref = net().ptr()->forward(p.sr, p.hr);  // (N)
  }
  EXPECT_NEAR(value(make({}, {}, "l1", true), p.sr, p.hr), ref.mean().item<double>(), 1e-5);
}

TEST(PerceptualLoss, DecreasesTowardsHr) {
  const auto p = pair();
  const auto delta = p.sr - p.hr;
  for (bool lw : {false, true}) {
    const auto l = make({}, {}, "l1", lw);
    double prev = 1e9;
    for (double s : {1.0, 0.5, 0.25, 0.1}) {
      const double v = value(l, p.hr + s * delta, p.hr);
      EXPECT_LT(v, prev) << "step " << s << " lpips_weighted " << lw;
      prev = v;
    }
  }
}

TEST(PerceptualLoss, GradientReachesSrOnly) {
  const auto p = pair();
  for (bool lw : {false, true}) {
    auto sr = p.sr.clone().requires_grad_(true);
    auto hr = p.hr.clone().requires_grad_(true);
    sl::LossInputs in;
    in.sr = sr;
    in.hr = hr;
    const auto v = make({}, {}, "l1", lw).forward(in);
    EXPECT_EQ(v.dim(), 0);
    v.backward();
    ASSERT_TRUE(sr.grad().defined());
    EXPECT_TRUE(torch::isfinite(sr.grad()).all().item<bool>());
    EXPECT_GT(sr.grad().abs().sum().item<double>(), 0);
    EXPECT_FALSE(hr.grad().defined());  // hr features under NoGrad
    for (const auto& prm : net()->parameters()) EXPECT_FALSE(prm.grad().defined());  // frozen
  }
}

TEST(PerceptualLoss, FromYamlWithRealWeights) {
  const auto p = pair();
  const auto l = from_yaml("{type: perceptual, weights: '" + weights_path() +
                           "', layers: [1, 3], layer_weights: [0.5, 2], criterion: l2}");
  sl::LossInputs in;
  in.sr = p.sr;
  in.hr = p.hr;
  EXPECT_NEAR(l->forward(in).item<double>(), value(make({1, 3}, {0.5, 2}, "l2"), p.sr, p.hr), 1e-6);
  // Default location (shared data folder) when neither `weights` nor SRLAB_LPIPS_WEIGHTS is given.
  ::unsetenv("SRLAB_LPIPS_WEIGHTS");
  const auto d = from_yaml("{type: perceptual, lpips_weighted: true}");
  EXPECT_NEAR(d->forward(in).item<double>(), value(make({}, {}, "l1", true), p.sr, p.hr), 1e-6);
}

TEST(PerceptualLoss, ErrorsForBadInputs) {
  const auto l = make();
  std::string m = error_of([&] { value(l, torch::rand({1, 3, 16, 40}), torch::rand({1, 3, 16, 40})); });
  EXPECT_NE(m.find("16x40"), std::string::npos) << m;
  EXPECT_NE(m.find("17"), std::string::npos) << m;
  m = error_of([&] { value(l, torch::rand({1, 3, 32, 32}), torch::rand({1, 3, 32, 30})); });
  EXPECT_NE(m.find("shapes differ"), std::string::npos) << m;
  m = error_of([&] { value(l, torch::rand({1, 1, 32, 32}), torch::rand({1, 1, 32, 32})); });
  EXPECT_NE(m.find("(N,3,H,W)"), std::string::npos) << m;
  EXPECT_NE(error_of([&] { value(l, torch::Tensor(), torch::rand({1, 3, 32, 32})); }).find("undefined"),
            std::string::npos);
}

TEST(PerceptualLoss, ErrorsForMissingWeights) {
  // Explicit path.
  std::string m = error_of([] { from_yaml("{type: perceptual, weights: /nonexistent/lpips.pt}"); });
  EXPECT_NE(m.find("/nonexistent/lpips.pt"), std::string::npos) << m;
  EXPECT_NE(m.find("loss.weights"), std::string::npos) << m;
  // Environment variable.
  ::setenv("SRLAB_LPIPS_WEIGHTS", "/nonexistent/env_lpips.pt", 1);
  m = error_of([] { from_yaml("{type: perceptual}"); });
  ::unsetenv("SRLAB_LPIPS_WEIGHTS");
  EXPECT_NE(m.find("/nonexistent/env_lpips.pt"), std::string::npos) << m;
  EXPECT_NE(m.find("SRLAB_LPIPS_WEIGHTS"), std::string::npos) << m;
  // VGG without user-converted weights: says how to convert them.
  m = error_of([] { from_yaml("{type: perceptual, net: vgg}"); });
  EXPECT_NE(m.find("convert_lpips_weights.py --net vgg"), std::string::npos) << m;
  EXPECT_NE(m.find("lpips_vgg_v0.1.pt"), std::string::npos) << m;
  // The squeeze file given for vgg: wrong network.
  m = error_of([] {
    sl::PerceptualOptions o;
    o.net = "vgg";
    o.weights = weights_path();
    sl::PerceptualLoss l(o);
  });
  EXPECT_NE(m.find("convert_lpips_weights.py"), std::string::npos) << m;
}

TEST(PerceptualLoss, ConfigErrors) {
  const std::string w = "weights: '" + weights_path() + "'";
  const auto err = [&](const std::string& keys) { return error_of([&] { from_yaml("{type: perceptual, " + w + ", " + keys + "}"); }); };
  std::string m = err("layers: [0, 7]");
  EXPECT_NE(m.find("loss.layers"), std::string::npos) << m;
  EXPECT_NE(m.find("0..6"), std::string::npos) << m;
  EXPECT_NE(err("layers: [1, 1]").find("twice"), std::string::npos);
  EXPECT_NE(err("layers: [1, 2], layer_weights: [1]").find("loss.layer_weights"), std::string::npos);
  EXPECT_NE(err("layer_weights: [1, 1]").find("loss.layer_weights"), std::string::npos);  // 7 taps
  EXPECT_NE(err("layers: [1], layer_weights: [-1]").find("loss.layer_weights"), std::string::npos);
  EXPECT_NE(err("layers: [1], layer_weights: [0]").find("every layer weight is 0"), std::string::npos);
  EXPECT_NE(err("criterion: l3").find("loss.criterion"), std::string::npos);
  EXPECT_NE(err("criterion: l2, lpips_weighted: true").find("loss.criterion"), std::string::npos);
  EXPECT_NE(err("net: resnet").find("loss.net"), std::string::npos);
  EXPECT_NE(err("layer: [1]").find("unknown key 'loss.layer'"), std::string::npos);
}

}  // namespace test_perceptual_loss
