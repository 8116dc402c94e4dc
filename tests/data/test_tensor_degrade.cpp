// The tensor degradation path (tensor_ops.h, tensor_jpeg.h, tensor_pipeline.h) against the OpenCV
// reference path (degrade_ops.h, Degradation::apply) on the same drawn parameters. The tensor path runs on
// the test device (tests/test_device.h, SRLAB_TEST_DEVICE), the OpenCV references on the CPU; the bounds are
// the CPU's (on CUDA TF32 is off, so float32 convolutions and GEMMs differ from the CPU's by ~1e-6, well
// inside them). Quantization (bit-exact) and the parameter draws stay on the CPU.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "core/paths.h"
#include "data/degrade/blur_kernels.h"
#include "data/degrade/degradation.h"
#include "data/degrade/degrade_ops.h"
#include "data/degrade/tensor_jpeg.h"
#include "data/degrade/tensor_ops.h"
#include "data/degrade/tensor_pipeline.h"
#include "data/image/image_io.h"
#include "tests/data/helpers.h"
#include "tests/test_device.h"

namespace srlab::data {
namespace test_tensor_degrade {

using testing::expect_error_containing;
using testing::psnr01;
using srlab::testing::on_test_device;
using srlab::testing::test_device;

std::filesystem::path set14_dir() { return core::shared_data_dir() / "benchmarks/Set14/x4/HR"; }

// A (C,h,w) crop of a Set14 HR image (natural content, edges and texture).
torch::Tensor crop(int image, int h, int w, int top = 0, int left = 0) {
  torch::Tensor px = read_image(set14_dir() / fmt::format("img_{:03d}.png", image)).pixels;
  if (px.size(0) == 1) px = px.expand({3, px.size(1), px.size(2)});  // Set14 holds one gray image
  return px.narrow(1, top, h).narrow(2, left, w).contiguous();
}

// The OpenCV op applied to sample i of a batch, restacked.
template <typename F>
torch::Tensor per_sample(const torch::Tensor& x, F&& f) {
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < x.size(0); ++i) out.push_back(mat_to_chw(f(chw_to_mat(x[i]), i)));
  return torch::stack(out);
}

TEST(TensorDegrade, BlurMatchesOpenCvFilter2dPerSample) {
  const torch::Tensor x = on_test_device(torch::stack({crop(1, 72, 88), crop(2, 72, 88, 40, 30), crop(3, 72, 88, 10, 60)}));
  KernelSamplerOptions o;
  std::mt19937_64 rng(7);
  std::vector<cv::Mat> k;
  for (int i = 0; i < 3; ++i) k.push_back(sample_kernel(o, rng).kernel);
  k[1] = sinc_kernel(21, 1.2);  // the largest size next to smaller ones (zero-padded in the stack)
  k[2] = gaussian_kernel(7, 2.5, 0.6, 0.7);
  const torch::Tensor ref = per_sample(x, [&](const cv::Mat& m, int64_t i) { return apply_kernel(m, k[i]); });
  const torch::Tensor got = filter2d_batch(x, stack_kernels(k, test_device())).cpu();
  EXPECT_GE(psnr01(got, ref), 45.0);
  EXPECT_LT((got - ref).abs().max().item<double>(), 1e-4);
  // Reflect-101 also where the kernel is wider than the image (OpenCV keeps mirroring).
  const torch::Tensor tiny = x.narrow(2, 0, 6).narrow(3, 0, 5).contiguous();
  const torch::Tensor ref_tiny = per_sample(tiny, [&](const cv::Mat& m, int64_t) { return apply_kernel(m, k[1]); });
  const torch::Tensor got_tiny = filter2d_batch(tiny, stack_kernels({k[1], k[1], k[1]}, test_device())).cpu();
  EXPECT_LT((got_tiny - ref_tiny).abs().max().item<double>(), 1e-4);
}

TEST(TensorDegrade, ResizeMatchesOpenCvInEveryMode) {
  const torch::Tensor x = on_test_device(torch::stack({crop(4, 100, 120), crop(5, 100, 120, 50, 50)}));
  const std::vector<std::pair<int, int>> sizes = {{25, 30}, {37, 53}, {50, 60}, {140, 168}, {117, 90}, {100, 131}};
  for (ResizeMode mode : {ResizeMode::kBicubic, ResizeMode::kBilinear, ResizeMode::kArea, ResizeMode::kNearest})
    for (const auto& [h, w] : sizes) {
      const torch::Tensor ref = per_sample(x, [&](const cv::Mat& m, int64_t) { return resize_image(m, h, w, mode); });
      const torch::Tensor got = resize_batch(x, h, w, mode);
      ASSERT_EQ(got.sizes(), ref.sizes());
      EXPECT_GE(psnr01(got, ref), 45.0) << resize_mode_name(mode) << " to " << h << "x" << w;
    }
}

TEST(TensorDegrade, NoiseUsesTheSameFieldsAsOpenCv) {
  const torch::Tensor x = on_test_device(torch::stack({crop(6, 64, 64), crop(7, 64, 64, 30, 30)}));
  for (bool gray : {false, true}) {
    const torch::Tensor ref = per_sample(x, [&](const cv::Mat& m, int64_t i) { return add_gaussian_noise(m, 12.0 + i, gray, 100 + i); });
    const torch::Tensor noise = torch::stack({gaussian_noise_tensor(3, 64, 64, 12.0, gray, 100).expand({3, 64, 64}),
                                              gaussian_noise_tensor(3, 64, 64, 13.0, gray, 101).expand({3, 64, 64})});
    EXPECT_LT((add_noise_batch(x, on_test_device(noise)).cpu() - ref).abs().max().item<double>(), 1e-6) << "gaussian gray " << gray;
    for (int64_t i = 0; i < 2; ++i) {
      const torch::Tensor p_ref = mat_to_chw(add_poisson_noise(chw_to_mat(x[i]), 2.0, gray, 55 + i));
      const torch::Tensor p_got = add_poisson_noise_tensor(x[i], 2.0, gray, 55 + i);
      EXPECT_GE(psnr01(p_got, p_ref), 60.0) << "poisson gray " << gray;
      EXPECT_GT(psnr01(p_got, x[i]), 20.0);  // noise was added, and it is the same noise
      EXPECT_LT(psnr01(p_got, x[i]), 45.0);
    }
  }
}

TEST(TensorDegrade, QuantizeMatchesOpenCvRounding) {
  const torch::Tensor x = torch::linspace(-0.1, 1.1, 20001).view({1, 1, 1, -1});
  const torch::Tensor ref = mat_to_chw(quantize_8bit(chw_to_mat(x[0])));
  EXPECT_TRUE(torch::equal(quantize_8bit_batch(x)[0], ref));
}

TEST(TensorDegrade, JpegQuantTablesFollowLibjpegScaling) {
  EXPECT_EQ(jpeg_quant_table(50, false)[0], 16);   // quality 50: the Annex K table itself
  EXPECT_EQ(jpeg_quant_table(75, false)[0], 8);    // (16 * 50 + 50) / 100
  EXPECT_EQ(jpeg_quant_table(10, true)[63], 255);  // 99 * 500 clamped to baseline
  EXPECT_EQ(jpeg_quant_table(100, true)[5], 1);
  expect_error_containing([] { jpeg_quant_table(0, false); }, "quality");
}

// The bound: >= 40 dB against OpenCV/libjpeg at q 30..95 on every Set14 HR image. Prints the
// mean and minimum PSNR per quality.
TEST(TensorDegrade, JpegMatchesLibjpegOnSet14) {
  std::vector<torch::Tensor> images;
  for (int i = 1; i <= 14; ++i) images.push_back(on_test_device(read_image(set14_dir() / fmt::format("img_{:03d}.png", i)).pixels));
  for (int q : {30, 40, 50, 60, 70, 80, 90, 95}) {
    double sum = 0.0, worst = 1e9;
    for (const torch::Tensor& img : images) {
      const torch::Tensor ref = mat_to_chw(jpeg_roundtrip(chw_to_mat(img), q));
      const double p = psnr01(jpeg_batch(img.unsqueeze(0), {q})[0], ref);
      sum += p;
      worst = std::min(worst, p);
      EXPECT_GE(p, 40.0) << "quality " << q;
    }
    std::printf("[ jpeg q%d ] PSNR tensor vs libjpeg over Set14: mean %.2f dB, min %.2f dB\n", q, sum / 14, worst);
  }
}

TEST(TensorDegrade, JpegBatchHandlesOddSizesGrayAndPerSampleQuality) {
  const torch::Tensor x = on_test_device(torch::stack({crop(8, 37, 45), crop(9, 37, 45, 11, 3)}));
  const torch::Tensor got = jpeg_batch(x, {35, 90});
  for (int64_t i = 0; i < 2; ++i)
    EXPECT_GE(psnr01(got[i], mat_to_chw(jpeg_roundtrip(chw_to_mat(x[i]), i == 0 ? 35 : 90))), 40.0);
  const torch::Tensor gray = x.mean(1, true);
  const torch::Tensor g = jpeg_batch(gray, {60, 60});
  EXPECT_EQ(g.size(1), 1);
  EXPECT_GE(psnr01(g[1], mat_to_chw(jpeg_roundtrip(chw_to_mat(gray[1]), 60))), 40.0);
  expect_error_containing([&] { jpeg_batch(x, {50}); }, "qualities");
}

TEST(TensorDegrade, PlanDrawsExactlyWhatApplyDraws) {
  const torch::Tensor hr = crop(10, 96, 96);
  for (const char* yaml : {"type: first_order", "type: second_order", "type: bicubic",
                           "{type: random_order, steps: [{type: blur}, {type: noise}, {type: resize}]}"}) {
    const Degradation d = Degradation::parse(yaml);
    for (int64_t index : {0, 5, 17}) {
      nlohmann::json params;
      const std::vector<PlannedOp> ops = d.plan(3, 96, 96, 4, 3, index, &params);
      EXPECT_EQ(params, d.apply(hr, 4, 3, index).params) << yaml << " index " << index;
      EXPECT_FALSE(ops.empty());
    }
  }
}

// Whole pipelines: per-sample parameters as the OpenCV path draws them; the outputs agree closely (the
// remaining gap is rounding at 8-bit steps amplified by later JPEG/noise stages).
TEST(TensorDegrade, PipelinesMatchTheOpenCvPathPerSample) {
  const torch::Tensor hr = on_test_device(torch::stack({crop(11, 64, 64), crop(12, 64, 64, 40, 40), crop(13, 64, 64, 20, 80),
                                                        crop(14, 64, 64, 60, 10)}));
  for (const char* yaml : {"type: first_order", "type: second_order", "type: bicubic",
                           "{type: sequence, steps: [{type: blur}, {type: resize, modes: {area: 1}}, {type: jpeg}]}"}) {
    const Degradation d = Degradation::parse(yaml);
    std::vector<nlohmann::json> params;
    const torch::Tensor lr = degrade_batch(d, hr, 4, 9, {0, 1, 2, 3}, &params);
    ASSERT_EQ(lr.sizes(), (torch::IntArrayRef{4, 3, 16, 16}));
    EXPECT_TRUE(torch::equal(lr, quantize_8bit_batch(lr)));  // on the 8-bit grid, in [0,1]
    for (int64_t i = 0; i < 4; ++i) {
      const DegradedSample ref = d.apply(hr[i].cpu(), 4, 9, i);  // the OpenCV path, on the CPU
      EXPECT_EQ(params[static_cast<size_t>(i)], ref.params);
      const double p = psnr01(lr[i], ref.lr);
      std::printf("[ %s #%ld ] PSNR tensor vs OpenCV %.2f dB\n", yaml, static_cast<long>(i), p);
      EXPECT_GE(p, 35.0) << yaml << " sample " << i << ": " << ref.params.dump();
    }
  }
}

TEST(TensorDegrade, BadInputIsReportedClearly) {
  const Degradation d = Degradation::parse("type: first_order");
  expect_error_containing([&] { degrade_batch(d, torch::rand({2, 3, 30, 32}), 4, 0, {0, 1}); }, "multiple of the scale");
  expect_error_containing([&] { filter2d_batch(torch::rand({2, 3, 8, 8}), torch::rand({1, 3, 3})); }, "kernels");
  expect_error_containing([&] { resize_batch(torch::rand({3, 8, 8}), 4, 4, ResizeMode::kArea); }, "(N,C,H,W)");
  const DegradationBatchPlan p = plan_degradation_batch(d, 3, 32, 32, 4, 0, {0, 1});
  expect_error_containing([&] { apply_degradation_plan(torch::rand({3, 3, 32, 32}), p); }, "HR batch");
}

}  // namespace srlab::data

}  // namespace test_tensor_degrade
