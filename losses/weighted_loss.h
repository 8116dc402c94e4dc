#pragma once
// A weighted sum of loss terms built from a YAML list:
//
//   losses:
//     - {type: l1, weight: 1.0}
//     - {type: charbonnier, weight: 0.5, eps: 1.0e-3}
//     - {type: l1, weight: 0.1, name: l1_aux}   # `name` (optional) labels the term in logs
//
// total = sum_k weight_k * loss_k(inputs). Keys per item: `type` (required, a registered loss type),
// `weight` (optional, default 1.0, finite and >= 0), `name` (optional, default = type; names must be
// unique) and the type's own parameters. Weighting as in e.g. SRGAN (Ledig et al. 2017, Eq. 3) /
// ESRGAN (Wang et al. 2018, Eq. 3); a plain list of pixel losses reduces to the usual single-loss case.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "losses/loss.h"

namespace srlab::losses {

class WeightedLoss {
 public:
  struct Term {
    std::string name;  ///< label in logs (unique within one WeightedLoss)
    double weight;     ///< finite, >= 0
    LossPtr loss;
  };

  /// Validates the terms: non-empty, non-null losses, finite weights >= 0 not all zero, unique names,
  /// at most one adversarial term (Loss::needs_discriminator()). Throws srlab::Error otherwise.
  explicit WeightedLoss(std::vector<Term> terms);

  /// Builds from a YAML list (see the file comment). Throws srlab::Error naming the file and key
  /// ("losses[1].weight") for: not a list, an empty list, unknown type, unknown keys, negative or
  /// non-numeric weights, all weights zero, duplicate names, invalid parameters, a second adversarial
  /// (`type: gan`) term.
  static WeightedLoss from_config(const core::Config& list);

  struct Result {
    torch::Tensor total;                                  ///< 0-dim, differentiable, sum of weighted terms
    std::vector<std::pair<std::string, double>> terms;    ///< (name, weight * value), in list order
  };

  /// Evaluates every term on (sr, hr), both (N,3,H,W) float of identical shape. Terms with weight 0 are
  /// skipped (reported as 0). Throws srlab::Error for mismatched inputs, and (from the term) when an
  /// adversarial term with weight > 0 is present: it needs the LossInputs overload with fake_logits.
  Result operator()(const torch::Tensor& sr, const torch::Tensor& hr) const;
  /// Same with the full input struct (for terms that need more than sr/hr).
  Result operator()(const LossInputs& in) const;

  /// Term names in list order.
  std::vector<std::string> term_names() const;
  const std::vector<Term>& terms() const { return terms_; }
  /// Moves every term's internal state to `device`.
  void to(torch::Device device);

  /// The adversarial term (the one whose loss needs_discriminator(), e.g. `type: gan`), or nullptr when
  /// there is none. The trainer builds a discriminator when this is non-null with weight > 0, fills
  /// LossInputs::fake_logits/real_logits for the generator step, and takes the matching discriminator
  /// loss from the term (dynamic_cast to AdversarialLoss, losses/gan_loss.h).
  const Term* discriminator_term() const;
  /// True when an adversarial term with weight > 0 exists (a weight-0 term is skipped, so it needs no
  /// discriminator).
  bool needs_discriminator() const;

 private:
  std::vector<Term> terms_;
};

}  // namespace srlab::losses
