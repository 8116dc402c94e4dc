// Degradation ops (noise, JPEG, resize) and pipelines (bicubic, first/second order, sequence).
#include <gtest/gtest.h>

#include <cmath>

#include "core/config.h"
#include "core/paths.h"
#include "data/degrade/blur_kernels.h"
#include "data/degrade/degradation.h"
#include "data/degrade/degrade_preview.h"
#include "data/degrade/degrade_ops.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"
#include "data/datasets/transforms.h"
#include "tests/data/helpers.h"

namespace srlab::data {
namespace test_degradation {

cv::Mat constant_image(int h, int w, float v) { return cv::Mat(h, w, CV_32FC3, cv::Scalar(v, v, v)); }

// A real HR image (Set5 img_001, baby 512x512), mod-cropped to 4.
torch::Tensor baby_hr() {
  static const torch::Tensor hr =
      mod_crop(read_image(core::shared_data_dir() / "benchmarks/Set5/x4/HR/img_001.png").pixels, 4).contiguous();
  return hr;
}

double mat_psnr(const cv::Mat& a, const cv::Mat& b) { return cv::PSNR(a, b, 1.0); }

TEST(DegradeOps, GaussianNoiseHasTheRequestedStatistics) {
  const cv::Mat img = constant_image(256, 256, 0.5f);
  const cv::Mat out = add_gaussian_noise(img, 10.0, false, 42);
  cv::Scalar mean, stddev;
  cv::meanStdDev(cv::Mat(out - img).reshape(1), mean, stddev);
  EXPECT_NEAR(mean[0], 0.0, 1e-3);
  EXPECT_NEAR(stddev[0], 10.0 / 255.0, 0.03 * 10.0 / 255.0);
  // Colour noise: channels differ; gray noise: identical across channels.
  std::vector<cv::Mat> ch;
  cv::split(out, ch);
  EXPECT_GT(cv::norm(ch[0], ch[1], cv::NORM_INF), 0.0);
  cv::split(add_gaussian_noise(img, 10.0, true, 42), ch);
  EXPECT_EQ(cv::norm(ch[0], ch[1], cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(ch[0], ch[2], cv::NORM_INF), 0.0);
  // Same seed, same noise; another seed, other noise.
  EXPECT_EQ(cv::norm(out, add_gaussian_noise(img, 10.0, false, 42), cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(out, add_gaussian_noise(img, 10.0, false, 43), cv::NORM_INF), 0.0);
  // Clipped to [0,1].
  double mn, mx;
  cv::minMaxLoc(add_gaussian_noise(constant_image(64, 64, 0.99f), 50.0, false, 1).reshape(1), &mn, &mx);
  EXPECT_GE(mn, 0.0);
  EXPECT_LE(mx, 1.0);
}

TEST(DegradeOps, PoissonNoiseVarianceIsProportionalToIntensity) {
  // Left half 51/255, right half 153/255, plus one row holding all 256 levels so that vals = 256.
  cv::Mat img(257, 512, CV_32FC3);
  for (int r = 0; r < img.rows; ++r)
    for (int c = 0; c < img.cols; ++c) {
      const float v = r == 256 ? (c % 256) / 255.0f : (c < 256 ? 51.0f : 153.0f) / 255.0f;
      img.at<cv::Vec3f>(r, c) = cv::Vec3f(v, v, v);
    }
  const cv::Mat noise = cv::Mat(add_poisson_noise(img, 1.0, false, 5) - img);
  cv::Scalar m_lo, s_lo, m_hi, s_hi;
  cv::meanStdDev(noise(cv::Rect(0, 0, 256, 256)).clone().reshape(1), m_lo, s_lo);
  cv::meanStdDev(noise(cv::Rect(256, 0, 256, 256)).clone().reshape(1), m_hi, s_hi);
  const double var_lo = s_lo[0] * s_lo[0], var_hi = s_hi[0] * s_hi[0];
  // Expected variance x / vals (x = intensity, vals = 256).
  EXPECT_NEAR(var_lo, 0.2 / 256.0, 0.1 * 0.2 / 256.0);
  EXPECT_NEAR(var_hi, 0.6 / 256.0, 0.1 * 0.6 / 256.0);
  EXPECT_NEAR(var_hi / var_lo, 3.0, 0.3);
  EXPECT_NEAR(m_lo[0], 0.0, 2e-3);
  // Scale multiplies the standard deviation.
  cv::Scalar m2, s2;
  cv::meanStdDev(cv::Mat(add_poisson_noise(img, 0.5, false, 5) - img)(cv::Rect(256, 0, 256, 256)).clone().reshape(1), m2,
                 s2);
  EXPECT_NEAR(s2[0], 0.5 * s_hi[0], 0.05 * s_hi[0]);
}

TEST(DegradeOps, JpegQualityOrdersPsnrAndHundredIsNearLossless) {
  const cv::Mat img = chw_to_mat(baby_hr());
  double last = 0.0;
  for (int q : {10, 30, 50, 70, 90}) {
    const double p = mat_psnr(img, jpeg_roundtrip(img, q));
    EXPECT_GT(p, last) << "quality " << q;
    last = p;
  }
  const double p100 = mat_psnr(img, jpeg_roundtrip(img, 100));
  EXPECT_GT(p100, last);
  EXPECT_GT(p100, 40.0);
  testing::expect_error_containing([&] { jpeg_roundtrip(img, 0); }, "quality");
}

TEST(DegradeOps, ResizeModesReachTheRequestedSize) {
  const cv::Mat img = chw_to_mat(baby_hr()).colRange(0, 100).rowRange(0, 60).clone();
  for (const char* m : {"bicubic", "bilinear", "area", "nearest"}) {
    const cv::Mat out = resize_image(img, 15, 25, parse_resize_mode(m));
    EXPECT_EQ(out.rows, 15) << m;
    EXPECT_EQ(out.cols, 25) << m;
  }
  // bicubic is MATLAB imresize.
  const torch::Tensor ref = imresize(mat_to_chw(img), 15, 25);
  EXPECT_TRUE(torch::equal(mat_to_chw(resize_image(img, 15, 25, ResizeMode::kBicubic)), ref));
  testing::expect_error_containing([] { parse_resize_mode("cubic"); }, "bicubic, bilinear");
}

TEST(Degradation, BicubicPipelineIsTheMatlabBenchmarkDownsampling) {
  const torch::Tensor hr = baby_hr();
  const DegradedSample s = Degradation::parse("type: bicubic").apply(hr, 4, 0, 0);
  EXPECT_TRUE(torch::equal(s.lr, imresize_integer(hr, 0.25, 8)));
  const torch::Tensor provided = read_image(core::shared_data_dir() / "benchmarks/Set5/x4/LR/img_001.png").pixels;
  EXPECT_GT(testing::psnr01(s.lr, provided), 50.0);
}

TEST(Degradation, SameSeedAndIndexGiveBitIdenticalLr) {
  const torch::Tensor hr = baby_hr().slice(1, 0, 256).slice(2, 0, 256).contiguous();
  for (const char* type : {"first_order", "second_order"}) {
    const Degradation d = Degradation::parse(std::string("type: ") + type);
    const DegradedSample a = d.apply(hr, 4, 123, 7), b = d.apply(hr, 4, 123, 7);
    ASSERT_EQ(a.lr.sizes(), (std::vector<int64_t>{3, 64, 64})) << type;
    EXPECT_TRUE(torch::equal(a.lr, b.lr)) << type;
    EXPECT_EQ(a.params, b.params) << type;
    // On the 8-bit grid.
    EXPECT_TRUE(torch::equal(a.lr, quantize(a.lr))) << type;
    // Another index (or seed) draws another degradation.
    EXPECT_FALSE(torch::equal(a.lr, d.apply(hr, 4, 123, 8).lr)) << type;
    EXPECT_FALSE(torch::equal(a.lr, d.apply(hr, 4, 124, 7).lr)) << type;
  }
}

TEST(Degradation, FirstOrderRecordsEveryStageItApplied) {
  const torch::Tensor hr = baby_hr().slice(1, 0, 128).slice(2, 0, 128).contiguous();
  const DegradedSample s = Degradation::parse("type: first_order").apply(hr, 4, 1, 0);
  ASSERT_EQ(s.params["steps"].size(), 4u);
  EXPECT_EQ(s.params["steps"][0]["type"], "blur");
  EXPECT_EQ(s.params["steps"][1]["type"], "resize");
  EXPECT_EQ(s.params["steps"][2]["type"], "noise");
  EXPECT_EQ(s.params["steps"][3]["type"], "jpeg");
  EXPECT_EQ(s.params["type"], "first_order");
  // Stages with prob 0 are skipped and not recorded.
  const DegradedSample t =
      Degradation::parse("type: first_order\nnoise: {prob: 0}\njpeg: {prob: 0}\nblur: {prob: 0}").apply(hr, 4, 1, 0);
  ASSERT_EQ(t.params["steps"].size(), 1u);
  EXPECT_NE(describe_step(s.params["steps"][3]).find("jpeg q"), std::string::npos);
}

TEST(Degradation, SequenceMatchesTheOpsItNames) {
  // Gaussian blur sigma 1.6 (13x13) -> bicubic x1/4 -> JPEG q40: the eval degradation of the report.
  const torch::Tensor hr = baby_hr().slice(1, 0, 128).slice(2, 0, 128).contiguous();
  const Degradation d = Degradation::parse(
      "type: sequence\nsteps:\n  - {type: blur, kernels: {iso: 1}, sigma: 1.6, kernel_size: 13}\n"
      "  - {type: resize, modes: {bicubic: 1}}\n  - {type: jpeg, quality: 40}\n");
  const DegradedSample s = d.apply(hr, 4, 0, 0);
  cv::Mat ref = apply_kernel(chw_to_mat(hr), gaussian_kernel(13, 1.6, 1.6, 0.0));
  ref = jpeg_roundtrip(resize_image(ref, 32, 32, ResizeMode::kBicubic), 40);
  EXPECT_TRUE(torch::equal(s.lr, mat_to_chw(ref)));
  // The same LR for every seed and index: nothing in it is random.
  EXPECT_TRUE(torch::equal(s.lr, d.apply(hr, 4, 99, 5).lr));
}

TEST(Degradation, GrayImagesStayGray) {
  const torch::Tensor hr = baby_hr().slice(1, 0, 64).slice(2, 0, 64).mean(0, true).contiguous();
  const DegradedSample s = Degradation::parse("type: second_order").apply(hr, 2, 0, 0);
  EXPECT_EQ(s.lr.sizes(), (std::vector<int64_t>{1, 32, 32}));
  // Values, not just shapes: the gray bicubic pipeline is MATLAB imresize of the gray image (this once
  // read freed memory: a 1-channel Mat -> tensor conversion that did not copy).
  const torch::Tensor gray = quantize(hr);
  for (int rep = 0; rep < 3; ++rep) {
    const torch::Tensor lr = Degradation::parse("type: bicubic").apply(gray, 4, 0, rep).lr;
    std::vector<torch::Tensor> churn;  // reuse freed heap blocks
    for (int k = 0; k < 8; ++k) churn.push_back(torch::full({1, 64, 64}, 0.5f));
    EXPECT_TRUE(torch::equal(lr, imresize_integer(gray, 0.25, 8)));
  }
  const cv::Mat m(5, 7, CV_32FC1, cv::Scalar(0.25));
  torch::Tensor t;
  {
    cv::Mat local = m.clone();
    t = mat_to_chw(local);
  }
  EXPECT_TRUE(torch::allclose(t, torch::full({1, 5, 7}, 0.25f)));
  EXPECT_NE(t.data_ptr(), static_cast<void*>(m.data));
}

TEST(Degradation, ConfigErrorsNameTheKey) {
  testing::expect_error_containing([] { Degradation::parse("type: first_order\njpeg: {qualty: 50}"); }, "jpeg.qualty");
  testing::expect_error_containing([] { Degradation::parse("type: blurr"); }, "known types");
  testing::expect_error_containing([] { Degradation::parse("type: first_order\nnoise: {prob: 2}"); }, "noise.prob");
  testing::expect_error_containing([] { Degradation::parse("type: sequence\nsteps: []"); }, "steps");
  testing::expect_error_containing([] { Degradation::parse("type: resize\nto: somewhere"); }, "'target' or 'random'");
  const Degradation no_resize = Degradation::parse("type: sequence\nsteps: [{type: jpeg, quality: 50}]");
  testing::expect_error_containing([&] { no_resize.apply(torch::rand({3, 16, 16}), 4, 0, 0); }, "LR size");
  const Degradation d = Degradation::parse("type: bicubic");
  testing::expect_error_containing([&] { d.apply(torch::rand({3, 15, 16}), 4, 0, 0); }, "multiple of the scale");
}

TEST(Degradation, PreviewGridHoldsHrAndEverySample) {
  const torch::Tensor hr = baby_hr().slice(1, 0, 64).slice(2, 0, 64).contiguous();
  const Degradation d = Degradation::parse("type: first_order");
  std::vector<DegradedSample> samples;
  for (int i = 0; i < 3; ++i) samples.push_back(d.apply(hr, 4, 0, i));
  const cv::Mat grid = render_degradation_grid(hr, samples);
  // 4 tiles -> 2 x 2 cells, each at least the HR size plus its caption lines.
  EXPECT_EQ(grid.type(), CV_8UC3);
  EXPECT_GE(grid.cols, 2 * 64);
  EXPECT_GE(grid.rows, 2 * (64 + 5 * 14));
  // The HR tile is copied unchanged in the top-left cell (BGR order).
  const cv::Mat tile = grid(cv::Rect(6, 6, 64, 64));
  EXPECT_EQ(cv::norm(tile, tensor_to_mat(hr, 8), cv::NORM_INF), 0.0);
}

}  // namespace srlab::data

}  // namespace test_degradation
