#pragma once
// Adversarial losses for GAN-based super-resolution (SRGAN, ESRGAN, Real-ESRGAN), computed from
// discriminator logits (pre-sigmoid scores). Logits are float tensors of any non-empty shape, typically
// (N,1) for a VGG-style discriminator or (N,1,H,W) for a U-Net discriminator (Real-ESRGAN); every mean
// below is over all elements. BCE(x, t) = mean(-t log σ(x) - (1-t) log(1-σ(x))), i.e.
// BCE(x, 1) = mean softplus(-x) and BCE(x, 0) = mean softplus(x) (computed stably from the logits).
//
//   gan_type  generator loss (G step)                          discriminator loss (D step)
//   vanilla   BCE(fake, 1)   (non-saturating)                   BCE(real, 1) + BCE(fake, 0)
//   lsgan     mean (fake - 1)^2                                 mean (real - 1)^2 + mean fake^2
//   hinge     -mean fake                                        mean relu(1 - real) + mean relu(1 + fake)
//   ragan     0.5 [BCE(real - E[fake], 0) + BCE(fake - E[real], 1)]
//                                                               0.5 [BCE(real - E[fake], 1) + BCE(fake - E[real], 0)]
//
// Sources:
//   vanilla  Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, Eq. 1 and Sec. 3 (the
//            non-saturating generator objective max log D(G(z))); SRGAN (Ledig et al., CVPR 2017), Eq. 2/6.
//   lsgan    Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017, Eq. 2 with the 0-1
//            coding a = 0, b = c = 1, without the paper's 1/2 factors.
//   hinge    Lim & Ye, "Geometric GAN", 2017; the form used by Miyato et al., "Spectral Normalization for
//            Generative Adversarial Networks", ICLR 2018.
//   ragan    Relativistic average GAN (Jolicoeur-Martineau, "The relativistic discriminator", ICLR 2019)
//            as in ESRGAN (Wang et al., ECCVW 2018), Sec. 3.2, Eq. 1-2:
//            D_Ra(x_r, x_f) = σ(C(x_r) - E_xf[C(x_f)]); E[·] is the mean over all elements of the batch.
//            SRLab = 0.5 x the paper's Eq. 1 (D) and Eq. 2 (G).
// Conventions follow BasicSR (GANLoss, SRGANModel/ESRGANModel): the discriminator loss is the sum of the
// real and the fake term, each a mean over its elements (BasicSR back-propagates the two terms
// separately, which gives the same gradient); the relativistic losses are averaged with 0.5; the loss
// weight is not part of these values (WeightedLoss applies it).
//
// YAML (one item of a `losses:` list, see weighted_loss.h): {type: gan, gan_type: ragan, weight: 0.1}
// gan_type is vanilla | lsgan | hinge | ragan (default vanilla). The term needs
// LossInputs::fake_logits (and real_logits for ragan); the trainer finds it via needs_discriminator().
#include <torch/torch.h>

#include <string>

#include "losses/loss.h"

namespace srlab::losses {

enum class GanType { kVanilla, kLsgan, kHinge, kRagan };

/// "vanilla" -> GanType::kVanilla etc. Throws srlab::Error listing the known names for anything else.
GanType parse_gan_type(const std::string& name);
/// GanType::kVanilla -> "vanilla" etc.
std::string gan_type_name(GanType type);

/// The adversarial loss pair (generator / discriminator objective) of one GAN formulation (see the file
/// comment for the exact formulas). Immutable, stateless, usable on any device.
class GanLoss {
 public:
  explicit GanLoss(GanType type = GanType::kVanilla) : type_(type) {}
  /// Throws srlab::Error for an unknown name (see parse_gan_type).
  explicit GanLoss(const std::string& type) : type_(parse_gan_type(type)) {}

  /// Generator-step loss, a 0-dim tensor differentiable w.r.t. `fake_logits`.
  /// @param real_logits  D(hr): needed (same shape as fake_logits) for ragan; may be undefined for the
  ///                     other types (ignored, but its shape is checked when given). Treated as a
  ///                     constant: it is detached here (as BasicSR computes it with D frozen and detached).
  /// @param fake_logits  D(sr) with the graph to sr: (N,1), (N,1,H,W) or any non-empty float shape.
  /// @throws srlab::Error for undefined (fake always, real for ragan), empty, non-float, mismatched
  ///         (shape/device) logits. Non-finite logits are not an error: the value is returned as is.
  torch::Tensor generator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits) const;

  /// Discriminator-step loss (real term + fake term, see the file comment), a 0-dim tensor.
  /// @param real_logits  D(hr), with the graph to D's parameters.
  /// @param fake_logits  D(sr.detach()) (the caller detaches sr so that G gets no gradient).
  /// For ragan the relativistic reference means E[fake] / E[real] are detached, as in BasicSR's
  /// ESRGANModel (each term's gradient flows only through its own logits); the value is unaffected.
  /// @throws srlab::Error for undefined, empty, non-float or mismatched (shape/device) logits.
  torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits) const;

  GanType type() const { return type_; }
  /// Whether the generator loss needs real_logits (true for ragan only).
  bool relativistic() const { return type_ == GanType::kRagan; }

 private:
  GanType type_;
};

/// The registered loss term `type: gan`: forward(in) = GanLoss::generator_loss(in.real_logits,
/// in.fake_logits). needs_discriminator() is true; gan() gives the trainer the matching D-step loss.
class AdversarialLoss : public Loss {
 public:
  explicit AdversarialLoss(GanType type = GanType::kVanilla) : gan_(type) {}
  /// The generator loss (0-dim). Throws srlab::Error naming LossInputs::fake_logits when it is undefined
  /// (and real_logits for ragan), or for mismatched logits (see GanLoss::generator_loss). `sr`/`hr`
  /// are not read.
  torch::Tensor forward(const LossInputs& in) const override;
  std::string type() const override { return "gan"; }
  bool needs_discriminator() const override { return true; }
  const GanLoss& gan() const { return gan_; }

 private:
  GanLoss gan_;
};

/// Registers "gan" (called from builtin_losses.cpp).
void register_gan_loss();

}  // namespace srlab::losses
