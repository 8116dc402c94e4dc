#include "train/finite_check.h"

namespace srlab::train {

std::string first_non_finite(const torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (const auto& p : module.named_parameters(true))
    if (p.value().is_floating_point() && !torch::isfinite(p.value()).all().item<bool>()) return p.key();
  for (const auto& b : module.named_buffers(true))
    if (b.value().is_floating_point() && !torch::isfinite(b.value()).all().item<bool>()) return b.key();
  return "";
}

}  // namespace srlab::train
