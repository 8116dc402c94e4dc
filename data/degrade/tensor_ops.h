#pragma once
// Degradation ops on batches of float tensors (N,C,H,W), C = 1 or 3 (RGB), values nominally in [0,1],
// on any device (CPU or CUDA; the device and dtype of the input are kept, float32 or float64). They
// reproduce the OpenCV reference ops of degrade_ops.h on every sample, with per-sample parameters:
// the tensor path of Real-ESRGAN (Wang et al., ICCVW 2021; reference code xinntao/Real-ESRGAN,
// realesrgan/models/realesrgan_model.py and basicsr/utils/img_process_util.py filter2D: per-sample
// kernels as one grouped convolution), but with the OpenCV path's conventions (reflect-101 borders,
// MATLAB bicubic, OpenCV's bilinear/area/nearest sampling, the same noise fields).
// Not differentiable where rounding is involved (quantize_8bit_batch, Poisson levels).
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/degrade/degrade_ops.h"

namespace srlab::data {

/// Stacks k x k CV_32F kernels (odd sides, possibly different sizes) into a float32 (N,K,K) tensor on
/// `device`, K the largest side; smaller kernels are zero-padded around their centre (same filter).
/// Throws srlab::Error for an empty list or a kernel that is not CV_32F with odd square sides.
torch::Tensor stack_kernels(const std::vector<cv::Mat>& kernels, const torch::Device& device);

/// Per-sample correlation of x (N,C,H,W) with kernels (N,K,K) (K odd; kernel n filters every channel of
/// sample n), borders mirrored without repeating the edge pixel (cv::BORDER_REFLECT_101, as
/// apply_kernel()), computed as one grouped conv2d (groups N x C). Output (N,C,H,W), not clipped.
/// Throws srlab::Error for mismatched shapes or an even K.
torch::Tensor filter2d_batch(const torch::Tensor& x, const torch::Tensor& kernels);

/// The (out_len, in_len) float64 CPU matrix of one 1-D resampling pass of `mode`, rows summing to 1:
/// bicubic = MATLAB imresize weights (resize_contributions(), antialiased when shrinking); area =
/// OpenCV INTER_AREA (exact pixel-area overlaps when shrinking, its linear-like rule when enlarging:
/// `shrink` = true when both image sides shrink or stay, as OpenCV decides per image); bilinear =
/// OpenCV INTER_LINEAR (half-pixel centres, clamped borders); nearest = OpenCV INTER_NEAREST
/// (floor(dst x in/out)). Throws srlab::Error for lengths < 1.
torch::Tensor resize_matrix(int64_t in_len, int64_t out_len, ResizeMode mode, bool shrink = true);

/// Resizes x (N,C,H,W) to (N,C,out_h,out_w) as resize_image() does per sample: bicubic and area as two
/// matrix products with resize_matrix(); bilinear and nearest through torch's interpolate (align_corners
/// false, no antialiasing; the same sampling as OpenCV's). Not clamped; same size returns a copy.
torch::Tensor resize_batch(const torch::Tensor& x, int64_t out_h, int64_t out_w, ResizeMode mode);

/// x + noise clipped to [0,1]: noise (N,C,H,W) or (N,1,H,W) (gray: one plane for all channels), e.g.
/// stacked gaussian_noise_tensor() fields, the same fields add_gaussian_noise() draws.
torch::Tensor add_noise_batch(const torch::Tensor& x, const torch::Tensor& noise);

/// gaussian_noise_field() (cv::RNG(seed)) as a float32 (C',H,W) CPU tensor, C' = 1 when gray or channels == 1.
torch::Tensor gaussian_noise_tensor(int channels, int h, int w, double sigma_255, bool gray, uint64_t seed);

/// add_poisson_noise() on one sample x (C,H,W) on any device: the same levels, photon count `vals`, CDF
/// tables and uniform draws (std::mt19937_64(seed), one per non-zero level in OpenCV's pixel order
/// (row, column, channel)), inverted on the device with one searchsorted over all tables. Clipped to [0,1].
/// Throws srlab::Error for a bad shape or a negative/non-finite scale.
torch::Tensor add_poisson_noise_tensor(const torch::Tensor& x, double scale, bool gray, uint64_t seed);

/// Clips to [0,1] and snaps to the 8-bit grid as quantize_8bit() (OpenCV convertTo: round half to
/// even, then v / 255 computed in double and rounded to the tensor's dtype). Any shape and device.
torch::Tensor quantize_8bit_batch(const torch::Tensor& x);

}  // namespace srlab::data
