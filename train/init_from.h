#pragma once
// Initialising a generator from a weight file before training (fine-tuning): `model.init_from` (any
// run) and `gan.init_from` (PSNR-then-GAN). The file is an SRLab checkpoint (its EMA weights when
// stored) or a community weight file (.pth / .safetensors; architecture detected, params_ema preferred,
// models/weights/community_generator.h).
#include <filesystem>
#include <string>

#include "core/config.h"
#include "models/arch/generator.h"

namespace srlab::train {

/// Copies the weights of `file` into `g` (built from `model_cfg` at `scale`, on the CPU).
/// @return a description for the log, e.g. "EMA weights, iteration 5000" or "params_ema of a torch zip".
/// @throws srlab::Error when the file is unreadable, or its generator's type or scale differ from
///         `model_cfg`'s type and `scale` ("its generator is rrdbnet x4 but this config trains edsr x4"),
///         or a tensor name/shape differs (other hyperparameters).
std::string init_generator_from(const std::filesystem::path& file, const core::Config& model_cfg, int scale,
                                models::Generator& g);

}  // namespace srlab::train
