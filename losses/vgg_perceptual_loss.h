#pragma once
// Perceptual loss on VGG19 features, the form of SRGAN / ESRGAN / Real-ESRGAN (BasicSR's PerceptualLoss
// with vgg_type vgg19): Johnson et al., ECCV 2016, Sec. 3.1 (Eq. 2), on the pre-activation VGG19 features
// of ESRGAN (Wang et al., ECCVW 2018, Sec. 3.3):
//
//   L(sr, hr) = sum_{l in layer_weights} w_l * mean_{n,c,h,w} rho(phi_l(sr) - phi_l(hr))
//
// phi_l = VGG19 layer l (models/features/vgg19_features.h, ImageNet input normalisation), rho = |.| (criterion
// l1) or (.)^2 (l2). Mean reduction per layer (values do not depend on batch or image size).
//
// Unlike `type: perceptual` (the LPIPS SqueezeNet backbone, the same network as SRLab's LPIPS metric),
// this loss is independent of the evaluation metric. SRLab ships no VGG19 weights; convert torchvision's
// with scripts/convert_vgg19_weights.py (models/features/vgg19_features.h).
//
// YAML (one item of a `losses:` list, see weighted_loss.h):
//   {type: perceptual_vgg, weight: 1.0}                                   # ESRGAN: conv5_4, l1
//   {type: perceptual_vgg, weight: 1.0, layer_weights: {conv1_2: 0.1, conv2_2: 0.1, conv3_4: 1,
//                                                       conv4_4: 1, conv5_4: 1}}  # Real-ESRGAN
// Keys: weights (path to the .pt file; default models::resolve_vgg19_weights()), layer_weights (map
// BasicSR layer name -> weight, finite >= 0, not all 0; default {conv5_4: 1}), criterion (l1 | l2,
// default l1), use_input_norm (default true), range_norm (default false: inputs in [0,1]).
#include <torch/torch.h>

#include <map>
#include <string>

#include "losses/loss.h"
#include "models/features/vgg19_features.h"

namespace srlab::losses {

/// Parameters of VggPerceptualLoss (see the file comment).
struct VggPerceptualOptions {
  std::string weights;                                          ///< .pt file; empty = resolve_vgg19_weights()
  std::map<std::string, double> layer_weights{{"conv5_4", 1.0}};  ///< BasicSR layer name -> weight
  std::string criterion = "l1";                                 ///< l1 | l2
  bool use_input_norm = true;                                   ///< ImageNet mean/std normalisation
  bool range_norm = false;                                      ///< inputs in [-1,1] instead of [0,1]
};

/// The loss term `type: perceptual_vgg` (see the file comment). The network is frozen; the loss is
/// differentiable w.r.t. `sr`; hr features are computed under NoGradGuard.
class VggPerceptualLoss : public Loss {
 public:
  /// Loads the VGG19 weights (opts.weights or the default place) and validates the options.
  /// @throws srlab::Error for missing/wrong weights (saying how to convert them), an unknown layer name,
  ///         invalid weights (negative, non-finite, all 0, none) or an unknown criterion.
  explicit VggPerceptualLoss(const VggPerceptualOptions& opts);
  /// Same with an already built network (e.g. randomly initialised in tests); opts.weights is ignored and
  /// the network's layers must be exactly the keys of opts.layer_weights.
  VggPerceptualLoss(models::Vgg19Features network, const VggPerceptualOptions& opts);

  /// The loss (0-dim float32, >= 0, 0 for sr == hr) of in.sr against in.hr.
  /// @param in  sr and hr: float (N,3,H,W), same shape, RGB in [0,1], H, W >= the network's min_size()
  ///            (16 px for conv5_4), on the network's device.
  /// @throws srlab::Error for mismatched or non-RGB inputs, images too small, or a device mismatch.
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "perceptual_vgg"; }
  void to(torch::Device device) override;

 private:
  VggPerceptualOptions opts_;
  models::Vgg19Features net_{nullptr};
  std::vector<double> weights_;  // per net_->layers()
};

void register_vgg_perceptual_loss();

}  // namespace srlab::losses
