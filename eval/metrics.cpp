#include "eval/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/error.h"
#include "core/shape.h"

namespace srlab::eval {
namespace {

// Luma rounding convention. MATLAB's rgb2ycbcr on uint8 input returns uint8 (Y rounded to an
// integer); BasicSR's to_y_channel keeps the fractional Y. Measured on the shared Set5/Set14 bicubic
// files (mean PSNR / SSIM):
//                 fractional Y           rounded Y            README reference
//   Set5  x2   33.6786 / 0.93042    33.6455 / 0.92933     33.68 / 0.9304
//   Set5  x4   28.4318 / 0.81126    28.4189 / 0.81022     28.43 / 0.8113
//   Set14 x2   30.2348 / 0.86917    30.2225 / 0.86842     30.23 / 0.8692
//   Set14 x4   25.9983 / 0.70303    25.9944 / 0.70236     26.00 / 0.7030
// Only the fractional Y reproduces the reference table within 0.01 dB / 0.0005 (x3 too), so Y is NOT
// rounded; the rounded variant is 0.01-0.03 dB and ~0.001 SSIM lower.
constexpr bool kRoundLuma = false;

// 11x11 Gaussian window of Wang et al. 2004 (separable: outer product of this 1-D kernel with itself,
// identical to MATLAB fspecial('gaussian', 11, 1.5) after normalisation).
constexpr int kSsimWin = 11;
constexpr double kSsimSigma = 1.5;

}  // namespace

torch::Tensor prepare_for_metric(const torch::Tensor& img, const MetricOptions& opts, const char* what) {
  if (!img.defined()) throw Error(fmt::format("metric input '{}' is an undefined tensor", what));
  if (img.dim() != 3 || (img.size(0) != 1 && img.size(0) != 3))
    throw Error(fmt::format("metric input '{}' has shape {}; expected (C,H,W) with C = 1 or 3 (RGB in [0,1])",
                            what, core::shape_text(img)));
  if (!img.is_floating_point())
    throw Error(fmt::format("metric input '{}' has dtype {}; expected a float tensor with values in [0,1] "
                            "(divide 8-bit data by 255)",
                            what, std::string(c10::toString(img.scalar_type()))));
  if (opts.crop_border < 0)
    throw Error(fmt::format("metric crop_border is {}; it must be >= 0 (pixels removed from each border)",
                            opts.crop_border));
  const int64_t h = img.size(1), w = img.size(2);
  if (h <= 2 * opts.crop_border || w <= 2 * opts.crop_border)
    throw Error(fmt::format("metric input '{}' of size {}x{} has no pixels left after cropping {} px from "
                            "every border; use a smaller crop_border",
                            what, h, w, opts.crop_border));

  const torch::Tensor src = img.scalar_type() == torch::kFloat64
                                ? img.detach().to(torch::kCPU).contiguous()
                                : img.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const bool luma = img.size(0) == 3 && opts.y_channel;
  const int64_t b = opts.crop_border, oh = h - 2 * b, ow = w - 2 * b;
  torch::Tensor out = torch::empty({luma ? 1 : img.size(0), oh, ow}, torch::kFloat64);
  bool has_nan = false;
  // One fused pass (quantise, luma, crop) over the pixels: several times faster than the equivalent
  // chain of whole-tensor torch ops, which each allocate and traverse a full float64 temporary.
  auto run = [&](const auto* in) {
    // 8-bit quantisation as MATLAB's im2uint8: clip to [0,1], scale, round half away from zero.
    auto q = [&has_nan](double v) {
      if (!(v >= 0.0)) {  // negative or NaN
        has_nan = has_nan || std::isnan(v);
        return 0.0;
      }
      if (v > 1.0) return 255.0;
      return static_cast<double>(static_cast<int>(v * 255.0 + 0.5));  // v >= 0: truncation = floor
    };
    double* o = out.data_ptr<double>();
    const int64_t plane = h * w;
    if (luma) {
      // MATLAB rgb2ycbcr (BT.601, studio swing) on 0..255 values.
      for (int64_t y = b; y < h - b; ++y)
        for (int64_t x = b; x < w - b; ++x) {
          const int64_t k = y * w + x;
          double v = 16.0 + (65.481 * q(in[k]) + 128.553 * q(in[plane + k]) + 24.966 * q(in[2 * plane + k])) / 255.0;
          if (kRoundLuma) v = std::floor(v + 0.5);
          *o++ = v;
        }
    } else {
      for (int64_t c = 0; c < img.size(0); ++c)
        for (int64_t y = b; y < h - b; ++y)
          for (int64_t x = b; x < w - b; ++x) *o++ = q(in[c * plane + y * w + x]);
    }
  };
  if (src.scalar_type() == torch::kFloat64)
    run(src.data_ptr<double>());
  else
    run(src.data_ptr<float>());
  if (has_nan)
    throw Error(fmt::format("metric input '{}' contains NaN values; the method produced an invalid image", what));
  return out;
}

namespace {

// Validates the pair and returns the prepared (C',H',W') float64 tensors.
std::pair<torch::Tensor, torch::Tensor> prepare_pair(const torch::Tensor& sr, const torch::Tensor& hr,
                                                     const MetricOptions& opts, const char* metric) {
  if (sr.defined() && hr.defined() && sr.sizes() != hr.sizes())
    throw Error(fmt::format("{}: image shapes differ: sr {} vs hr {}; the SR output must have exactly the HR "
                            "size (check the scale and mod-crop of the HR image)",
                            metric, core::shape_text(sr), core::shape_text(hr)));
  return {prepare_for_metric(sr, opts, "sr"), prepare_for_metric(hr, opts, "hr")};
}

// SSIM of one plane (H,W) of two float64 images on the 0..255 scale, valid filtering.
double ssim_plane(const cv::Mat& a, const cv::Mat& b) {
  static const cv::Mat g = cv::getGaussianKernel(kSsimWin, kSsimSigma, CV_64F);
  constexpr double C1 = (0.01 * 255) * (0.01 * 255);
  constexpr double C2 = (0.03 * 255) * (0.03 * 255);
  const int r = kSsimWin / 2;
  auto filt = [&](const cv::Mat& src) {
    cv::Mat dst;
    // Border handling only affects the discarded margin: the 'valid' region never touches it.
    cv::sepFilter2D(src, dst, CV_64F, g, g, cv::Point(-1, -1), 0.0, cv::BORDER_REFLECT_101);
    return dst;
  };
  const cv::Mat mu1 = filt(a), mu2 = filt(b), e11 = filt(a.mul(a)), e22 = filt(b.mul(b)), e12 = filt(a.mul(b));
  // SSIM map (Wang et al. 2004, Eq. 13) over the valid region, summed in one pass.
  double sum = 0.0;
  for (int y = r; y < a.rows - r; ++y) {
    const double *m1 = mu1.ptr<double>(y), *m2 = mu2.ptr<double>(y);
    const double *s11 = e11.ptr<double>(y), *s22 = e22.ptr<double>(y), *s12 = e12.ptr<double>(y);
    for (int x = r; x < a.cols - r; ++x) {
      const double mu11 = m1[x] * m1[x], mu22 = m2[x] * m2[x], mu12 = m1[x] * m2[x];
      const double v1 = s11[x] - mu11, v2 = s22[x] - mu22, c12 = s12[x] - mu12;
      sum += ((2 * mu12 + C1) * (2 * c12 + C2)) / ((mu11 + mu22 + C1) * (v1 + v2 + C2));
    }
  }
  return sum / (static_cast<double>(a.rows - 2 * r) * static_cast<double>(a.cols - 2 * r));
}

}  // namespace

double psnr(const torch::Tensor& sr, const torch::Tensor& hr, const MetricOptions& opts) {
  auto [a, b] = prepare_pair(sr, hr, opts, "psnr");
  const double* pa = a.data_ptr<double>();
  const double* pb = b.data_ptr<double>();
  const int64_t n = a.numel();
  double sse = 0.0;
  for (int64_t i = 0; i < n; ++i) sse += (pa[i] - pb[i]) * (pa[i] - pb[i]);
  const double mse = sse / static_cast<double>(n);
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const torch::Tensor& sr, const torch::Tensor& hr, const MetricOptions& opts) {
  auto [a, b] = prepare_pair(sr, hr, opts, "ssim");
  const int64_t c = a.size(0), h = a.size(1), w = a.size(2);
  if (h < kSsimWin || w < kSsimWin)
    throw Error(fmt::format("ssim: the scored image is {}x{} after cropping {} px per border, smaller than the "
                            "{}x{} Gaussian window; use larger images or a smaller crop_border",
                            h, w, opts.crop_border, kSsimWin, kSsimWin));
  double sum = 0.0;
  for (int64_t ch = 0; ch < c; ++ch) {
    const cv::Mat pa(static_cast<int>(h), static_cast<int>(w), CV_64F, a[ch].data_ptr<double>());
    const cv::Mat pb(static_cast<int>(h), static_cast<int>(w), CV_64F, b[ch].data_ptr<double>());
    sum += ssim_plane(pa, pb);
  }
  return sum / static_cast<double>(c);
}

}  // namespace srlab::eval
