#pragma once
// Unsharp masking: the classic "sharpened bicubic" baseline for super-resolution comparisons.
#include <torch/torch.h>

namespace srlab::eval {

/// Parameters of unsharp_mask(), with the semantics of GIMP's / Photoshop's "Unsharp Mask" filter.
struct UnsharpOptions {
  /// Strength: fraction of the high-pass detail (img - blur) added back; 0 = identity. Must be >= 0.
  double amount = 0.5;
  /// Standard deviation of the Gaussian blur, in pixels. Must be > 0.
  double sigma = 1.0;
  /// Pixels whose detail |img - blur| is below this value (intensity units, [0,1] scale) are left
  /// unchanged, so that flat regions and noise are not amplified; 0 sharpens everywhere. Must be >= 0.
  double threshold = 0.0;
};

/// Unsharp mask: out = clamp(img + amount * (img - G_sigma * img), 0, 1), applied per channel, except
/// where |img - G_sigma * img| < threshold (there out = img, clamped). G_sigma is OpenCV's GaussianBlur
/// with the kernel size OpenCV derives from sigma for float32 (odd, about 8 sigma + 1 taps, i.e. a
/// radius of about 4 sigma) and BORDER_REFLECT_101 (mirror without repeating the edge pixel, the
/// OpenCV default). Method: the photographic unsharp mask as in GIMP/Photoshop (see also
/// Gonzalez & Woods, "Digital Image Processing", 3rd ed., Sec. 3.6.3, "Unsharp masking and highboost
/// filtering", Eq. 3.6-9).
///
/// @param img  float tensor (C,H,W) or (N,C,H,W), any C >= 1, values nominally in [0,1]; any device.
/// @return float32 tensor of the same shape and device, values in [0,1].
/// @throws srlab::Error for an undefined/non-float tensor, a dimension other than 3 or 4, an empty
///         image, or invalid options (negative amount/threshold, non-positive or non-finite sigma).
torch::Tensor unsharp_mask(const torch::Tensor& img, const UnsharpOptions& opts = {});

}  // namespace srlab::eval
