#pragma once
// Optimizer construction from an OptimizerConfig and per-iteration learning-rate updates, shared by the
// generator and the discriminator (GAN runs) of the trainer.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "train/train_config.h"

namespace srlab::train {

/// Adam (Kingma & Ba, ICLR 2015) or AdamW (Loshchilov & Hutter, ICLR 2019) over `params` with the
/// config's lr, betas and weight decay (grad_clip is applied by the caller).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& c, const std::vector<torch::Tensor>& params);

/// Sets the learning rate of every parameter group of `opt` to `lr` (> 0).
void set_lr(torch::optim::Optimizer& opt, double lr);

}  // namespace srlab::train
