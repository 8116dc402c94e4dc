#pragma once
// Perceptual (feature-space) loss on the frozen backbone of the LPIPS network (models/features/lpips.h).
//
// Default form (lpips_weighted: false), the feature loss of Johnson et al., "Perceptual Losses for
// Real-Time Style Transfer and Super-Resolution", ECCV 2016, Sec. 3.1 (Eq. 2, "feature reconstruction
// loss"), with several layers weighted as in ESRGAN/BasicSR's PerceptualLoss:
//
//   L(sr, hr) = sum_{l in layers} w_l * mean_{n,c,h,w} rho(phi_l(x_sr) - phi_l(x_hr))
//
// phi_l = tap l of the LPIPS backbone (SqueezeNet 1.1: 7 taps, ReLU outputs with 64, 128, 256, 384, 384,
// 512, 512 channels; alex/vgg: 5 taps), raw activations (not unit-normalised); x = LPIPS's input
// scaling of the image: (2 * img - 1 - shift) / scale (models/features/lpips.h); rho = |.| (criterion l1) or
// (.)^2 (criterion l2). Mean reduction per layer, so values do not depend on the batch or image size.
// With lpips_weighted: true the loss is the LPIPS distance itself (Zhang et al., CVPR 2018, Eq. 1:
// unit-normalised taps, squared difference, learned per-channel weights lin<l>, spatial mean), averaged
// over the batch, restricted to `layers` and multiplied per layer by `layer_weights`; with all layers and
// unit weights it equals mean_n LPIPS(sr_n, hr_n).
//
// NOTE: the LPIPS metric of srlab eval (eval/metrics.h) uses this very backbone and weights, so a model
// trained with this loss is optimised towards the evaluation metric: its LPIPS gains are partly by
// construction and must not be read as independent evidence of perceptual quality (report PSNR/SSIM and,
// ideally, a metric on another backbone alongside).
//
// YAML (one item of a `losses:` list, see weighted_loss.h):
//   {type: perceptual, weight: 1.0}                              # all SqueezeNet taps, l1, weights 1
//   {type: perceptual, layers: [2, 3, 4], layer_weights: [0.5, 1, 1], criterion: l2}
//   {type: perceptual, lpips_weighted: true}                     # the LPIPS distance as a loss
// Keys: weights (path to the LPIPS .pt file; default resolve_lpips_weights(): $SRLAB_LPIPS_WEIGHTS, then
// ${data}/weights/lpips/lpips_<net>_v0.1.pt), net (squeeze (default) | vgg | alex: SRLab ships only the
// squeeze weights, the others must be converted with scripts/convert_lpips_weights.py), layers (tap
// indices, default all), layer_weights (same length as layers, finite >= 0, not all 0; default 1 each),
// criterion (l1 | l2, default l1; not allowed with lpips_weighted), lpips_weighted (bool, default false).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "losses/loss.h"
#include "models/features/lpips.h"

namespace srlab::losses {

/// Parameters of PerceptualLoss (see the file comment).
struct PerceptualOptions {
  std::string weights;                 ///< LPIPS weight file; empty = models::resolve_lpips_weights("", net)
  std::string net = "squeeze";         ///< LPIPS backbone: squeeze | vgg | alex
  std::vector<int> layers;             ///< tap indices (0-based, unique); empty = every tap
  std::vector<double> layer_weights;   ///< one per layer (finite, >= 0, not all 0); empty = 1 each
  std::string criterion = "l1";        ///< l1 | l2 (raw-feature form only)
  bool lpips_weighted = false;         ///< the LPIPS distance (lin-weighted) instead of raw features
};

/// The perceptual loss term `type: perceptual` (see the file comment). The network is frozen
/// (requires_grad false, eval mode); the loss is differentiable w.r.t. `sr`. hr features are computed
/// under NoGradGuard.
class PerceptualLoss : public Loss {
 public:
  /// Loads the LPIPS network from opts.weights (or the default location) and validates the options.
  /// @throws srlab::Error for a missing weight file (naming every place looked, and for vgg/alex how to
  ///         convert the weights with scripts/convert_lpips_weights.py), an unreadable/wrong file, an
  ///         unknown net or criterion, out-of-range or duplicate layers, layer_weights of another length
  ///         or with negative/non-finite values or all 0.
  explicit PerceptualLoss(const PerceptualOptions& opts);
  /// Same with an already built network (e.g. shared, or randomly initialised in tests); opts.weights
  /// and opts.net are ignored (the network's backbone is used).
  PerceptualLoss(models::Lpips network, const PerceptualOptions& opts);

  /// The loss (0-dim float32 tensor, >= 0, 0 for sr == hr) of in.sr against in.hr.
  /// @param in  sr and hr: float (N,3,H,W), identical shapes, RGB nominally in [0,1], on the network's
  ///            device (see to()); H, W >= 17 for squeeze (LPIPS kMinSize; 16 vgg, 31 alex).
  /// @throws srlab::Error for undefined/mismatched/non-(N,3,H,W) inputs or images smaller than the
  ///         backbone's minimum size (naming it).
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "perceptual"; }
  /// Moves the network to `device`.
  void to(torch::Device device) override;

  /// The tap indices used (in the order given; every tap when `layers` was empty) and their weights.
  const std::vector<int>& layers() const { return layers_; }
  const std::vector<double>& layer_weights() const { return layer_weights_; }
  const PerceptualOptions& options() const { return opts_; }
  /// The LPIPS network (shared, frozen).
  const models::Lpips& network() const { return net_; }

 private:
  void init();
  /// Backbone taps of x (N,3,H,W) in [0,1] after LPIPS's input scaling.
  std::vector<torch::Tensor> features(const torch::Tensor& x) const;

  PerceptualOptions opts_;
  models::Lpips net_{nullptr};
  std::vector<int> layers_;
  std::vector<double> layer_weights_;
};

/// Registers "perceptual" (called from builtin_losses.cpp).
void register_perceptual_loss();

}  // namespace srlab::losses
