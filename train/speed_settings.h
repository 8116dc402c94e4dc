#pragma once
// The GPU speed settings PyTorch trainers expose (train.channels_last, train.tf32, train.cudnn_benchmark),
// with the anchors' defaults:
//  - channels_last: NHWC memory format for the generator's 4-D weights and the LR batches. Default: on when
//    training with autocast on CUDA, else off (traiNNer-redux `use_channels_last`, default true, "while
//    using AMP": traiNNer/utils/redux_options.py).
//  - tf32: TensorFloat-32 for float32 matrix multiplications (Linear, attention) on Ampere and newer
//    (PyTorch `torch.backends.cuda.matmul.allow_tf32`, traiNNer-redux `fast_matmul`; both default false).
//  - cudnn_tf32: TensorFloat-32 inside cuDNN convolutions (PyTorch `torch.backends.cudnn.allow_tf32`,
//    default true, which SRLab keeps; false gives full float32 convolutions).
//  - cudnn_benchmark: cuDNN autotuning of convolution algorithms for fixed input shapes (PyTorch
//    `torch.backends.cudnn.benchmark`; BasicSR's basicsr/train.py sets it true).
// On the CPU only channels_last changes anything (NHWC kernels); tf32, cudnn_tf32 and cudnn_benchmark are
// accepted and logged as having no effect.
#include <torch/torch.h>

#include <optional>

#include "core/config.h"
#include "train/amp.h"

namespace srlab::train {

struct SpeedSettings {
  std::optional<bool> channels_last;  ///< unset: the default above (on iff CUDA autocast)
  bool tf32 = false;
  bool cudnn_tf32 = true;             ///< train.cudnn_tf32: TF32 inside cuDNN convolutions (PyTorch default true)
  bool cudnn_benchmark = true;
};

/// Reads train.channels_last / tf32 / cudnn_tf32 / cudnn_benchmark (booleans) from the `train:` section;
/// wrong types throw srlab::Error naming the key.
SpeedSettings read_speed_settings(const core::Config& train_section);

/// Whether the run uses channels_last: the explicit key, else true iff `device` is CUDA and amp is on.
bool resolve_channels_last(const SpeedSettings& s, AmpMode amp, torch::Device device);

/// Applies the process-wide settings for `device` (CUDA: cuDNN benchmark, TF32 for cuBLAS and cuDNN through
/// at::globalContext()) and logs one line with the effective values; on the CPU it logs that tf32,
/// cudnn_tf32 and cudnn_benchmark have no effect there.
void apply_speed_settings(const SpeedSettings& s, AmpMode amp, torch::Device device);

/// Converts every 4-D parameter and buffer of `module` (recursively) to the channels_last memory format in
/// place (Variable identity kept: optimizers holding the parameters stay valid). Values are unchanged.
void to_channels_last(torch::nn::Module& module);

}  // namespace srlab::train
