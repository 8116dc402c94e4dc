#include "losses/pixel_losses.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/shape.h"
#include "losses/registry.h"

namespace srlab::losses {
using core::shape_text;

namespace {
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

namespace {
void check_usm_options(const UsmOptions& o) {
  if (!(std::isfinite(o.amount) && o.amount >= 0))
    throw Error(fmt::format("usm: amount is {}; it must be a finite value >= 0 (Real-ESRGAN: 0.5)", o.amount));
  if (!(std::isfinite(o.sigma) && o.sigma > 0))
    throw Error(fmt::format("usm: sigma is {}; it must be a finite blur radius > 0 in pixels (Real-ESRGAN: 8.0)",
                            o.sigma));
  if (o.kernel_size < 3 || o.kernel_size % 2 == 0)
    throw Error(fmt::format("usm: kernel_size is {}; it must be odd and >= 3 (Real-ESRGAN: 51)", o.kernel_size));
  if (!(std::isfinite(o.threshold) && o.threshold >= 0))
    throw Error(fmt::format("usm: threshold is {}; it must be >= 0 in [0,1] intensity units (Real-ESRGAN: 10/255)",
                            o.threshold));
}

// Depthwise separable Gaussian blur with reflect-101 padding of a (N,C,H,W) tensor; `k1d` is the
// normalised 1-D kernel (K) in x's dtype/device.
torch::Tensor gaussian_blur(const torch::Tensor& x, const torch::Tensor& k1d) {
  namespace F = torch::nn::functional;
  const int64_t c = x.size(1), k = k1d.size(0), r = k / 2;
  const torch::Tensor padded = F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(torch::kReflect));
  const torch::Tensor kh = k1d.view({1, 1, 1, k}).expand({c, 1, 1, k});
  const torch::Tensor kv = k1d.view({1, 1, k, 1}).expand({c, 1, k, 1});
  const torch::Tensor h = F::conv2d(padded, kh, F::Conv2dFuncOptions().groups(c));
  return F::conv2d(h, kv, F::Conv2dFuncOptions().groups(c));
}

// The USM target of a pixel loss: usm_sharpen(hr) without gradient, or hr itself.
torch::Tensor target_of(const torch::Tensor& hr, const std::optional<UsmOptions>& usm) {
  if (!usm || !hr.defined()) return hr;
  torch::NoGradGuard ng;
  return usm_sharpen(hr, *usm);
}
}  // namespace

torch::Tensor usm_sharpen(const torch::Tensor& img, const UsmOptions& opts) {
  check_usm_options(opts);
  if (!img.defined()) throw Error("usm: the input is an undefined tensor");
  if (img.dim() != 4) {
    std::ostringstream s;
    s << img.sizes();
    throw Error("usm: input has shape " + s.str() + "; expected a batch (N,C,H,W)");
  }
  if (!img.is_floating_point())
    throw Error("usm: input must be a float tensor with values in [0,1] (divide 8-bit data by 255)");
  if (img.numel() == 0) throw Error("usm: input image is empty");
  const int64_t r = opts.kernel_size / 2;
  if (img.size(2) <= r || img.size(3) <= r)
    throw Error(fmt::format("usm: image of {}x{} px is too small for a {}-tap kernel (reflect padding needs H, W > {}); "
                            "use larger HR patches or a smaller usm_kernel_size",
                            img.size(2), img.size(3), opts.kernel_size, r));
  // Normalised 1-D Gaussian in double (as cv::getGaussianKernel for sigma > 0), then x's dtype. The
  // 2-D kernel of Real-ESRGAN is the outer product of this one, so two 1-D passes are equivalent.
  std::vector<double> g(static_cast<size_t>(opts.kernel_size));
  double sum = 0;
  for (int64_t i = 0; i < opts.kernel_size; ++i) {
    const double d = static_cast<double>(i - r);
    g[static_cast<size_t>(i)] = std::exp(-d * d / (2 * opts.sigma * opts.sigma));
    sum += g[static_cast<size_t>(i)];
  }
  for (double& v : g) v /= sum;
  const torch::Tensor k1d =
      torch::tensor(g, torch::TensorOptions().dtype(torch::kFloat64)).to(img.device(), img.scalar_type());

  const torch::Tensor blur = gaussian_blur(img, k1d);
  const torch::Tensor residual = img - blur;
  const torch::Tensor sharp = (img + opts.amount * residual).clamp(0, 1);
  if (opts.threshold == 0) return sharp;
  const torch::Tensor mask = (residual.abs() > opts.threshold).to(img.scalar_type());
  const torch::Tensor soft = gaussian_blur(mask, k1d);
  return soft * sharp + (1 - soft) * img;
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

L1Loss::L1Loss(std::optional<UsmOptions> usm) : usm_(std::move(usm)) {
  if (usm_) check_usm_options(*usm_);
}

torch::Tensor L1Loss::forward(const LossInputs& in) const {
  if (usm_) check_same_shape(in.sr, in.hr, "l1");
  return srlab::losses::l1_loss(in.sr, target_of(in.hr, usm_));
}

MSELoss::MSELoss(std::optional<UsmOptions> usm) : usm_(std::move(usm)) {
  if (usm_) check_usm_options(*usm_);
}

torch::Tensor MSELoss::forward(const LossInputs& in) const {
  if (usm_) check_same_shape(in.sr, in.hr, "mse");
  return srlab::losses::mse_loss(in.sr, target_of(in.hr, usm_));
}

CharbonnierLoss::CharbonnierLoss(double eps, std::optional<UsmOptions> usm) : eps_(eps), usm_(std::move(usm)) {
  if (!(std::isfinite(eps) && eps > 0))
    throw Error("charbonnier: eps must be a finite number > 0 (1e-3 as in LapSRN), got " + std::to_string(eps));
  if (usm_) check_usm_options(*usm_);
}

torch::Tensor CharbonnierLoss::forward(const LossInputs& in) const {
  if (usm_) check_same_shape(in.sr, in.hr, "charbonnier");
  return charbonnier_loss(in.sr, target_of(in.hr, usm_), eps_);
}

namespace {
// Reads `target` (hr | usm_hr) and, for usm_hr, the usm_* keys. The usm_* keys with target hr are an
// error (they would silently do nothing).
std::optional<UsmOptions> read_target(const core::Config& params) {
  static const char* kUsmKeys[] = {"usm_amount", "usm_sigma", "usm_kernel_size", "usm_threshold"};
  const std::string target = params.get<std::string>("target", "hr");
  if (target == "hr") {
    for (const char* k : kUsmKeys)
      if (params.has(k)) params.fail(k, "only used with `target: usm_hr` (the target is hr)");
    return std::nullopt;
  }
  if (target != "usm_hr") params.fail("target", "unknown target '" + target + "'; use hr or usm_hr");
  UsmOptions o;
  o.amount = params.get<double>("usm_amount", o.amount);
  if (!(std::isfinite(o.amount) && o.amount >= 0)) params.fail("usm_amount", "must be a finite value >= 0");
  o.sigma = params.get<double>("usm_sigma", o.sigma);
  if (!(std::isfinite(o.sigma) && o.sigma > 0)) params.fail("usm_sigma", "must be a finite value > 0 (pixels)");
  o.kernel_size = params.get<int64_t>("usm_kernel_size", o.kernel_size);
  if (o.kernel_size < 3 || o.kernel_size % 2 == 0)
    params.fail("usm_kernel_size", "must be odd and >= 3, got " + std::to_string(o.kernel_size));
  o.threshold = params.get<double>("usm_threshold", o.threshold);
  if (!(std::isfinite(o.threshold) && o.threshold >= 0))
    params.fail("usm_threshold", "must be >= 0 ([0,1] intensity units; 0 = no mask)");
  return o;
}
}  // namespace

void register_pixel_losses() {
  register_loss("l1", [](const core::Config& params) -> LossPtr { return std::make_shared<L1Loss>(read_target(params)); },
                "mean absolute error (EDSR); target hr|usm_hr (+ usm_amount, usm_sigma, usm_kernel_size, usm_threshold)");
  register_loss("mse", [](const core::Config& params) -> LossPtr { return std::make_shared<MSELoss>(read_target(params)); },
                "mean squared error (SRCNN/ESPCN); target hr|usm_hr (+ usm_* keys)");
  register_loss(
      "charbonnier",
      [](const core::Config& params) -> LossPtr {
        const double eps = params.get<double>("eps", 1e-3);
        if (!(eps > 0)) params.fail("eps", "must be > 0 (1e-3 as in LapSRN), got " + std::to_string(eps));
        return std::make_shared<CharbonnierLoss>(eps, read_target(params));
      },
      "mean sqrt(diff^2 + eps^2) (LapSRN); parameter eps (default 1e-3), target hr|usm_hr (+ usm_* keys)");
}

}  // namespace srlab::losses
