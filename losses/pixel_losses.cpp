#include "losses/pixel_losses.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "losses/registry.h"

namespace srlab::losses {

namespace {
std::string shape_text(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}
}  // namespace

void check_same_shape(const torch::Tensor& sr, const torch::Tensor& hr, const std::string& loss) {
  if (!sr.defined() || !hr.defined())
    throw Error(loss + ": sr and hr must both be defined tensors (got sr " + shape_text(sr) + ", hr " +
                shape_text(hr) + ")");
  if (sr.sizes() != hr.sizes())
    throw Error(loss + ": sr and hr shapes differ (sr " + shape_text(sr) + ", hr " + shape_text(hr) +
                "); crop the HR patch to exactly scale x the LR size");
  if (sr.numel() == 0) throw Error(loss + ": sr and hr are empty (shape " + shape_text(sr) + ")");
  if (!sr.is_floating_point() || !hr.is_floating_point())
    throw Error(loss + ": sr and hr must be floating-point tensors in [0,1]; convert uint8 images with "
                       "to(torch::kFloat32).div(255)");
  if (sr.device() != hr.device())
    throw Error(loss + ": sr and hr are on different devices; move both to the training device");
}

torch::Tensor l1_loss(const torch::Tensor& sr, const torch::Tensor& hr) {
  check_same_shape(sr, hr, "l1");
  return (sr - hr).abs().mean();
}

torch::Tensor mse_loss(const torch::Tensor& sr, const torch::Tensor& hr) {
  check_same_shape(sr, hr, "mse");
  return (sr - hr).square().mean();
}

torch::Tensor charbonnier_loss(const torch::Tensor& sr, const torch::Tensor& hr, double eps) {
  if (!(std::isfinite(eps) && eps > 0))
    throw Error("charbonnier: eps must be a finite number > 0 (1e-3 as in LapSRN), got " + std::to_string(eps));
  check_same_shape(sr, hr, "charbonnier");
  return ((sr - hr).square() + eps * eps).sqrt().mean();
}

torch::Tensor L1Loss::forward(const LossInputs& in) const { return srlab::losses::l1_loss(in.sr, in.hr); }

torch::Tensor MSELoss::forward(const LossInputs& in) const { return srlab::losses::mse_loss(in.sr, in.hr); }

CharbonnierLoss::CharbonnierLoss(double eps) : eps_(eps) {
  if (!(std::isfinite(eps) && eps > 0))
    throw Error("charbonnier: eps must be a finite number > 0 (1e-3 as in LapSRN), got " + std::to_string(eps));
}

torch::Tensor CharbonnierLoss::forward(const LossInputs& in) const { return charbonnier_loss(in.sr, in.hr, eps_); }

void register_pixel_losses() {
  register_loss("l1", [](const core::Config&) -> LossPtr { return std::make_shared<L1Loss>(); },
                "mean absolute error (EDSR); no parameters");
  register_loss("mse", [](const core::Config&) -> LossPtr { return std::make_shared<MSELoss>(); },
                "mean squared error (SRCNN/ESPCN); no parameters");
  register_loss(
      "charbonnier",
      [](const core::Config& params) -> LossPtr {
        const double eps = params.get<double>("eps", 1e-3);
        if (!(eps > 0)) params.fail("eps", "must be > 0 (1e-3 as in LapSRN), got " + std::to_string(eps));
        return std::make_shared<CharbonnierLoss>(eps);
      },
      "mean sqrt(diff^2 + eps^2) (LapSRN); parameter eps (default 1e-3)");
}

}  // namespace srlab::losses
