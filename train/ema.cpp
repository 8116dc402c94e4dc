#include "train/ema.h"

namespace srlab::train {

void copy_weights(torch::nn::Module& dst, const torch::nn::Module& src) {
  torch::NoGradGuard no_grad;
  auto d = dst.named_parameters(true);
  for (const auto& p : src.named_parameters(true)) d[p.key()].copy_(p.value());
  auto db = dst.named_buffers(true);
  for (const auto& b : src.named_buffers(true)) db[b.key()].copy_(b.value());
}

void ema_update(torch::nn::Module& ema, const torch::nn::Module& model, double decay) {
  torch::NoGradGuard no_grad;
  auto e = ema.named_parameters(true);
  for (const auto& p : model.named_parameters(true)) e[p.key()].mul_(decay).add_(p.value(), 1.0 - decay);
  auto eb = ema.named_buffers(true);
  for (const auto& b : model.named_buffers(true)) eb[b.key()].copy_(b.value());
}

}  // namespace srlab::train
