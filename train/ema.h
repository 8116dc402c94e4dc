#pragma once
// Exponential moving average of generator weights (Polyak averaging; used for SR by ESRGAN/BasicSR as
// "net_g_ema"): ema <- decay * ema + (1 - decay) * current, after every optimizer step. Buffers are copied.
#include <torch/torch.h>

namespace srlab::train {

/// Copies all parameters and buffers of `src` into `dst` (same architecture).
void copy_weights(torch::nn::Module& dst, const torch::nn::Module& src);

/// One EMA update of `ema` towards `model` with `decay` in [0,1).
void ema_update(torch::nn::Module& ema, const torch::nn::Module& model, double decay);

}  // namespace srlab::train
