#pragma once
// A port of MATLAB's imresize (Image Processing Toolbox, imresize.m: contributions(), the kernels
// cubic/triangle/box/lanczos2/lanczos3, and resizeAlongDim()), the resampler that made the LR images
// of every classic SR benchmark (Set5, Set14, B100, Urban100; e.g. Dong et al., SRCNN, TPAMI 2016,
// Sec. 4.1; Lim et al., EDSR, CVPRW 2017, Sec. 4.1). It is NOT OpenCV's INTER_CUBIC (a = -0.75, no
// antialiasing), which lands 0.1-0.3 dB off on the published bicubic baselines.
//
// MATLAB semantics reproduced here, per dimension of input length L, output length O and scale s:
//   * output pixel x (1-based) maps to input coordinate u = x/s + 0.5 (1 - 1/s)  (pixel centres aligned);
//   * kernel k of support width K; when s < 1 and antialiasing is on, k is stretched:
//     h(t) = s k(s t), width K/s (e.g. cubic x4 down: width 16);
//   * the taps are left + 0..P-1 with left = floor(u - K/2), P = ceil(K) + 2; weights h(u - tap) are
//     normalised to sum 1 per output pixel; taps outside [1,L] are mirrored (symmetric padding:
//     ... 2 1 | 1 2 ... L | L L-1 ...); tap columns that are zero for every output pixel are dropped;
//   * cubic kernel (Keys 1981, a = -0.5): 1.5|t|^3 - 2.5|t|^2 + 1 on |t| <= 1,
//     -0.5|t|^3 + 2.5|t|^2 - 4|t| + 2 on 1 < |t| <= 2;
//   * the image is resized one dimension at a time, the dimension with the smaller scale first (ties:
//     height first) — MATLAB's order, which matters for non-uniform scales;
//   * with a scale factor, O = ceil(L s) and u uses s itself; with an output size, s = O / L.
// Integer images: MATLAB's resizeAlongDim keeps the input class, so for uint8 input the result of
// the first 1-D pass is rounded (half away from zero) and saturated to uint8 before the second pass.
// imresize() works in floating point end to end (MATLAB's behaviour for double input); regenerating
// the uint8 LR files of Set5/Set14 with it gives about 56 dB PSNR (a few +-1 values).
// imresize_integer() also rounds after each pass, like MATLAB on uint8/uint16 arrays, and lands at
// about 63-67 dB on the same files (differences left are almost all in the first/last LR rows).
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace srlab::data {

/// Interpolation kernels of MATLAB imresize (names in brackets). Support widths: cubic 4, linear 2,
/// box 1, lanczos2 4, lanczos3 6.
enum class ResizeKernel {
  kCubic,     ///< 'bicubic' / 'cubic' (Keys, a = -0.5)
  kLinear,    ///< 'bilinear' / 'triangle'
  kBox,       ///< 'box'
  kLanczos2,  ///< 'lanczos2'
  kLanczos3,  ///< 'lanczos3'
};

/// Parses "bicubic"/"cubic", "bilinear"/"linear"/"triangle", "box", "lanczos2", "lanczos3"
/// (case-insensitive). Throws srlab::Error listing the valid names otherwise.
ResizeKernel parse_resize_kernel(const std::string& name);

/// Resizes by a scale factor (> 0, same for height and width): output size (ceil(H s), ceil(W s)).
/// img: (C,H,W) or (N,C,H,W), float32 or float64, on CPU; the output has the same rank and dtype and is
/// neither clamped nor rounded (call quantize() to get what a uint8 file would store).
/// `antialias` (MATLAB's default true) only matters when downscaling. Not differentiable (the input is
/// detached); multi-threaded over rows (parallel_rows, honouring at::get_num_threads()).
/// Throws srlab::Error for undefined/empty/non-floating/wrongly ranked input, non-finite or <= 0 scale,
/// or when an output side would be 0 pixels.
torch::Tensor imresize(const torch::Tensor& img, double scale, ResizeKernel kernel = ResizeKernel::kCubic,
                       bool antialias = true);

/// Resizes to an explicit output size (out_h, out_w >= 1); the per-dimension scales are
/// out_h / H and out_w / W (MATLAB's imresize(A, [out_h out_w])). Same tensors and errors as above.
torch::Tensor imresize(const torch::Tensor& img, int64_t out_h, int64_t out_w,
                       ResizeKernel kernel = ResizeKernel::kCubic, bool antialias = true);

/// MATLAB imresize applied to an integer image of `bit_depth` bits (8: uint8, 16: uint16), given as
/// floats in [0,1] on the 2^bit_depth - 1 grid (what read_image() returns): the input is snapped to
/// the grid, each 1-D pass is computed in double precision and its result rounded half away from zero
/// and clamped to the grid, as MATLAB does for integer classes. Output: same shape rules as
/// imresize(), same dtype, values on the grid in [0,1]. This is the exact recipe behind the classic
/// benchmark LR files (imresize(uint8 HR, 1/s, 'bicubic')). Throws like imresize(), and for
/// bit_depth other than 8 or 16.
torch::Tensor imresize_integer(const torch::Tensor& img, double scale, int bit_depth = 8,
                               ResizeKernel kernel = ResizeKernel::kCubic, bool antialias = true);

/// MATLAB's output length for a scale factor: ceil(in_length * scale), computed with a 1e-9 tolerance
/// so that floating-point error (e.g. 255 * (1/3) = 85.00000000000001) does not add a pixel.
/// Throws srlab::Error if in_length < 1, scale is not finite and positive, or the result is 0.
int64_t resize_output_length(int64_t in_length, double scale);

/// Per-output-pixel interpolation weights of one dimension (MATLAB's contributions()).
struct ResizeWeights {
  int64_t in_length = 0;
  int64_t out_length = 0;
  int64_t taps = 0;              ///< number of taps per output pixel after dropping all-zero columns
  std::vector<double> weights;   ///< out_length * taps, row-major, each row sums to 1
  std::vector<int64_t> indices;  ///< out_length * taps, 0-based input indices after mirroring
};

/// Computes the weights in double precision. `scale` is the factor used in the coordinate mapping
/// (out_length / in_length for size-based calls). Throws srlab::Error on lengths < 1 or scale <= 0.
ResizeWeights resize_contributions(int64_t in_length, int64_t out_length, double scale, ResizeKernel kernel,
                                   bool antialias);

}  // namespace srlab::data
