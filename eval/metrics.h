#pragma once
// Full-reference image quality metrics for super-resolution, following the evaluation protocol of the
// published SR tables (see ../shared/data/README.md, "Protocol that the published tables use"):
//
//   1. both images are rounded and clipped to 8-bit values (0..255) first,
//   2. colour images are scored on the luma Y of BT.601 YCbCr as MATLAB's rgb2ycbcr defines it
//      (Y = 16 + 65.481 R + 128.553 G + 24.966 B for R,G,B in [0,1]; range [16,235]), single-channel
//      images on the intensity itself,
//   3. `crop_border` pixels are removed from every side,
//   4. PSNR / SSIM are computed in double precision on the 0..255 scale.
//
// Luma rounding convention (determined empirically against the README's reference table): MATLAB's
// rgb2ycbcr on a uint8 image returns uint8, i.e. Y rounded to an integer, whereas BasicSR's
// to_y_channel keeps a fractional Y. The fractional Y (BasicSR) is used: it reproduces the README's
// bicubic table within 0.005 dB / 0.0001 SSIM on all six Set5/Set14 cells, the rounded Y misses
// Set5 x2 by 0.035 dB / 0.0011 SSIM. (Measurements: kRoundLuma in metrics.cpp.)
#include <torch/torch.h>

namespace srlab::eval {

/// How an SR/HR pair is prepared before scoring.
struct MetricOptions {
  /// Pixels removed from each of the four borders before scoring (the SR convention is crop = scale).
  int crop_border = 0;
  /// For 3-channel images: score the MATLAB BT.601 luma Y only (true, the published-table protocol) or
  /// all three RGB channels (false). Ignored for single-channel images, which are scored as they are.
  bool y_channel = true;
};

/// The image as scored by psnr()/ssim(): quantised to 8 bit (round half up, clip to [0,255]),
/// converted to MATLAB luma when `opts.y_channel` and C == 3, and cropped by `opts.crop_border`.
///
/// @param img  float tensor (C,H,W), C = 1 or 3, RGB, nominal range [0,1] (values outside are clipped).
/// @return     float64 CPU tensor (C',H-2b,W-2b) on the 0..255 scale; C' = 1 for luma/gray, else 3.
/// @throws srlab::Error for an undefined/non-float/wrongly shaped tensor, NaN values, a negative crop,
///         or a crop that leaves no pixels. `what` names the argument in the message (e.g. "sr").
torch::Tensor prepare_for_metric(const torch::Tensor& img, const MetricOptions& opts, const char* what = "image");

/// Peak signal-to-noise ratio, PSNR = 10 log10(255^2 / MSE) in dB, with the MSE taken in double
/// precision over all scored pixels (and channels) of the prepared images (see prepare_for_metric).
///
/// @param sr, hr  float tensors (C,H,W), C = 1 or 3, same shape, RGB in [0,1].
/// @return PSNR in dB; +infinity (std::numeric_limits<double>::infinity()) when the prepared images are
///         identical (MSE = 0).
/// @throws srlab::Error when the shapes differ (the message gives both shapes) or either input is
///         invalid (see prepare_for_metric).
double psnr(const torch::Tensor& sr, const torch::Tensor& hr, const MetricOptions& opts = {});

/// Structural similarity index (Wang, Bovik, Sheikh, Simoncelli, "Image quality assessment: from error
/// visibility to structural similarity", IEEE TIP 2004, Sec. III-B/C, Eqs. 13 and 17): local statistics
/// under an 11x11 Gaussian window with sigma 1.5 (normalised to sum 1), C1 = (0.01 L)^2,
/// C2 = (0.03 L)^2 with L = 255, 'valid' filtering (no padding: the map is (H'-10)x(W'-10)), and the
/// mean of the SSIM map. For 3-channel scoring (y_channel = false) the mean over channels of the
/// per-channel SSIM is returned.
///
/// @param sr, hr  float tensors (C,H,W), C = 1 or 3, same shape, RGB in [0,1].
/// @return SSIM, unitless, in [-1,1]; exactly 1 for identical prepared images.
/// @throws srlab::Error when the shapes differ, either input is invalid, or the cropped image is smaller
///         than the 11x11 window.
double ssim(const torch::Tensor& sr, const torch::Tensor& hr, const MetricOptions& opts = {});

}  // namespace srlab::eval
