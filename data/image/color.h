#pragma once
// Colour conversions used by the SR evaluation protocol: ITU-R BT.601 YCbCr, "studio swing", exactly as
// MATLAB's rgb2ycbcr / ycbcr2rgb define it for double input in [0,1] (Image Processing Toolbox;
// the Y channel on which SR papers report PSNR/SSIM, e.g. Lim et al., EDSR, CVPRW 2017, Sec. 4.1):
//   Y  = 16  + ( 65.481 R + 128.553 G +  24.966 B)
//   Cb = 128 + (-37.797 R -  74.203 G + 112.000 B)
//   Cr = 128 + (112.000 R -  93.786 G -  18.214 B)      (R,G,B in [0,1]; Y,Cb,Cr in 0..255 units)
// SRLab returns these divided by 255, so Y lies in [16/255, 235/255] and Cb, Cr in [16/255, 240/255].
// This is NOT OpenCV's full-range YCrCb (cv::COLOR_RGB2YCrCb).
#include <torch/torch.h>

namespace srlab::data {

/// Luma of an RGB image: (...,3,H,W) floating tensor, RGB in [0,1] -> (...,1,H,W) Y/255, same dtype,
/// range [16/255, 235/255] for in-range input (not clamped). Accepts (3,H,W) and (N,3,H,W).
/// Throws srlab::Error for undefined, non-floating, rank < 3 or non-3-channel input.
torch::Tensor rgb_to_y(const torch::Tensor& rgb);

/// Full conversion: (...,3,H,W) RGB in [0,1] -> (...,3,H,W) [Y, Cb, Cr] / 255. Same errors as rgb_to_y.
torch::Tensor rgb_to_ycbcr(const torch::Tensor& rgb);

/// Inverse of rgb_to_ycbcr (MATLAB ycbcr2rgb: the exact inverse of the 3x3 matrix above, computed in
/// double): (...,3,H,W) [Y, Cb, Cr] / 255 -> (...,3,H,W) RGB (not clamped). Same errors as rgb_to_y.
torch::Tensor ycbcr_to_rgb(const torch::Tensor& ycbcr);

}  // namespace srlab::data
