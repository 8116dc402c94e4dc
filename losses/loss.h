#pragma once
// The loss-term interface shared by every training loss (pixel, perceptual and adversarial terms).
#include <torch/torch.h>

#include <memory>
#include <string>

namespace srlab::losses {

/// Everything a loss term may look at. Pixel losses use `sr` and `hr`; terms that need more (e.g. an
/// adversarial term needing discriminator logits, or one needing the LR input) get new fields here,
/// and callers that do not fill them keep working — a term that needs an undefined field throws
/// srlab::Error naming it.
struct LossInputs {
  torch::Tensor sr;  ///< generator output (N,3,H,W) float, nominally [0,1], requires grad in training
  torch::Tensor hr;  ///< ground truth (N,3,H,W) float in [0,1]
  torch::Tensor lr;  ///< LR input (N,3,h,w) float in [0,1]; optional (undefined when not given)
  /// Discriminator logits D(sr) for the generator step, (N,1) or (N,1,H',W') (U-Net discriminator),
  /// float, unbounded; must keep the graph to `sr`. Optional; required by terms whose
  /// needs_discriminator() is true (`type: gan`).
  torch::Tensor fake_logits;
  /// Discriminator logits D(hr), same shape as fake_logits, detached (no gradient is wanted through
  /// them in the generator step). Optional; required by the relativistic `gan_type: ragan`.
  torch::Tensor real_logits;
};

/// One loss term: a scalar (0-dim float tensor, differentiable w.r.t. the inputs) computed from
/// LossInputs. Implementations are immutable after construction and safe to call repeatedly.
class Loss {
 public:
  virtual ~Loss() = default;
  /// The unweighted loss value, a 0-dim tensor on the inputs' device. Throws srlab::Error for
  /// missing/mismatched inputs.
  virtual torch::Tensor forward(const LossInputs& in) const = 0;
  /// Registry name (YAML `type:`), e.g. "l1".
  virtual std::string type() const = 0;
  /// Moves internal tensors/networks (none for pixel losses) to `device`.
  virtual void to(torch::Device /*device*/) {}
  /// True for an adversarial term, which reads LossInputs::fake_logits (and real_logits): the trainer
  /// uses it to know that a discriminator must be built and run before forward(). Default false.
  virtual bool needs_discriminator() const { return false; }
};

using LossPtr = std::shared_ptr<Loss>;

}  // namespace srlab::losses
