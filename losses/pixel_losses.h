#pragma once
// Pixel-wise reconstruction losses between an SR batch and its HR target. All use mean reduction over
// every element (N*C*H*W), so values are per-element averages on the [0,1] intensity scale.
//   l1           mean |sr - hr|                      (EDSR, Lim et al. CVPRW 2017, Sec. 4.2)
//   mse          mean (sr - hr)^2                    (SRCNN, Dong et al. ECCV 2014, Sec. 3.2; ESPCN,
//                                                     Shi et al. CVPR 2016, Sec. 2.2)
//   charbonnier  mean sqrt((sr - hr)^2 + eps^2)      (Charbonnier et al. 1994; LapSRN, Lai et al.
//                                                     CVPR 2017, Sec. 3.2, eps = 1e-3)
// Note: BasicSR's CharbonnierLoss adds eps (default 1e-12) inside the root without squaring; SRLab uses
// the LapSRN form, so `eps` here is in intensity units and the loss of a perfect prediction is eps.
//
// YAML (one item of a `losses:` list, see weighted_loss.h):
//   {type: l1}   {type: mse}   {type: charbonnier, eps: 1.0e-3}
//
// Sharpened target (the "USM GT" of Real-ESRGAN, Wang et al., ICCVW 2021: its released training recipe
// compares the output with an unsharp-masked HR image in the pixel and perceptual losses, options
// l1_gt_usm / percep_gt_usm, for sharper results): every pixel loss accepts
//   target: hr | usm_hr          (default hr; usm_hr = usm_sharpen(hr), computed without gradient)
//   usm_amount: 0.5  usm_sigma: 8.0  usm_kernel_size: 51  usm_threshold: 0.0392   (only with usm_hr)
// The defaults reproduce Real-ESRGAN's USMSharp (weight 0.5, a 51-tap Gaussian, OpenCV's sigma for 51
// taps = 8.0, soft mask at threshold 10/255), e.g. {type: l1, target: usm_hr}.
// The unsharp mask lives here rather than in eval/sharpen.h because losses may not depend on eval
// (sibling libraries); usm_sharpen with usm_threshold 0 equals eval::unsharp_mask (threshold 0) with
// the same Gaussian kernel (tests/losses/test_usm_target.cpp checks it against OpenCV's GaussianBlur).
#include <torch/torch.h>

#include <optional>

#include "core/config.h"
#include "losses/loss.h"

namespace srlab::losses {

/// Parameters of usm_sharpen() (defaults: Real-ESRGAN's USMSharp).
struct UsmOptions {
  /// Fraction of the detail (img - blur) added back; >= 0, finite (Real-ESRGAN's `weight` 0.5).
  double amount = 0.5;
  /// Standard deviation of the Gaussian blur in pixels; > 0, finite. Real-ESRGAN passes sigma 0 to
  /// cv2.getGaussianKernel(51, 0), which derives 0.3 * ((51 - 1) / 2 - 1) + 0.8 = 8.0.
  double sigma = 8.0;
  /// Taps of the (separable) Gaussian kernel; odd, >= 3 (Real-ESRGAN: radius 50 made odd = 51).
  int64_t kernel_size = 51;
  /// Soft-mask threshold on |img - blur| in intensity units ([0,1] scale); >= 0. Real-ESRGAN: 10/255.
  /// 0 disables the mask (plain unsharp mask, out = clamp(img + amount * (img - blur), 0, 1)).
  double threshold = 10.0 / 255.0;
};

/// Unsharp mask of a batch, as Real-ESRGAN's USMSharp (basicsr/utils/img_process_util.py):
///   blur  = G * img          (normalised Gaussian of `kernel_size` taps and `sigma`, applied separably,
///                             reflect padding that does not repeat the edge pixel = OpenCV's
///                             BORDER_REFLECT_101 = torch's "reflect")
///   sharp = clamp(img + amount * (img - blur), 0, 1)
///   mask  = float(|img - blur| > threshold);  soft = G * mask
///   out   = soft * sharp + (1 - soft) * img              (out = sharp when threshold == 0)
/// Method: unsharp masking (Gonzalez & Woods, "Digital Image Processing", 3rd ed., Sec. 3.6.3,
/// Eq. 3.6-9), soft-masked as in Real-ESRGAN's released code (Wang et al., ICCVW 2021).
/// @param img  float tensor (N,C,H,W), any C >= 1, values nominally in [0,1]; any device. H and W must
///             exceed kernel_size / 2 (reflect padding).
/// @return     tensor of img's shape, dtype and device; values in [0,1] where img is. Differentiable
///             w.r.t. img (call it under NoGradGuard for a target).
/// @throws srlab::Error for an undefined, non-float, non-4-D or empty tensor, an image too small for
///         the kernel, or invalid options.
torch::Tensor usm_sharpen(const torch::Tensor& img, const UsmOptions& opts = {});

/// Checks that `sr` and `hr` are defined, non-empty floating tensors of identical shape on the same
/// device (no broadcasting). Throws srlab::Error "<loss>: ..." naming both shapes otherwise.
void check_same_shape(const torch::Tensor& sr, const torch::Tensor& hr, const std::string& loss);

// Call these qualified (srlab::losses::l1_loss): argument-dependent lookup also finds at::l1_loss /
// at::mse_loss for torch::Tensor arguments, so an unqualified call is ambiguous.

/// mean |sr - hr| as a 0-dim tensor. Shapes must match exactly (throws srlab::Error otherwise).
torch::Tensor l1_loss(const torch::Tensor& sr, const torch::Tensor& hr);
/// mean (sr - hr)^2 as a 0-dim tensor. Shapes must match exactly (throws srlab::Error otherwise).
torch::Tensor mse_loss(const torch::Tensor& sr, const torch::Tensor& hr);
/// mean sqrt((sr - hr)^2 + eps^2) as a 0-dim tensor; eps > 0 (throws srlab::Error otherwise, or for
/// mismatched shapes). Differentiable everywhere, gradient (sr-hr)/sqrt((sr-hr)^2+eps^2)/numel.
torch::Tensor charbonnier_loss(const torch::Tensor& sr, const torch::Tensor& hr, double eps = 1e-3);

class L1Loss : public Loss {
 public:
  /// `usm`: compare with usm_sharpen(hr, *usm) instead of hr (target: usm_hr); throws srlab::Error for
  /// invalid options.
  explicit L1Loss(std::optional<UsmOptions> usm = std::nullopt);
  /// Throws srlab::Error for mismatched sr/hr (see check_same_shape) or an image too small for the USM kernel.
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "l1"; }
  /// The unsharp-mask options when the target is usm_hr, else std::nullopt.
  const std::optional<UsmOptions>& usm() const { return usm_; }

 private:
  std::optional<UsmOptions> usm_;
};

class MSELoss : public Loss {
 public:
  /// `usm`: compare with usm_sharpen(hr, *usm) instead of hr (target: usm_hr); throws srlab::Error for
  /// invalid options.
  explicit MSELoss(std::optional<UsmOptions> usm = std::nullopt);
  /// Throws srlab::Error for mismatched sr/hr (see check_same_shape) or an image too small for the USM kernel.
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "mse"; }
  /// The unsharp-mask options when the target is usm_hr, else std::nullopt.
  const std::optional<UsmOptions>& usm() const { return usm_; }

 private:
  std::optional<UsmOptions> usm_;
};

class CharbonnierLoss : public Loss {
 public:
  /// Throws srlab::Error unless eps is finite and > 0, or for invalid `usm` options (target usm_hr).
  explicit CharbonnierLoss(double eps = 1e-3, std::optional<UsmOptions> usm = std::nullopt);
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "charbonnier"; }
  double eps() const { return eps_; }
  const std::optional<UsmOptions>& usm() const { return usm_; }

 private:
  double eps_;
  std::optional<UsmOptions> usm_;
};

/// Registers "l1", "mse" and "charbonnier" (called from builtin_losses.cpp), each with the `target` /
/// `usm_*` keys described in the file comment.
void register_pixel_losses();

}  // namespace srlab::losses
