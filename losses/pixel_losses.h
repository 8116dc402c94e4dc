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
#include <torch/torch.h>

#include "core/config.h"
#include "losses/loss.h"

namespace srlab::losses {

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
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "l1"; }
};

class MSELoss : public Loss {
 public:
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "mse"; }
};

class CharbonnierLoss : public Loss {
 public:
  /// Throws srlab::Error unless eps is finite and > 0.
  explicit CharbonnierLoss(double eps = 1e-3);
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "charbonnier"; }
  double eps() const { return eps_; }

 private:
  double eps_;
};

/// Registers "l1", "mse" and "charbonnier" (called from builtin_losses.cpp).
void register_pixel_losses();

}  // namespace srlab::losses
