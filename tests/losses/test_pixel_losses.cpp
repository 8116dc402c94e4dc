// Pixel losses (losses/pixel_losses.h) against hand-computed values and analytic gradients.
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cmath>

#include "core/error.h"
#include "losses/pixel_losses.h"

namespace sl = srlab::losses;

using srlab::testing::error_of;

namespace test_pixel_losses {
// sr - hr = {-0.5, 0, 1, -0.75}
torch::Tensor sr4() { return torch::tensor({0.0f, 0.5f, 1.0f, 0.25f}).view({1, 1, 2, 2}); }
torch::Tensor hr4() { return torch::tensor({0.5f, 0.5f, 0.0f, 1.0f}).view({1, 1, 2, 2}); }

TEST(PixelLosses, HandValues) {
  EXPECT_NEAR(sl::l1_loss(sr4(), hr4()).item<double>(), (0.5 + 0 + 1 + 0.75) / 4, 1e-7);
  EXPECT_NEAR(sl::mse_loss(sr4(), hr4()).item<double>(), (0.25 + 0 + 1 + 0.5625) / 4, 1e-7);
  const double e2 = 1e-6;  // eps = 1e-3 (default)
  const double charb = (std::sqrt(0.25 + e2) + std::sqrt(e2) + std::sqrt(1 + e2) + std::sqrt(0.5625 + e2)) / 4;
  EXPECT_NEAR(sl::charbonnier_loss(sr4(), hr4()).item<double>(), charb, 1e-7);
  // Identical inputs: L1 = MSE = 0, Charbonnier = eps exactly.
  const auto x = torch::rand({2, 3, 5, 4});
  EXPECT_EQ(sl::l1_loss(x, x).item<double>(), 0.0);
  EXPECT_EQ(sl::mse_loss(x, x).item<double>(), 0.0);
  EXPECT_NEAR(sl::charbonnier_loss(x, x, 0.5).item<double>(), 0.5, 1e-7);
  // Charbonnier with a large diff approaches L1: |d| = 1 - eps=1e-3 -> sqrt(1 + 1e-6).
  EXPECT_NEAR(sl::charbonnier_loss(torch::ones({4}), torch::zeros({4})).item<double>(), std::sqrt(1 + 1e-6), 1e-7);
  // The result is a 0-dim tensor.
  EXPECT_EQ(sl::l1_loss(sr4(), hr4()).dim(), 0);
}

TEST(PixelLosses, LossObjectsMatchFunctions) {
  sl::LossInputs in;
  in.sr = sr4();
  in.hr = hr4();
  EXPECT_EQ(sl::L1Loss().forward(in).item<double>(), sl::l1_loss(in.sr, in.hr).item<double>());
  EXPECT_EQ(sl::MSELoss().forward(in).item<double>(), sl::mse_loss(in.sr, in.hr).item<double>());
  EXPECT_EQ(sl::CharbonnierLoss(0.01).forward(in).item<double>(), sl::charbonnier_loss(in.sr, in.hr, 0.01).item<double>());
  EXPECT_EQ(sl::L1Loss().type(), "l1");
  EXPECT_EQ(sl::MSELoss().type(), "mse");
  EXPECT_EQ(sl::CharbonnierLoss().type(), "charbonnier");
  EXPECT_EQ(sl::CharbonnierLoss().eps(), 1e-3);
}

TEST(PixelLosses, AnalyticGradients) {
  const auto hr = hr4();
  const auto d = sr4() - hr;
  const double n = 4;
  {
    auto sr = sr4().requires_grad_(true);
    sl::l1_loss(sr, hr).backward();
    // d/dsr mean|d| = sign(d)/n (0 at d = 0, as torch::abs' subgradient)
    EXPECT_TRUE(torch::allclose(sr.grad(), torch::sign(d) / n));
  }
  {
    auto sr = sr4().requires_grad_(true);
    sl::mse_loss(sr, hr).backward();
    EXPECT_TRUE(torch::allclose(sr.grad(), 2 * d / n));
  }
  {
    auto sr = sr4().requires_grad_(true);
    const double eps = 1e-3;
    sl::charbonnier_loss(sr, hr, eps).backward();
    const auto g = d / torch::sqrt(d * d + eps * eps) / n;
    EXPECT_TRUE(torch::allclose(sr.grad(), g, 1e-6, 1e-6));
    EXPECT_TRUE(torch::isfinite(sr.grad()).all().item<bool>());  // finite at d = 0
    EXPECT_EQ(sr.grad()[0][0][0][1].item<float>(), 0.0f);
  }
}

TEST(PixelLosses, MismatchedOrBadInputsThrow) {
  const auto a = torch::rand({1, 3, 4, 4});
  // No broadcasting: (3,4,4) vs (1,3,4,4) or (1,3,4,1) would broadcast silently in torch.
  EXPECT_NE(error_of([&] { sl::l1_loss(a, torch::rand({3, 4, 4})); }).find("shapes differ"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::mse_loss(a, torch::rand({1, 3, 4, 1})); }).find("[1, 3, 4, 1]"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::charbonnier_loss(a, torch::rand({1, 3, 4, 5})); }).find("charbonnier"),
            std::string::npos);
  EXPECT_NE(error_of([&] { sl::l1_loss(a, torch::Tensor()); }).find("undefined"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::l1_loss(a, torch::zeros({1, 3, 4, 4}, torch::kUInt8)); }).find("floating-point"),
            std::string::npos);
  EXPECT_NE(error_of([&] { sl::l1_loss(torch::rand({0, 3}), torch::rand({0, 3})); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::charbonnier_loss(a, a, 0.0); }).find("eps"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::CharbonnierLoss(-1e-3); }).find("eps"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::CharbonnierLoss(std::nan("")); }).find("eps"), std::string::npos);
}

}  // namespace test_pixel_losses
