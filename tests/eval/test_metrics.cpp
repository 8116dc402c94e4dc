// Tests of eval/metrics: hand-computable PSNR/SSIM values and an independent brute-force SSIM.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "eval/metrics.h"

namespace test_metrics {
using srlab::eval::MetricOptions;
using srlab::eval::psnr;
using srlab::eval::ssim;

// Random 8-bit image (C,H,W) as float [0,1] with levels in [lo, hi].
torch::Tensor random_u8(int64_t c, int64_t h, int64_t w, int lo = 0, int hi = 255, uint64_t seed = 1) {
  torch::manual_seed(seed);
  return torch::randint(lo, hi + 1, {c, h, w}, torch::kFloat64).div(255.0).to(torch::kFloat32);
}

// Brute-force SSIM of two float64 (H,W) planes on the 0..255 scale: explicit 11x11 Gaussian window sums
// at every 'valid' position, population (1/N-normalised weights) statistics as in Wang et al. 2004.
double ssim_reference(const torch::Tensor& a, const torch::Tensor& b) {
  double g[11];
  double gs = 0;
  for (int i = 0; i < 11; ++i) gs += g[i] = std::exp(-(i - 5) * (i - 5) / (2 * 1.5 * 1.5));
  const auto A = a.accessor<double, 2>();
  const auto B = b.accessor<double, 2>();
  const int64_t h = a.size(0), w = a.size(1);
  const double C1 = std::pow(0.01 * 255, 2), C2 = std::pow(0.03 * 255, 2);
  double sum = 0;
  int64_t n = 0;
  for (int64_t y = 0; y + 11 <= h; ++y)
    for (int64_t x = 0; x + 11 <= w; ++x) {
      double ma = 0, mb = 0;
      for (int i = 0; i < 11; ++i)
        for (int j = 0; j < 11; ++j) {
          const double wt = g[i] * g[j] / (gs * gs);
          ma += wt * A[y + i][x + j];
          mb += wt * B[y + i][x + j];
        }
      double va = 0, vb = 0, cab = 0;
      for (int i = 0; i < 11; ++i)
        for (int j = 0; j < 11; ++j) {
          const double wt = g[i] * g[j] / (gs * gs);
          const double da = A[y + i][x + j] - ma, db = B[y + i][x + j] - mb;
          va += wt * da * da;
          vb += wt * db * db;
          cab += wt * da * db;
        }
      sum += (2 * ma * mb + C1) * (2 * cab + C2) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      ++n;
    }
  return sum / static_cast<double>(n);
}

TEST(Psnr, IdenticalImagesGiveInfinityAndSsimOne) {
  const torch::Tensor rgb = random_u8(3, 32, 40);
  EXPECT_EQ(psnr(rgb, rgb, {}), std::numeric_limits<double>::infinity());
  EXPECT_EQ(psnr(rgb, rgb, {4, false}), std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(ssim(rgb, rgb, {}), 1.0);
  EXPECT_DOUBLE_EQ(ssim(rgb, rgb, {2, false}), 1.0);
  // Differences below half a gray level vanish in the 8-bit quantisation.
  EXPECT_EQ(psnr(rgb + 0.4f / 255.f, rgb, {}), std::numeric_limits<double>::infinity());
}

TEST(Psnr, ConstantGrayOffsetIsTwentyLog10Of255OverK) {
  const torch::Tensor hr = random_u8(1, 24, 31, 20, 200, 3);
  for (int k : {1, 2, 5, 17, 50}) {
    const torch::Tensor sr = hr + static_cast<float>(k) / 255.f;
    EXPECT_NEAR(psnr(sr, hr, {}), 20.0 * std::log10(255.0 / k), 1e-9) << "k=" << k;
    EXPECT_NEAR(psnr(hr, sr, {3, true}), 20.0 * std::log10(255.0 / k), 1e-9) << "k=" << k;
  }
}

TEST(Psnr, ConstantRgbOffsetOnAllChannels) {
  const torch::Tensor hr = random_u8(3, 20, 22, 20, 200, 4);
  const int k = 10;
  const torch::Tensor sr = hr + static_cast<float>(k) / 255.f;
  // Luma: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 moves by k (65.481 + 128.553 + 24.966) / 255
  // = 219 k / 255 levels.
  EXPECT_NEAR(psnr(sr, hr, {}), 20.0 * std::log10(255.0 / (219.0 * k / 255.0)), 1e-9);
  EXPECT_NEAR(psnr(sr, hr, {2, true}), 20.0 * std::log10(255.0 / (219.0 * k / 255.0)), 1e-9);
  // RGB scoring: every channel is off by k levels.
  EXPECT_NEAR(psnr(sr, hr, {0, false}), 20.0 * std::log10(255.0 / k), 1e-9);
}

TEST(Psnr, ClipsOutOfRangeValuesLikeUint8) {
  const torch::Tensor hr = torch::ones({1, 16, 16});
  const torch::Tensor sr = torch::full({1, 16, 16}, 1.7f);  // clipped to 255 -> identical
  EXPECT_EQ(psnr(sr, hr, {}), std::numeric_limits<double>::infinity());
}

TEST(Psnr, CropBorderArithmetic) {
  // 20x30 gray: HR all 0, SR has a 2-pixel frame of value 10 (levels).
  torch::Tensor hr = torch::zeros({1, 20, 30});
  torch::Tensor sr = torch::full({1, 20, 30}, 10.f / 255.f);
  sr.slice(1, 2, 18).slice(2, 2, 28).zero_();
  EXPECT_EQ(psnr(sr, hr, {2, true}), std::numeric_limits<double>::infinity());
  // crop 1: 18x28 = 504 pixels remain, of which 504 - 16*26 = 88 are off by 10.
  EXPECT_NEAR(psnr(sr, hr, {1, true}), 10.0 * std::log10(255.0 * 255.0 * 504.0 / (88.0 * 100.0)), 1e-9);
  // crop 0: 600 pixels, 600 - 16*26 = 184 off.
  EXPECT_NEAR(psnr(sr, hr, {0, true}), 10.0 * std::log10(255.0 * 255.0 * 600.0 / (184.0 * 100.0)), 1e-9);
  // Cropping away everything is an error, not a number.
  EXPECT_THROW(psnr(sr, hr, {10, true}), srlab::Error);
  EXPECT_THROW(psnr(sr, hr, {-1, true}), srlab::Error);
}

TEST(Psnr, ColourUsesMatlabLuma) {
  // A pure red image vs black: Y = 16 + 65.481 (R=1) vs 16 -> known Y difference.
  torch::Tensor hr = torch::zeros({3, 16, 16});
  torch::Tensor sr = torch::zeros({3, 16, 16});
  sr[0].fill_(1.0f);
  // Y(red) - Y(black) = 65.481 levels (fractional luma, see metrics.h).
  EXPECT_NEAR(psnr(sr, hr, {}), 20 * std::log10(255.0 / 65.481), 1e-9);
  // RGB scoring: one of three channels off by 255 -> MSE = 255^2 / 3.
  EXPECT_NEAR(psnr(sr, hr, {0, false}), 10.0 * std::log10(3.0), 1e-9);
  // Gray images are scored on their intensity even with y_channel = true.
  EXPECT_NEAR(psnr(sr.slice(0, 0, 1), hr.slice(0, 0, 1), {}), 0.0, 1e-12);
}

TEST(Psnr, ShapeMismatchThrowsWithBothShapes) {
  const torch::Tensor a = torch::zeros({3, 16, 16}), b = torch::zeros({3, 16, 18});
  try {
    psnr(a, b, {});
    FAIL() << "expected srlab::Error";
  } catch (const srlab::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[3, 16, 16]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 16, 18]"), std::string::npos) << msg;
  }
  EXPECT_THROW(ssim(a, b, {}), srlab::Error);
  EXPECT_THROW(psnr(torch::zeros({3, 16, 16}), torch::zeros({1, 16, 16}), {}), srlab::Error);
  EXPECT_THROW(psnr(torch::zeros({2, 16, 16}), torch::zeros({2, 16, 16}), {}), srlab::Error);
  EXPECT_THROW(psnr(torch::zeros({1, 3, 16, 16}), torch::zeros({1, 3, 16, 16}), {}), srlab::Error);
  EXPECT_THROW(psnr(torch::zeros({3, 16, 16}, torch::kUInt8), torch::zeros({3, 16, 16}, torch::kUInt8), {}),
               srlab::Error);
  EXPECT_THROW(psnr(torch::full({1, 16, 16}, NAN), torch::zeros({1, 16, 16}), {}), srlab::Error);
  EXPECT_THROW(psnr(torch::Tensor(), torch::zeros({1, 16, 16}), {}), srlab::Error);
}

TEST(Ssim, ConstantImages) {
  const double C1 = std::pow(0.01 * 255, 2);
  const torch::Tensor a = torch::full({1, 20, 20}, 100.f / 255.f);
  const torch::Tensor b = torch::full({1, 20, 20}, 120.f / 255.f);
  EXPECT_NEAR(ssim(a, a, {}), 1.0, 1e-12);
  // Zero variance: SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1).
  EXPECT_NEAR(ssim(a, b, {}), (2 * 100.0 * 120.0 + C1) / (100.0 * 100.0 + 120.0 * 120.0 + C1), 1e-9);
}

TEST(Ssim, SymmetricAndBelowOne) {
  const torch::Tensor a = random_u8(3, 40, 36, 0, 255, 5);
  const torch::Tensor b = (a + 0.05f * torch::randn({3, 40, 36})).clamp(0, 1);
  for (const MetricOptions o : {MetricOptions{0, true}, MetricOptions{3, false}}) {
    const double ab = ssim(a, b, o), ba = ssim(b, a, o);
    EXPECT_NEAR(ab, ba, 1e-12);
    EXPECT_LT(ab, 1.0);
    EXPECT_GT(ab, 0.0);
  }
}

TEST(Ssim, MatchesBruteForceWindowedReference) {
  torch::manual_seed(7);
  const torch::Tensor hr = torch::rand({1, 23, 27});
  // Correlated SR: smoothed HR plus noise.
  const torch::Tensor sr = (0.7 * hr + 0.3 * torch::rand({1, 23, 27})).to(torch::kFloat32);
  const auto q = [](const torch::Tensor& t) {
    return torch::floor(t.to(torch::kFloat64).clamp(0, 1) * 255 + 0.5)[0].contiguous();
  };
  EXPECT_NEAR(ssim(sr, hr, {}), ssim_reference(q(sr), q(hr)), 1e-10);
  // With a crop of 2 the reference sees the cropped planes.
  const double cropped = ssim_reference(q(sr).slice(0, 2, 21).slice(1, 2, 25).contiguous(),
                                        q(hr).slice(0, 2, 21).slice(1, 2, 25).contiguous());
  EXPECT_NEAR(ssim(sr, hr, {2, true}), cropped, 1e-10);
}

TEST(Ssim, RgbIsMeanOverChannels) {
  const torch::Tensor a = random_u8(3, 24, 24, 0, 255, 8);
  const torch::Tensor b = random_u8(3, 24, 24, 0, 255, 9);
  double mean = 0;
  for (int c = 0; c < 3; ++c) mean += ssim(a.slice(0, c, c + 1), b.slice(0, c, c + 1), {}) / 3.0;
  EXPECT_NEAR(ssim(a, b, {0, false}), mean, 1e-12);
}

TEST(Ssim, TooSmallForWindowThrows) {
  const torch::Tensor a = torch::zeros({1, 14, 30});
  EXPECT_NO_THROW(ssim(a, a, {1, true}));  // 12x28 >= 11x11
  EXPECT_THROW(ssim(a, a, {2, true}), srlab::Error);  // 10x26
}

}  // namespace test_metrics
