#pragma once
// The loss-term interface shared by every training loss (pixel losses now; perceptual/adversarial later).
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
};

using LossPtr = std::shared_ptr<Loss>;

}  // namespace srlab::losses
