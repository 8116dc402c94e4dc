// Blur kernels of the Real-ESRGAN degradation model: normalisation, symmetry, second moments, sinc
// frequency response, and the mixed sampler.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "core/config.h"
#include "data/degrade/blur_kernels.h"
#include "tests/data/helpers.h"

namespace srlab::data {
namespace test_blur_kernels {

constexpr double kPi = 3.14159265358979323846;

double sum_of(const cv::Mat& k) { return cv::sum(k)[0]; }

// E[x^a y^b] of a kernel seen as a distribution (x = column offset, y = row offset from the centre).
double moment(const cv::Mat& k, int a, int b) {
  const int h = k.rows / 2;
  double m = 0.0;
  for (int r = 0; r < k.rows; ++r)
    for (int c = 0; c < k.cols; ++c) m += k.at<float>(r, c) * std::pow(c - h, a) * std::pow(r - h, b);
  return m;
}

bool point_symmetric(const cv::Mat& k, double tol = 1e-7) {
  for (int r = 0; r < k.rows; ++r)
    for (int c = 0; c < k.cols; ++c)
      if (std::abs(k.at<float>(r, c) - k.at<float>(k.rows - 1 - r, k.cols - 1 - c)) > tol) return false;
  return true;
}

// Frequency response along the column axis at omega (rad/pixel): sum k(r,c) cos(omega (c - h)).
double response(const cv::Mat& k, double omega) {
  const int h = k.rows / 2;
  double s = 0.0;
  for (int r = 0; r < k.rows; ++r)
    for (int c = 0; c < k.cols; ++c) s += k.at<float>(r, c) * std::cos(omega * (c - h));
  return s;
}

TEST(BlurKernels, EveryFamilySumsToOneAndIsPointSymmetric) {
  const std::vector<cv::Mat> kernels = {
      gaussian_kernel(21, 2.0, 2.0, 0.0),          gaussian_kernel(15, 3.0, 0.7, 0.6),
      generalized_gaussian_kernel(13, 1.5, 0.8, 1.1, 0.5), generalized_gaussian_kernel(21, 2.5, 2.5, 0.0, 4.0),
      plateau_kernel(17, 1.2, 2.4, -0.3, 1.5),     sinc_kernel(21, kPi / 3),
      sinc_kernel(7, kPi)};
  for (const auto& k : kernels) {
    EXPECT_EQ(k.type(), CV_32F);
    EXPECT_NEAR(sum_of(k), 1.0, 1e-5);
    EXPECT_TRUE(point_symmetric(k));
  }
  // Isotropic kernels are also symmetric under transposition.
  const cv::Mat iso = gaussian_kernel(11, 1.3, 1.3, 0.0);
  EXPECT_LT(cv::norm(iso, iso.t(), cv::NORM_INF), 1e-7);
}

TEST(BlurKernels, GaussianSecondMomentsMatchSigma) {
  // Large support (20 px radius) so truncation does not bias the moments.
  const cv::Mat iso = gaussian_kernel(41, 2.0, 2.0, 0.0);
  EXPECT_NEAR(moment(iso, 2, 0), 4.0, 0.01);
  EXPECT_NEAR(moment(iso, 0, 2), 4.0, 0.01);
  EXPECT_NEAR(moment(iso, 1, 1), 0.0, 1e-6);

  const cv::Mat aniso = gaussian_kernel(41, 3.0, 1.0, 0.0);  // sigma_x along columns
  EXPECT_NEAR(moment(aniso, 2, 0), 9.0, 0.02);
  EXPECT_NEAR(moment(aniso, 0, 2), 1.0, 0.01);

  const cv::Mat rot90 = gaussian_kernel(41, 3.0, 1.0, kPi / 2);
  EXPECT_NEAR(moment(rot90, 2, 0), 1.0, 0.01);
  EXPECT_NEAR(moment(rot90, 0, 2), 9.0, 0.02);

  // theta = 45 deg: Sigma_xy = cos sin (sx^2 - sy^2) = 4.
  const cv::Mat rot45 = gaussian_kernel(41, 3.0, 1.0, kPi / 4);
  EXPECT_NEAR(moment(rot45, 1, 1), 4.0, 0.02);
  EXPECT_NEAR(moment(rot45, 2, 0), 5.0, 0.02);
}

TEST(BlurKernels, GeneralizedGaussianWithBetaOneIsTheGaussian) {
  const cv::Mat g = gaussian_kernel(15, 2.2, 1.1, 0.4);
  const cv::Mat gg = generalized_gaussian_kernel(15, 2.2, 1.1, 0.4, 1.0);
  EXPECT_LT(cv::norm(g, gg, cv::NORM_INF), 1e-7);
  // beta < 1 has heavier tails: more mass far from the centre than the Gaussian of the same sigma.
  const cv::Mat heavy = generalized_gaussian_kernel(21, 1.5, 1.5, 0.0, 0.5);
  const cv::Mat gauss = gaussian_kernel(21, 1.5, 1.5, 0.0);
  EXPECT_GT(heavy.at<float>(10, 20), gauss.at<float>(10, 20));
}

TEST(BlurKernels, PlateauPeaksAtTheCentre) {
  const cv::Mat k = plateau_kernel(15, 2.0, 2.0, 0.0, 2.0);
  double mn, mx;
  cv::Point pmax;
  cv::minMaxLoc(k, &mn, &mx, nullptr, &pmax);
  EXPECT_EQ(pmax, cv::Point(7, 7));
  EXPECT_GT(mn, 0.0);
}

TEST(BlurKernels, SincPassesBelowAndStopsAboveTheCutoff) {
  const cv::Mat k = sinc_kernel(21, kPi / 2);
  EXPECT_NEAR(response(k, 0.0), 1.0, 1e-5);
  EXPECT_GT(response(k, 0.25 * kPi), 0.9);     // well inside the pass band
  EXPECT_LT(std::abs(response(k, 0.8 * kPi)), 0.1);  // well inside the stop band
  // A lower cutoff blurs more.
  EXPECT_LT(response(sinc_kernel(21, kPi / 3), 0.45 * kPi), response(sinc_kernel(21, 2 * kPi / 3), 0.45 * kPi));
}

TEST(BlurKernels, BadArgumentsThrow) {
  testing::expect_error_containing([] { gaussian_kernel(8, 1.0, 1.0, 0.0); }, "odd");
  testing::expect_error_containing([] { gaussian_kernel(7, 0.0, 1.0, 0.0); }, "sigma");
  testing::expect_error_containing([] { sinc_kernel(7, 4.0); }, "cutoff");
  testing::expect_error_containing([] { plateau_kernel(7, 1.0, 1.0, 0.0, -1.0); }, "beta");
}

TEST(BlurKernels, SamplerDrawsOddSizesAndTheConfiguredFamilies) {
  KernelSamplerOptions o;
  o.weights = {{"aniso", 1.0}, {"sinc", 1.0}};
  std::mt19937_64 rng(7);
  std::set<int> sizes;
  int sinc = 0;
  for (int i = 0; i < 2000; ++i) {
    const SampledKernel s = sample_kernel(o, rng);
    ASSERT_TRUE(s.type == KernelType::kAniso || s.type == KernelType::kSinc);
    ASSERT_EQ(s.size % 2, 1);
    ASSERT_EQ(s.kernel.rows, s.size);
    sizes.insert(s.size);
    if (s.type == KernelType::kSinc) {
      ++sinc;
      // Real-ESRGAN's cutoff rule: >= pi/3 below size 13, >= pi/5 otherwise.
      EXPECT_GE(s.omega_deg, s.size < 13 ? 60.0 : 36.0);
    } else {
      EXPECT_GE(s.sigma_x, 0.2);
      EXPECT_LE(s.sigma_y, 3.0);
    }
  }
  EXPECT_EQ(sizes, (std::set<int>{7, 9, 11, 13, 15, 17, 19, 21}));
  EXPECT_NEAR(sinc / 2000.0, 0.5, 0.05);
  // Same seed, same kernels.
  std::mt19937_64 a(3), b(3);
  EXPECT_EQ(cv::norm(sample_kernel(KernelSamplerOptions{}, a).kernel, sample_kernel(KernelSamplerOptions{}, b).kernel,
                     cv::NORM_INF),
            0.0);
}

TEST(BlurKernels, OptionsFromYamlAreValidated) {
  const auto cfg = core::Config::parse("kernel_size: [9, 15]\nsigma: 1.6\nkernels: {iso: 1}\n");
  const KernelSamplerOptions o = KernelSamplerOptions::read(cfg, {});
  EXPECT_EQ(o.size_min, 9);
  EXPECT_EQ(o.size_max, 15);
  EXPECT_EQ(o.sigma.lo, 1.6);
  EXPECT_EQ(o.sigma.hi, 1.6);
  testing::expect_error_containing(
      [] { KernelSamplerOptions::read(core::Config::parse("kernel_size: [8, 15]"), {}); }, "kernel_size");
  testing::expect_error_containing(
      [] { KernelSamplerOptions::read(core::Config::parse("kernels: {gauss: 1}"), {}); }, "allowed: iso");
  testing::expect_error_containing(
      [] { KernelSamplerOptions::read(core::Config::parse("sigma: [3, 1]"), {}); }, "lo <= hi");
}

}  // namespace srlab::data

}  // namespace test_blur_kernels
