#include <gtest/gtest.h>

#include "core/error.h"
#include "data/image/color.h"

using namespace srlab::data;

namespace test_color {
torch::Tensor pixel(double r, double g, double b) {
  return torch::tensor({r, g, b}, torch::kFloat64).view({3, 1, 1});
}

TEST(Color, HandValuesOfMatlabRgb2ycbcr) {
  // MATLAB rgb2ycbcr: white -> (235, 128, 128), black -> (16, 128, 128).
  auto w = rgb_to_ycbcr(pixel(1, 1, 1)) * 255.0;
  EXPECT_NEAR(w[0][0][0].item<double>(), 235.0, 1e-9);
  EXPECT_NEAR(w[1][0][0].item<double>(), 128.0, 1e-9);
  EXPECT_NEAR(w[2][0][0].item<double>(), 128.0, 1e-9);
  auto k = rgb_to_ycbcr(pixel(0, 0, 0)) * 255.0;
  EXPECT_NEAR(k[0][0][0].item<double>(), 16.0, 1e-9);
  EXPECT_NEAR(k[1][0][0].item<double>(), 128.0, 1e-9);
  // Pure red: Y = 16 + 65.481, Cb = 128 - 37.797, Cr = 128 + 112.
  auto r = rgb_to_ycbcr(pixel(1, 0, 0)) * 255.0;
  EXPECT_NEAR(r[0][0][0].item<double>(), 81.481, 1e-9);
  EXPECT_NEAR(r[1][0][0].item<double>(), 90.203, 1e-9);
  EXPECT_NEAR(r[2][0][0].item<double>(), 240.0, 1e-9);
  // Pure blue: Cb = 128 + 112 = 240 (the top of the chroma range).
  EXPECT_NEAR((rgb_to_ycbcr(pixel(0, 0, 1)) * 255.0)[1][0][0].item<double>(), 240.0, 1e-9);
  // A mid grey value: Y = 16 + 219 * 0.5.
  EXPECT_NEAR((rgb_to_y(pixel(0.5, 0.5, 0.5)) * 255.0)[0][0][0].item<double>(), 125.5, 1e-9);
}

TEST(Color, RgbToYShapesAndAgreement) {
  torch::manual_seed(7);
  const auto x = torch::rand({2, 3, 5, 6});
  const auto y = rgb_to_y(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 1, 5, 6}));
  EXPECT_EQ(y.scalar_type(), torch::kFloat32);
  EXPECT_LT((y - rgb_to_ycbcr(x).slice(1, 0, 1)).abs().max().item<float>(), 1e-6);
  const auto manual = (16.0 + 65.481 * x.select(1, 0) + 128.553 * x.select(1, 1) + 24.966 * x.select(1, 2)) / 255.0;
  EXPECT_LT((y.squeeze(1) - manual).abs().max().item<float>(), 1e-6);
  EXPECT_GE(y.min().item<float>(), 16.0f / 255.0f - 1e-6f);
  EXPECT_LE(y.max().item<float>(), 235.0f / 255.0f + 1e-6f);
  EXPECT_EQ(rgb_to_y(torch::rand({3, 4, 4})).sizes(), (std::vector<int64_t>{1, 4, 4}));
}

TEST(Color, RoundTrip) {
  torch::manual_seed(8);
  const auto x = torch::rand({3, 8, 9}, torch::kFloat64);
  EXPECT_LT((ycbcr_to_rgb(rgb_to_ycbcr(x)) - x).abs().max().item<double>(), 1e-12);
  // MATLAB ycbcr2rgb([235 128 128]/255) = white.
  const auto white = ycbcr_to_rgb(torch::tensor({235.0, 128.0, 128.0}, torch::kFloat64).view({3, 1, 1}) / 255.0);
  EXPECT_LT((white - 1.0).abs().max().item<double>(), 1e-12);
}

TEST(Color, Errors) {
  EXPECT_THROW(rgb_to_y(torch::rand({1, 4, 4})), srlab::Error);
  EXPECT_THROW(rgb_to_y(torch::rand({4, 4})), srlab::Error);
  EXPECT_THROW(rgb_to_ycbcr(torch::ones({3, 2, 2}, torch::kUInt8)), srlab::Error);
  EXPECT_THROW(ycbcr_to_rgb(torch::Tensor()), srlab::Error);
}

}  // namespace test_color
