#pragma once
// NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan, Bovik, "Making a 'Completely Blind'
// Image Quality Analyzer", IEEE Signal Processing Letters 20(3), 2013): a no-reference score, the
// distance between a multivariate Gaussian fitted to natural-scene-statistics features of the image's
// 96x96 blocks and the pristine model fitted on natural images. Lower is better (more natural).
//
// Follows the official MATLAB release (computequality.m, computefeature.m, estimateaggdparam.m;
// conventions cross-checked with BasicSR basicsr/metrics/niqe.py):
//   * colour images: luma Y of MATLAB rgb2ycbcr on the uint8 image, rounded to an integer as
//     rgb2ycbcr on uint8 returns it; gray images: the intensity (0..255);
//   * the image is cropped to whole 96x96 blocks (from the top-left), no overlap;
//   * MSCN coefficients (Sec. II-A, Eq. 1): mu = w * I, sigma = sqrt(|w * I^2 - mu^2|) with the 7x7
//     Gaussian w of the model file ('replicate' borders, as imfilter), (I - mu) / (sigma + 1);
//   * per block 18 features (Sec. II-B/C): the GGD fit (alpha, (beta_l + beta_r) / 2) of the MSCN
//     values and the AGGD fit (alpha, mean, beta_l, beta_r) of the products with the neighbour along
//     the horizontal, vertical, diagonal and anti-diagonal (circular shift within the block); shape
//     alpha by moment matching over the grid 0.2:0.001:10;
//   * the second scale is MATLAB imresize(I, 0.5) (bicubic, antialiased; data/image/imresize.h) of the
//     cropped luma in double precision, with 48x48 blocks at the same block positions (36 features);
//   * Eq. 10: D = sqrt((mu_p - mu_d)^T pinv((S_p + S_d) / 2) (mu_p - mu_d)), mu_d the NaN-ignoring
//     mean of the block features, S_d the covariance (N-1 normalisation) of the NaN-free blocks.
// Reference: baboon.png of ../shared/data/weights/niqe scores 5.72957 (MATLAB R2021a; unit test).
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace srlab::eval {

/// The pristine multivariate Gaussian model and the MSCN window (modelparameters.mat of the MATLAB
/// release, as shipped by BasicSR in niqe_pris_params.npz; SRLab reads the JSON copy).
struct NiqeModel {
  torch::Tensor mu;      ///< (36,) float64: mean of the pristine features (18 at scale 1, 18 at scale 2)
  torch::Tensor cov;     ///< (36,36) float64: their covariance
  torch::Tensor window;  ///< (7,7) float64: the Gaussian window (sums to 1), fspecial('gaussian', 7, 7/6)
};

/// Where the model file is: `explicit_path` ("${data}" expanded) when non-empty, else $SRLAB_NIQE_MODEL,
/// else <shared data>/weights/niqe/niqe_pris_params.json.
/// @throws srlab::Error listing the places tried when the file does not exist.
std::filesystem::path resolve_niqe_model(const std::string& explicit_path = "");

/// Reads a model JSON file {"mu_pris_param": [36 numbers], "cov_pris_param": [[36] x 36],
/// "gaussian_window": [[7] x 7]} (nlohmann-json).
/// @throws srlab::Error naming the file and the key when the file cannot be read or parsed, a key is
///         missing, a value is not a number, the shapes differ, a value is not finite or the window
///         does not sum to 1 (+-1e-6).
NiqeModel load_niqe_model(const std::filesystem::path& file);

/// Per-block NIQE features of a luma/intensity image.
/// @param luma   (H,W) or (1,H,W) floating tensor on the 0..255 scale (already rounded as wanted), CPU
///               or any device (copied to CPU float64); H, W >= block.
/// @param block  block side in pixels at scale 1 (96 in NIQE; even, >= 8).
/// @return float64 (B, 36): one row per block (blocks in column-major order, as MATLAB's blkproc), the 18
///         scale-1 features then the 18 scale-2 features; NaN where a fit is undefined (e.g. a block with
///         no negative MSCN value).
/// @throws srlab::Error for a wrong shape/dtype, an odd or too small block, an image smaller than a
///         block, or a window that is not 2-D with odd sides.
torch::Tensor niqe_features(const torch::Tensor& luma, const NiqeModel& model, int block = 96);

/// NIQE of a luma/intensity image (0..255 scale; see niqe_features for the tensor) with Eq. 10.
/// @return the NIQE score, unitless, >= 0, lower is more natural.
/// @throws srlab::Error as niqe_features, and when fewer than 2 blocks have defined features (the
///         covariance needs 2), naming the image size.
double niqe_luma(const torch::Tensor& luma, const NiqeModel& model, int block = 96);

/// NIQE of an RGB or gray image as the published SR tables score it: 8-bit quantisation, luma Y of MATLAB
/// rgb2ycbcr rounded to an integer (colour) or the intensity (gray), `crop_border` pixels removed from
/// every side, then niqe_luma with 96-px blocks.
/// @param img  float tensor (C,H,W), C = 1 or 3, RGB in [0,1]; after the crop at least 96x96 px and two
///             blocks with defined features.
/// @throws srlab::Error for invalid input (eval::prepare_for_metric), or as niqe_luma.
double niqe(const torch::Tensor& img, const NiqeModel& model, int crop_border = 0);

}  // namespace srlab::eval
