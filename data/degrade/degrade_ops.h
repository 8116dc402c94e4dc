#pragma once
// Primitive image degradations on float images: filtering, resizing, noise and JPEG. Deterministic
// functions of their arguments (randomness enters only through the explicit seeds), so the pipelines in
// degradation.h can reproduce a sample from (seed, index).
//
// Image convention here: cv::Mat of type CV_32FC1 (gray) or CV_32FC3 in RGB order, (H,W,C), values
// nominally in [0,1] (intermediate results may leave it until they are clipped).
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace srlab::data {

/// float (C,H,W) tensor (C = 1 or 3) -> CV_32FC(C) (H,W,C) Mat (a copy). Throws srlab::Error otherwise.
cv::Mat chw_to_mat(const torch::Tensor& chw);
/// CV_32FC1/CV_32FC3 Mat -> float32 (C,H,W) tensor (a copy). Throws srlab::Error for other types.
torch::Tensor mat_to_chw(const cv::Mat& mat);

/// Convolves with a kernel (CV_32F, odd size), mirroring the borders without repeating the edge pixel
/// (cv::BORDER_REFLECT_101, numpy's 'reflect', as Real-ESRGAN pads before filtering). Kernels are used
/// as given (correlation); the shipped kernels are point-symmetric, so this equals convolution.
cv::Mat apply_kernel(const cv::Mat& img, const cv::Mat& kernel);

/// Resampling modes of the degradation pipelines (YAML names in brackets).
enum class ResizeMode {
  kBicubic,   ///< "bicubic": MATLAB imresize bicubic (a = -0.5, antialiased when downscaling; data/image/imresize.h)
  kBilinear,  ///< "bilinear": cv::INTER_LINEAR (no antialiasing, as torch's F.interpolate)
  kArea,      ///< "area": cv::INTER_AREA (pixel-area averaging)
  kNearest,   ///< "nearest": cv::INTER_NEAREST
};
/// Parses a YAML name; throws srlab::Error listing the valid names.
ResizeMode parse_resize_mode(const std::string& name);
const char* resize_mode_name(ResizeMode mode);
/// Resizes to exactly out_h x out_w (>= 1) with `mode`. Not clamped.
cv::Mat resize_image(const cv::Mat& img, int out_h, int out_w, ResizeMode mode);

/// Adds zero-mean Gaussian noise of standard deviation sigma_255 / 255; with `gray` one noise plane is
/// shared by all channels (luminance noise), otherwise channels get independent noise. The noise comes
/// from cv::RNG(seed) (a fixed, documented generator), so results are reproducible everywhere.
/// The result is clipped to [0,1].
cv::Mat add_gaussian_noise(const cv::Mat& img, double sigma_255, bool gray, uint64_t seed);
/// The noise field add_gaussian_noise() adds: rows x cols, CV_32FC1 (gray or channels == 1) or
/// CV_32FC3, N(0, (sigma_255 / 255)^2) from cv::RNG(seed) (seed 0 means 1). Shared with the tensor path.
cv::Mat gaussian_noise_field(int rows, int cols, int channels, double sigma_255, bool gray, uint64_t seed);

/// Cumulative Poisson probabilities P(K <= k), k = 0, 1, ... for lambda = level / 255 x vals (level
/// 1..255), truncated once they reach 1 - 1e-12: the inverse-CDF table add_poisson_noise() samples from.
std::vector<double> poisson_level_cdf(int level, double vals);

/// Adds Poisson (shot) noise as Real-ESRGAN does (basicsr/data/degradations.py): the image is rounded to
/// 8-bit levels, the photon count is vals = 2^ceil(log2(number of distinct levels)), the noisy image is
/// Poisson(x vals) / vals, and `scale` times its difference to x is added. The noise variance is thus
/// scale^2 x / vals, proportional to intensity. With `gray` the noise is drawn on the BT.601 luma
/// (0.299 R + 0.587 G + 0.114 B) and added to every channel. Counts are drawn by inverse-transform
/// sampling (a CDF table per intensity level, one uniform01() draw per sample from a std::mt19937_64
/// seeded with `seed`), so results are the same with every standard library. Clipped to [0,1].
cv::Mat add_poisson_noise(const cv::Mat& img, double scale, bool gray, uint64_t seed);

/// JPEG round trip: the image is clipped, rounded to 8 bits, encoded with OpenCV's libjpeg encoder at
/// `quality` (1..100, 4:2:0 chroma subsampling as the encoder's default) and decoded. Returns floats in
/// [0,1] on the 8-bit grid. Throws srlab::Error for a quality outside 1..100.
cv::Mat jpeg_roundtrip(const cv::Mat& img, int quality);

/// Clips to [0,1] and rounds to the 8-bit grid (round(255 x) / 255, OpenCV's saturate_cast rounding).
cv::Mat quantize_8bit(const cv::Mat& img);

}  // namespace srlab::data
