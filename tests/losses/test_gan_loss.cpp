// Adversarial losses (losses/gan_loss.h): hand-computed values for every gan_type, RaGAN sign
// conventions, analytic gradients (incl. the relativistic mean), errors, and the `type: gan` term in a
// WeightedLoss (needs_discriminator, discriminator_term).
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/config.h"
#include "core/error.h"
#include "losses/gan_loss.h"
#include "losses/registry.h"
#include "losses/weighted_loss.h"

namespace sl = srlab::losses;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_gan_loss {
double sp(double x) { return std::log1p(std::exp(x)); }  // softplus: BCE(x,0) = sp(x), BCE(x,1) = sp(-x)
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// (N,1) logits: real = {3, 0}, fake = {1, -2}.
torch::Tensor real2() { return torch::tensor({3.0f, 0.0f}).view({2, 1}); }
torch::Tensor fake2() { return torch::tensor({1.0f, -2.0f}).view({2, 1}); }

double g(sl::GanType t, const torch::Tensor& real, const torch::Tensor& fake) {
  return sl::GanLoss(t).generator_loss(real, fake).item<double>();
}
double d(sl::GanType t, const torch::Tensor& real, const torch::Tensor& fake) {
  return sl::GanLoss(t).discriminator_loss(real, fake).item<double>();
}

sl::WeightedLoss from_yaml(const std::string& list_yaml) {
  Config cfg = Config::parse("losses: " + list_yaml, "test_gan.yaml");
  return sl::WeightedLoss::from_config(cfg.child("losses"));
}

TEST(GanLoss, ZeroLogitsGiveLn2) {
  const auto z = torch::zeros({4, 1});
  const double ln2 = std::log(2.0);
  EXPECT_NEAR(g(sl::GanType::kVanilla, torch::Tensor(), z), ln2, 1e-7);
  EXPECT_NEAR(d(sl::GanType::kVanilla, z, z), 2 * ln2, 1e-7);  // real term + fake term
  EXPECT_NEAR(g(sl::GanType::kRagan, z, z), ln2, 1e-7);        // 0.5 * (ln2 + ln2)
  EXPECT_NEAR(d(sl::GanType::kRagan, z, z), ln2, 1e-7);
  EXPECT_NEAR(g(sl::GanType::kLsgan, torch::Tensor(), z), 1.0, 1e-7);  // (0 - 1)^2
  EXPECT_NEAR(d(sl::GanType::kLsgan, z, z), 1.0, 1e-7);                // (0 - 1)^2 + 0^2
  EXPECT_NEAR(g(sl::GanType::kHinge, torch::Tensor(), z), 0.0, 1e-7);
  EXPECT_NEAR(d(sl::GanType::kHinge, z, z), 2.0, 1e-7);  // relu(1) + relu(1)
  EXPECT_EQ(sl::GanLoss().generator_loss(torch::Tensor(), z).dim(), 0);
}

TEST(GanLoss, HandValuesOnSmallBatch) {
  const auto r = real2(), f = fake2();
  // vanilla: G = mean sp(-f); D = mean sp(-r) + mean sp(f)
  EXPECT_NEAR(g(sl::GanType::kVanilla, torch::Tensor(), f), (sp(-1) + sp(2)) / 2, 1e-6);
  EXPECT_NEAR(d(sl::GanType::kVanilla, r, f), (sp(-3) + sp(0)) / 2 + (sp(1) + sp(-2)) / 2, 1e-6);
  // lsgan: G = mean (f-1)^2 = (0 + 9)/2; D = mean (r-1)^2 + mean f^2 = (4 + 1)/2 + (1 + 4)/2
  EXPECT_NEAR(g(sl::GanType::kLsgan, torch::Tensor(), f), 4.5, 1e-6);
  EXPECT_NEAR(d(sl::GanType::kLsgan, r, f), 5.0, 1e-6);
  // hinge: G = -mean f = 0.5; D = mean relu(1-r) + mean relu(1+f) = (0 + 1)/2 + (2 + 0)/2
  EXPECT_NEAR(g(sl::GanType::kHinge, torch::Tensor(), f), 0.5, 1e-6);
  EXPECT_NEAR(d(sl::GanType::kHinge, r, f), 1.5, 1e-6);
  // ragan: E[f] = -0.5, E[r] = 1.5; r - E[f] = {3.5, 0.5}; f - E[r] = {-0.5, -3.5}
  //   G = 0.5 (mean sp(r - E[f]) + mean sp(-(f - E[r]))) = 0.5 (sp(3.5) + sp(0.5))
  //   D = 0.5 (mean sp(-(r - E[f])) + mean sp(f - E[r])) = 0.5 (sp(-3.5) + sp(-0.5))
  EXPECT_NEAR(g(sl::GanType::kRagan, r, f), 0.5 * (sp(3.5) + sp(0.5)), 1e-6);
  EXPECT_NEAR(d(sl::GanType::kRagan, r, f), 0.5 * (sp(-3.5) + sp(-0.5)), 1e-6);
  // The generator loss ignores real logits for the non-relativistic types.
  EXPECT_NEAR(g(sl::GanType::kHinge, r, f), 0.5, 1e-6);
}

TEST(GanLoss, UNetLogitsAreAveragedOverAllElements) {
  // (N,1,H,W): a per-pixel map; with half the pixels at 2 and half at -2, hinge G = -mean = 0 and
  // lsgan G = mean((x-1)^2) = (1 + 9) / 2.
  auto f = torch::full({2, 1, 4, 4}, 2.0f);
  f.narrow(2, 0, 2).fill_(-2.0f);
  EXPECT_NEAR(g(sl::GanType::kHinge, torch::Tensor(), f), 0.0, 1e-6);
  EXPECT_NEAR(g(sl::GanType::kLsgan, torch::Tensor(), f), 5.0, 1e-6);
  EXPECT_NEAR(g(sl::GanType::kVanilla, torch::Tensor(), f), (sp(-2) + sp(2)) / 2, 1e-6);
  // ragan with real = 0 everywhere: E[r] = 0, E[f] = 0 -> G = 0.5 (sp(0) + mean sp(-f)).
  EXPECT_NEAR(g(sl::GanType::kRagan, torch::zeros_like(f), f), 0.5 * (std::log(2.0) + (sp(-2) + sp(2)) / 2), 1e-6);
}

TEST(GanLoss, RaganSignConventions) {
  const auto hi = torch::full({3, 1}, 10.0f), lo = torch::full({3, 1}, -10.0f);
  // The discriminator separates real (high) from fake (low): its loss -> 0 and the generator's is large.
  EXPECT_LT(d(sl::GanType::kRagan, hi, lo), 1e-6);
  EXPECT_NEAR(g(sl::GanType::kRagan, hi, lo), sp(20), 1e-4);  // 0.5 (sp(20) + sp(20))
  // Swapped roles (fake judged more real than real): the generator wins.
  EXPECT_LT(g(sl::GanType::kRagan, lo, hi), 1e-6);
  EXPECT_NEAR(d(sl::GanType::kRagan, lo, hi), sp(20), 1e-4);
  // Symmetry of the relativistic pair: G(real=a, fake=b) = D(real=b, fake=a).
  EXPECT_NEAR(g(sl::GanType::kRagan, real2(), fake2()), d(sl::GanType::kRagan, fake2(), real2()), 1e-6);
  // Only differences matter: adding a constant to every logit changes nothing.
  EXPECT_NEAR(g(sl::GanType::kRagan, real2() + 7, fake2() + 7), g(sl::GanType::kRagan, real2(), fake2()), 1e-5);
  // Vanilla, by contrast, is not shift invariant, but has the same sign behaviour.
  EXPECT_LT(d(sl::GanType::kVanilla, hi, lo), 1e-4);
  EXPECT_GT(g(sl::GanType::kVanilla, hi, lo), 9.9);
}

TEST(GanLoss, GeneratorGradients) {
  const int64_t n = 2;
  {  // vanilla: d/df mean sp(-f) = (sigmoid(f) - 1) / n
    auto f = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kVanilla).generator_loss(torch::Tensor(), f).backward();
    EXPECT_NEAR(f.grad()[0][0].item<double>(), (sigmoid(1) - 1) / n, 1e-6);
    EXPECT_NEAR(f.grad()[1][0].item<double>(), (sigmoid(-2) - 1) / n, 1e-6);
  }
  {  // hinge: -1/n everywhere; lsgan: 2 (f - 1) / n
    auto f = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kHinge).generator_loss(torch::Tensor(), f).backward();
    EXPECT_TRUE(torch::allclose(f.grad(), torch::full({2, 1}, -0.5f)));
    auto f2 = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kLsgan).generator_loss(torch::Tensor(), f2).backward();
    EXPECT_TRUE(torch::allclose(f2.grad(), 2 * (fake2() - 1) / n));
  }
  {  // ragan: the gradient also flows through E[f] in the real term:
     // dG/df_j = -0.5/n [ mean_i sigmoid(r_i - E[f]) + sigmoid(E[r] - f_j) ]; real gets none (detached).
    auto r = real2().requires_grad_(true);
    auto f = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kRagan).generator_loss(r, f).backward();
    const double mean_sig = (sigmoid(3.5) + sigmoid(0.5)) / 2;
    EXPECT_NEAR(f.grad()[0][0].item<double>(), -0.5 / n * (mean_sig + sigmoid(1.5 - 1)), 1e-6);
    EXPECT_NEAR(f.grad()[1][0].item<double>(), -0.5 / n * (mean_sig + sigmoid(1.5 + 2)), 1e-6);
    EXPECT_FALSE(r.grad().defined());
  }
}

TEST(GanLoss, DiscriminatorGradients) {
  const int64_t n = 2;
  {  // vanilla: d/dr = (sigmoid(r) - 1)/n, d/df = sigmoid(f)/n
    auto r = real2().requires_grad_(true);
    auto f = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kVanilla).discriminator_loss(r, f).backward();
    EXPECT_NEAR(r.grad()[0][0].item<double>(), (sigmoid(3) - 1) / n, 1e-6);
    EXPECT_NEAR(f.grad()[1][0].item<double>(), sigmoid(-2) / n, 1e-6);
  }
  {  // ragan (BasicSR: reference means detached): dD/dr_j = 0.5/n (sigmoid(r_j - E[f]) - 1),
     // dD/df_j = 0.5/n sigmoid(f_j - E[r]).
    auto r = real2().requires_grad_(true);
    auto f = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kRagan).discriminator_loss(r, f).backward();
    EXPECT_NEAR(r.grad()[0][0].item<double>(), 0.5 / n * (sigmoid(3.5) - 1), 1e-6);
    EXPECT_NEAR(r.grad()[1][0].item<double>(), 0.5 / n * (sigmoid(0.5) - 1), 1e-6);
    EXPECT_NEAR(f.grad()[0][0].item<double>(), 0.5 / n * sigmoid(-0.5), 1e-6);
    EXPECT_NEAR(f.grad()[1][0].item<double>(), 0.5 / n * sigmoid(-3.5), 1e-6);
  }
  {  // hinge: only logits inside the margin get gradient: r = 3 (none), r = 0 (-1/n); f = 1 (+1/n), f = -2 (none)
    auto r = real2().requires_grad_(true);
    auto f = fake2().requires_grad_(true);
    sl::GanLoss(sl::GanType::kHinge).discriminator_loss(r, f).backward();
    EXPECT_TRUE(torch::allclose(r.grad(), torch::tensor({0.0f, -0.5f}).view({2, 1})));
    EXPECT_TRUE(torch::allclose(f.grad(), torch::tensor({0.5f, 0.0f}).view({2, 1})));
  }
}

TEST(GanLoss, NonFiniteLogitsAreReturnedNotThrown) {
  const auto f = torch::tensor({std::numeric_limits<float>::quiet_NaN(), 0.0f}).view({2, 1});
  EXPECT_TRUE(std::isnan(g(sl::GanType::kVanilla, torch::Tensor(), f)));
  EXPECT_TRUE(std::isnan(d(sl::GanType::kRagan, real2(), f)));
}

TEST(GanLoss, ErrorsForMissingOrMismatchedLogits) {
  const sl::GanLoss ragan(sl::GanType::kRagan), vanilla(sl::GanType::kVanilla);
  EXPECT_NE(error_of([&] { vanilla.generator_loss(real2(), torch::Tensor()); }).find("fake_logits"), std::string::npos);
  EXPECT_NE(error_of([&] { ragan.generator_loss(torch::Tensor(), fake2()); }).find("real_logits"), std::string::npos);
  EXPECT_NE(error_of([&] { vanilla.discriminator_loss(torch::Tensor(), fake2()); }).find("real_logits"),
            std::string::npos);
  const std::string m = error_of([&] { ragan.discriminator_loss(torch::zeros({3, 1}), fake2()); });
  EXPECT_NE(m.find("different shapes"), std::string::npos) << m;
  EXPECT_NE(m.find("[3, 1]"), std::string::npos) << m;
  // Given real logits of the wrong shape are an error even where they are not used.
  EXPECT_NE(error_of([&] { vanilla.generator_loss(torch::zeros({2, 1, 4, 4}), fake2()); }).find("different shapes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { vanilla.generator_loss(torch::Tensor(), torch::zeros({2, 1}, torch::kLong)); })
                .find("floating-point"),
            std::string::npos);
  EXPECT_NE(error_of([&] { vanilla.generator_loss(torch::Tensor(), torch::zeros({0, 1})); }).find("empty"),
            std::string::npos);
  const std::string u = error_of([] { sl::GanLoss("wgan"); });
  EXPECT_NE(u.find("wgan"), std::string::npos) << u;
  EXPECT_NE(u.find("ragan"), std::string::npos) << u;  // lists the known types
  EXPECT_EQ(sl::parse_gan_type("lsgan"), sl::GanType::kLsgan);
  EXPECT_EQ(sl::gan_type_name(sl::GanType::kHinge), "hinge");
}

TEST(AdversarialLoss, ForwardIsGeneratorLossAndNamesMissingFields) {
  sl::AdversarialLoss term(sl::GanType::kRagan);
  EXPECT_TRUE(term.needs_discriminator());
  EXPECT_EQ(term.type(), "gan");
  sl::LossInputs in;
  in.sr = torch::rand({2, 3, 8, 8});
  in.hr = torch::rand({2, 3, 8, 8});
  std::string m = error_of([&] { term.forward(in); });
  EXPECT_NE(m.find("fake_logits"), std::string::npos) << m;
  in.fake_logits = fake2();
  m = error_of([&] { term.forward(in); });
  EXPECT_NE(m.find("real_logits"), std::string::npos) << m;
  in.real_logits = real2();
  EXPECT_NEAR(term.forward(in).item<double>(), 0.5 * (sp(3.5) + sp(0.5)), 1e-6);
  // Pixel losses do not need a discriminator.
  EXPECT_FALSE(sl::WeightedLoss::from_config(
                   Config::parse("losses: [{type: l1}]", "t.yaml").child("losses")).needs_discriminator());
}

TEST(AdversarialLoss, InWeightedLossFromYaml) {
  auto wl = from_yaml("[{type: l1}, {type: gan, gan_type: ragan, weight: 0.1, name: adv}]");
  ASSERT_TRUE(wl.needs_discriminator());
  const sl::WeightedLoss::Term* t = wl.discriminator_term();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "adv");
  EXPECT_DOUBLE_EQ(t->weight, 0.1);
  const auto* adv = dynamic_cast<const sl::AdversarialLoss*>(t->loss.get());
  ASSERT_NE(adv, nullptr);
  EXPECT_EQ(adv->gan().type(), sl::GanType::kRagan);

  sl::LossInputs in;
  in.sr = torch::full({1, 3, 2, 2}, 0.5f);
  in.hr = torch::full({1, 3, 2, 2}, 0.25f);
  in.real_logits = real2();
  in.fake_logits = fake2();
  const auto r = wl(in);
  EXPECT_NEAR(r.terms[1].second, 0.1 * 0.5 * (sp(3.5) + sp(0.5)), 1e-6);
  EXPECT_NEAR(r.total.item<double>(), 0.25 + 0.1 * 0.5 * (sp(3.5) + sp(0.5)), 1e-6);
  // Without logits the gan term throws, naming the field.
  EXPECT_NE(error_of([&] { wl(in.sr, in.hr); }).find("fake_logits"), std::string::npos);

  // Default gan_type is vanilla; a weight-0 gan term needs no discriminator but is still found.
  auto wl0 = from_yaml("[{type: l1}, {type: gan, weight: 0}]");
  EXPECT_FALSE(wl0.needs_discriminator());
  ASSERT_NE(wl0.discriminator_term(), nullptr);
  EXPECT_EQ(dynamic_cast<const sl::AdversarialLoss*>(wl0.discriminator_term()->loss.get())->gan().type(),
            sl::GanType::kVanilla);
  EXPECT_EQ(from_yaml("[{type: l1}]").discriminator_term(), nullptr);
}

TEST(AdversarialLoss, ConfigErrors) {
  std::string m = error_of([] { from_yaml("[{type: gan, gan_type: wgan}]"); });
  EXPECT_NE(m.find("losses[0].gan_type"), std::string::npos) << m;
  EXPECT_NE(m.find("wgan"), std::string::npos) << m;
  m = error_of([] { from_yaml("[{type: gan, gan_typ: hinge}]"); });
  EXPECT_NE(m.find("gan_typ"), std::string::npos) << m;
  m = error_of([] { from_yaml("[{type: gan}, {type: gan, gan_type: hinge, name: g2}]"); });
  EXPECT_NE(m.find("losses[1]"), std::string::npos) << m;
  EXPECT_NE(m.find("adversarial"), std::string::npos) << m;
  // The same rule holds for a WeightedLoss built in code.
  m = error_of([] {
    sl::WeightedLoss({{"a", 1.0, std::make_shared<sl::AdversarialLoss>()}, {"b", 1.0, std::make_shared<sl::AdversarialLoss>()}});
  });
  EXPECT_NE(m.find("adversarial"), std::string::npos) << m;
}

TEST(AdversarialLoss, GanAndPerceptualAreRegistered) {
  std::vector<std::string> names;
  for (const auto& [name, summary] : sl::loss_types()) names.push_back(name);
  for (const char* want : {"gan", "perceptual"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

}  // namespace test_gan_loss
