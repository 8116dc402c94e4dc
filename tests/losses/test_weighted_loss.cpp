// WeightedLoss and the loss registry (losses/weighted_loss.h, losses/registry.h).
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cmath>

#include "core/config.h"
#include "core/error.h"
#include "losses/pixel_losses.h"
#include "losses/registry.h"
#include "losses/weighted_loss.h"

namespace sl = srlab::losses;
using srlab::core::Config;

using srlab::testing::error_of;

namespace test_weighted_loss {
sl::WeightedLoss from_yaml(const std::string& list_yaml) {
  Config cfg = Config::parse("losses: " + list_yaml, "test_losses.yaml");
  return sl::WeightedLoss::from_config(cfg.child("losses"));
}

torch::Tensor sr4() { return torch::tensor({0.0f, 0.5f, 1.0f, 0.25f}).view({1, 1, 2, 2}); }
torch::Tensor hr4() { return torch::tensor({0.5f, 0.5f, 0.0f, 1.0f}).view({1, 1, 2, 2}); }

TEST(WeightedLoss, TotalIsWeightedSumOfHandValues) {
  auto wl = from_yaml("[{type: l1, weight: 1.0}, {type: charbonnier, weight: 0.5, eps: 1.0e-3}, {type: mse, weight: 2}]");
  EXPECT_EQ(wl.term_names(), (std::vector<std::string>{"l1", "charbonnier", "mse"}));
  const double l1 = (0.5 + 0 + 1 + 0.75) / 4;
  const double e2 = 1e-6;
  const double charb = (std::sqrt(0.25 + e2) + std::sqrt(e2) + std::sqrt(1 + e2) + std::sqrt(0.5625 + e2)) / 4;
  const double mse = (0.25 + 0 + 1 + 0.5625) / 4;
  const auto r = wl(sr4(), hr4());
  ASSERT_EQ(r.terms.size(), 3u);
  EXPECT_EQ(r.terms[0].first, "l1");
  EXPECT_NEAR(r.terms[0].second, l1, 1e-7);
  EXPECT_EQ(r.terms[1].first, "charbonnier");
  EXPECT_NEAR(r.terms[1].second, 0.5 * charb, 1e-7);
  EXPECT_NEAR(r.terms[2].second, 2 * mse, 1e-7);
  EXPECT_NEAR(r.total.item<double>(), l1 + 0.5 * charb + 2 * mse, 1e-6);
  EXPECT_EQ(r.total.dim(), 0);
}

TEST(WeightedLoss, GradientIsWeightedSumOfTermGradients) {
  auto wl = from_yaml("[{type: l1, weight: 0.25}, {type: mse}]");  // weight defaults to 1
  auto sr = sr4().requires_grad_(true);
  const auto hr = hr4();
  wl(sr, hr).total.backward();
  const auto d = sr4() - hr;
  EXPECT_TRUE(torch::allclose(sr.grad(), 0.25 * torch::sign(d) / 4 + 2 * d / 4, 1e-6, 1e-6));
}

TEST(WeightedLoss, ZeroWeightTermIsReportedAsZeroAndDoesNotContribute) {
  auto wl = from_yaml("[{type: l1, weight: 1}, {type: mse, weight: 0}]");
  const auto r = wl(sr4(), hr4());
  EXPECT_EQ(r.terms[1].first, "mse");
  EXPECT_EQ(r.terms[1].second, 0.0);
  EXPECT_NEAR(r.total.item<double>(), 0.5625, 1e-7);
}

TEST(WeightedLoss, NamesDistinguishRepeatedTypes) {
  auto wl = from_yaml("[{type: l1}, {type: l1, weight: 0.5, name: l1_half}]");
  EXPECT_EQ(wl.term_names(), (std::vector<std::string>{"l1", "l1_half"}));
  EXPECT_NEAR(wl(sr4(), hr4()).total.item<double>(), 1.5 * 0.5625, 1e-7);
}

TEST(WeightedLoss, ConfigErrorsNameFileAndKey) {
  auto has = [](const std::string& msg, const std::string& part) {
    EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
  };
  has(error_of([] { from_yaml("[]"); }), "'losses'");
  has(error_of([] { from_yaml("[]"); }), "empty");
  has(error_of([] { from_yaml("{type: l1}"); }), "expected a list");
  has(error_of([] { sl::WeightedLoss::from_config(Config::parse("train: {}", "x.yaml").child("losses")); }),
      "'losses'");
  const std::string unknown_type = error_of([] { from_yaml("[{type: l1}, {type: l2}]"); });
  has(unknown_type, "'losses[1].type'");
  has(unknown_type, "charbonnier");  // lists the known types
  has(unknown_type, "test_losses.yaml");
  has(error_of([] { from_yaml("[{type: charbonnier, epsilon: 1e-3}]"); }), "unknown key 'losses[0].epsilon'");
  has(error_of([] { from_yaml("[{type: l1, eps: 1e-3}]"); }), "unknown key 'losses[0].eps'");
  has(error_of([] { from_yaml("[{type: l1, weight: -1}]"); }), "'losses[0].weight'");
  has(error_of([] { from_yaml("[{type: l1, weight: abc}]"); }), "'losses[0].weight'");
  has(error_of([] { from_yaml("[{type: l1, weight: .nan}]"); }), "'losses[0].weight'");
  has(error_of([] { from_yaml("[{weight: 1}]"); }), "'losses[0].type'");
  has(error_of([] { from_yaml("[l1]"); }), "'losses[0]'");
  has(error_of([] { from_yaml("[{type: charbonnier, eps: 0}]"); }), "'losses[0].eps'");
  has(error_of([] { from_yaml("[{type: l1}, {type: l1}]"); }), "duplicate");
  has(error_of([] { from_yaml("[{type: l1, weight: 0}]"); }), "weight > 0");
}

TEST(WeightedLoss, DirectConstructionValidates) {
  auto l1 = std::make_shared<sl::L1Loss>();
  EXPECT_NE(error_of([] { sl::WeightedLoss(std::vector<sl::WeightedLoss::Term>{}); }).find("no loss terms"),
            std::string::npos);
  EXPECT_NE(error_of([&] { sl::WeightedLoss({{"a", -0.5, l1}}); }).find("weight"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::WeightedLoss({{"a", 1.0, nullptr}}); }).find("no loss object"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::WeightedLoss({{"a", 1.0, l1}, {"a", 1.0, l1}}); }).find("duplicate"),
            std::string::npos);
  sl::WeightedLoss ok({{"pix", 2.0, l1}});
  EXPECT_NEAR(ok(sr4(), hr4()).total.item<double>(), 2 * 0.5625, 1e-7);
}

TEST(WeightedLoss, MismatchedShapesThrow) {
  auto wl = from_yaml("[{type: l1}]");
  EXPECT_NE(error_of([&] { wl(torch::rand({1, 3, 8, 8}), torch::rand({1, 3, 8, 9})); }).find("shapes differ"),
            std::string::npos);
}

// A term that needs more than (sr, hr) plugs in through the registry and LossInputs — the extension
// path for perceptual/adversarial terms.
namespace {
class LrMeanLoss : public sl::Loss {
 public:
  explicit LrMeanLoss(double gain) : gain_(gain) {}
  torch::Tensor forward(const sl::LossInputs& in) const override {
    if (!in.lr.defined()) throw srlab::Error("lr_mean: needs LossInputs::lr");
    return in.sr.mean() - gain_ * in.lr.mean();
  }
  std::string type() const override { return "test_lr_mean"; }

 private:
  double gain_;
};
}  // namespace

TEST(LossRegistry, CustomTermsUseTheFullInputStruct) {
  sl::register_loss(
      "test_lr_mean",
      [](const Config& p) -> sl::LossPtr { return std::make_shared<LrMeanLoss>(p.get<double>("gain", 1.0)); },
      "test-only");
  auto wl = from_yaml("[{type: l1}, {type: test_lr_mean, gain: 2, weight: 0.5}]");
  sl::LossInputs in;
  in.sr = sr4();
  in.hr = hr4();
  EXPECT_NE(error_of([&] { wl(in); }).find("LossInputs::lr"), std::string::npos);
  in.lr = torch::full({1, 1, 1, 1}, 0.125f);
  const auto r = wl(in);
  EXPECT_NEAR(r.terms[1].second, 0.5 * (0.4375 - 2 * 0.125), 1e-7);
  EXPECT_NEAR(r.total.item<double>(), 0.5625 + 0.5 * (0.4375 - 0.25), 1e-7);
}

TEST(LossRegistry, ListsBuiltinLosses) {
  std::vector<std::string> names;
  for (const auto& [name, summary] : sl::loss_types()) names.push_back(name);
  for (const char* want : {"l1", "mse", "charbonnier"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

}  // namespace test_weighted_loss
