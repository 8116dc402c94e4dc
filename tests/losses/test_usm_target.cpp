// Unsharp-masked pixel-loss targets (losses/pixel_losses.h: usm_sharpen, `target: usm_hr`): a hand
// computation on a 3x3 image, OpenCV's GaussianBlur (BORDER_REFLECT_101) as an independent reference for
// the plain mask (eval::unsharp_mask's formula) and for Real-ESRGAN's soft-masked form, and YAML keys.
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/config.h"
#include "core/error.h"
#include "losses/pixel_losses.h"
#include "losses/registry.h"

namespace sl = srlab::losses;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_usm_target {
// Gaussian blur of every (H,W) plane of a (N,C,H,W) float tensor with OpenCV.
torch::Tensor cv_blur(const torch::Tensor& x, int ksize, double sigma) {
  torch::Tensor in = x.contiguous(), out = torch::empty_like(in);
  const int64_t h = in.size(2), w = in.size(3);
  for (int64_t p = 0; p < in.size(0) * in.size(1); ++p) {
    const cv::Mat src(static_cast<int>(h), static_cast<int>(w), CV_32F, in.data_ptr<float>() + p * h * w);
    cv::Mat dst(static_cast<int>(h), static_cast<int>(w), CV_32F, out.data_ptr<float>() + p * h * w);
    cv::GaussianBlur(src, dst, cv::Size(ksize, ksize), sigma, sigma, cv::BORDER_REFLECT_101);
  }
  return out;
}

sl::UsmOptions opts(double amount, double sigma, int64_t ksize, double threshold) {
  sl::UsmOptions o;
  o.amount = amount;
  o.sigma = sigma;
  o.kernel_size = ksize;
  o.threshold = threshold;
  return o;
}

sl::LossPtr loss_from_yaml(const std::string& item) {
  Config cfg = Config::parse("loss: " + item, "test_usm.yaml");
  sl::LossPtr l = sl::make_loss(cfg.child("loss"));
  cfg.child("loss").check_known();
  return l;
}

TEST(UsmSharpen, HandComputedThreeByThree) {
  // img = 0.25 + 0.25 * delta(center); 3-tap kernel (a, b, a), a = e^{-1/(2 s^2)} / (1 + 2 e^{-1/(2 s^2)}).
  // Reflect-101 padding mirrors row/col 1 onto -1 and 3, so for the corner the centre pixel counts with
  // weight 2a in each direction: blur = 0.25 + 0.25 (2a)^2; edge (0,1): 0.25 + 0.25 (2a) b; centre: 0.25 + 0.25 b^2.
  const double s = 0.8, amount = 0.7;
  const double e = std::exp(-1 / (2 * s * s)), a = e / (1 + 2 * e), b = 1 / (1 + 2 * e);
  auto img = torch::full({1, 1, 3, 3}, 0.25f);
  img[0][0][1][1] = 0.5f;
  const auto out = sl::usm_sharpen(img, opts(amount, s, 3, 0.0));
  const auto at = [&](int y, int x) { return out[0][0][y][x].item<double>(); };
  EXPECT_NEAR(at(0, 0), 0.25 + amount * (0.25 - (0.25 + 0.25 * 4 * a * a)), 1e-6);
  EXPECT_NEAR(at(0, 1), 0.25 + amount * (0.25 - (0.25 + 0.25 * 2 * a * b)), 1e-6);
  EXPECT_NEAR(at(2, 1), at(0, 1), 1e-7);  // symmetric
  EXPECT_NEAR(at(1, 1), 0.5 + amount * (0.5 - (0.25 + 0.25 * b * b)), 1e-6);
}

TEST(UsmSharpen, PlainMaskMatchesOpenCvUnsharpMask) {
  // threshold 0: clamp(img + amount (img - G*img), 0, 1), the formula of eval::unsharp_mask (threshold 0)
  // whose Gaussian is cv::GaussianBlur with OpenCV's automatic size for float32 (13 taps at sigma 1.5).
  torch::manual_seed(3);
  const auto img = torch::rand({2, 3, 40, 37});
  const double amount = 0.5, sigma = 1.5;
  const auto ref = (img + amount * (img - cv_blur(img, 13, sigma))).clamp(0, 1);
  const auto out = sl::usm_sharpen(img, opts(amount, sigma, 13, 0.0));
  ASSERT_EQ(out.sizes(), img.sizes());
  EXPECT_LT((out - ref).abs().max().item<double>(), 1e-5);
  EXPECT_GT((out - img).abs().max().item<double>(), 0.05);  // it did sharpen
}

TEST(UsmSharpen, RealEsrganSoftMaskMatchesOpenCvReference) {
  // Defaults: amount 0.5, 51 taps, sigma 8, threshold 10/255 (Real-ESRGAN's USMSharp).
  const sl::UsmOptions d;
  EXPECT_EQ(d.kernel_size, 51);
  EXPECT_DOUBLE_EQ(d.sigma, 8.0);  // OpenCV: 0.3 * ((51 - 1) / 2 - 1) + 0.8
  EXPECT_DOUBLE_EQ(d.threshold, 10.0 / 255.0);
  torch::manual_seed(4);
  // A smooth ramp plus a few sharp squares: both masked and unmasked regions occur.
  auto img = torch::linspace(0.2, 0.6, 48).view({1, 1, 1, 48}).expand({1, 3, 48, 48}).clone();
  img.narrow(2, 10, 8).narrow(3, 10, 8).fill_(0.9f);
  img.narrow(2, 30, 6).narrow(3, 25, 12).fill_(0.05f);
  img += 0.002 * torch::rand_like(img);
  const auto blur = cv_blur(img, 51, 8.0);
  const auto residual = img - blur;
  const auto mask = (residual.abs() * 255 > 10).to(torch::kFloat32);
  const auto soft = cv_blur(mask, 51, 8.0);
  const auto sharp = (img + 0.5 * residual).clamp(0, 1);
  const auto ref = soft * sharp + (1 - soft) * img;
  const auto out = sl::usm_sharpen(img);
  EXPECT_LT((out - ref).abs().max().item<double>(), 1e-5);
  // The soft mask matters: the plain mask differs from it.
  EXPECT_GT((out - sharp).abs().max().item<double>(), 1e-3);
}

TEST(UsmSharpen, InvariantsAndErrors) {
  const auto flat = torch::full({1, 3, 30, 30}, 0.4f);
  EXPECT_LT((sl::usm_sharpen(flat) - flat).abs().max().item<double>(), 1e-6);  // normalised kernel
  torch::manual_seed(5);
  const auto img = torch::rand({1, 3, 30, 30});
  // A threshold above every detail leaves the image unchanged (soft mask 0).
  EXPECT_TRUE(torch::equal(sl::usm_sharpen(img, opts(0.5, 8.0, 51, 1.0)), img));
  EXPECT_TRUE(torch::allclose(sl::usm_sharpen(img, opts(0.0, 2.0, 9, 0.0)), img));  // amount 0
  std::string m = error_of([] { sl::usm_sharpen(torch::rand({1, 3, 20, 40})); });
  EXPECT_NE(m.find("20x40"), std::string::npos) << m;
  EXPECT_NE(m.find("usm_kernel_size"), std::string::npos) << m;
  EXPECT_NE(error_of([] { sl::usm_sharpen(torch::rand({3, 30, 30})); }).find("(N,C,H,W)"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::usm_sharpen(img, opts(0.5, 8.0, 50, 0.0)); }).find("odd"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::usm_sharpen(img, opts(-1, 8.0, 51, 0.0)); }).find("amount"), std::string::npos);
  EXPECT_NE(error_of([&] { sl::usm_sharpen(img, opts(0.5, 0.0, 51, 0.0)); }).find("sigma"), std::string::npos);
  EXPECT_NE(error_of([] { sl::L1Loss(opts(0.5, 8.0, 51, -1.0)); }).find("threshold"), std::string::npos);
}

TEST(UsmTarget, PixelLossesCompareWithSharpenedHr) {
  torch::manual_seed(6);
  const auto hr = torch::rand({2, 3, 32, 32});
  auto sr = (hr + 0.05 * torch::randn_like(hr)).clamp(0, 1).requires_grad_(true);
  const auto target = sl::usm_sharpen(hr);
  sl::LossInputs in;
  in.sr = sr;
  in.hr = hr;
  const sl::L1Loss l1(sl::UsmOptions{});
  const auto v = l1.forward(in);
  EXPECT_NEAR(v.item<double>(), (sr - target).abs().mean().item<double>(), 1e-6);
  EXPECT_GT(std::abs(v.item<double>() - sl::l1_loss(sr, hr).item<double>()), 1e-4);
  v.backward();
  EXPECT_GT(sr.grad().abs().sum().item<double>(), 0);
  EXPECT_NEAR(sl::MSELoss(sl::UsmOptions{}).forward(in).item<double>(), (sr - target).square().mean().item<double>(),
              1e-6);
  EXPECT_NEAR(sl::CharbonnierLoss(1e-3, sl::UsmOptions{}).forward(in).item<double>(),
              sl::charbonnier_loss(sr, target, 1e-3).item<double>(), 1e-6);
  // Shape errors come from the loss, not from the sharpening.
  in.hr = torch::rand({2, 3, 32, 31});
  EXPECT_NE(error_of([&] { l1.forward(in); }).find("shapes differ"), std::string::npos);
  EXPECT_FALSE(sl::L1Loss().usm().has_value());
}

TEST(UsmTarget, YamlKeys) {
  auto l = loss_from_yaml("{type: l1, target: usm_hr, usm_amount: 0.8, usm_sigma: 2.0, usm_kernel_size: 13, usm_threshold: 0}");
  const auto* l1 = dynamic_cast<const sl::L1Loss*>(l.get());
  ASSERT_NE(l1, nullptr);
  ASSERT_TRUE(l1->usm().has_value());
  EXPECT_DOUBLE_EQ(l1->usm()->amount, 0.8);
  EXPECT_DOUBLE_EQ(l1->usm()->sigma, 2.0);
  EXPECT_EQ(l1->usm()->kernel_size, 13);
  EXPECT_DOUBLE_EQ(l1->usm()->threshold, 0.0);
  const auto* c = dynamic_cast<const sl::CharbonnierLoss*>(loss_from_yaml("{type: charbonnier, target: usm_hr}").get());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->usm().has_value());
  EXPECT_EQ(c->usm()->kernel_size, 51);  // Real-ESRGAN defaults
  EXPECT_FALSE(dynamic_cast<const sl::MSELoss*>(loss_from_yaml("{type: mse, target: hr}").get())->usm().has_value());

  std::string m = error_of([] { loss_from_yaml("{type: l1, usm_amount: 1.0}"); });
  EXPECT_NE(m.find("loss.usm_amount"), std::string::npos) << m;
  EXPECT_NE(m.find("usm_hr"), std::string::npos) << m;
  m = error_of([] { loss_from_yaml("{type: mse, target: lr}"); });
  EXPECT_NE(m.find("loss.target"), std::string::npos) << m;
  m = error_of([] { loss_from_yaml("{type: l1, target: usm_hr, usm_kernel_size: 4}"); });
  EXPECT_NE(m.find("loss.usm_kernel_size"), std::string::npos) << m;
  m = error_of([] { loss_from_yaml("{type: l1, target: usm_hr, usm_sigma: -1}"); });
  EXPECT_NE(m.find("loss.usm_sigma"), std::string::npos) << m;
}

}  // namespace test_usm_target
