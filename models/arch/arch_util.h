#pragma once
// Small helpers shared by the generator architectures in models/ (input checks, scale checks).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config.h"

namespace srlab::models {

/// Checks that `lr` is a generator input: a defined floating-point tensor of shape (N,3,h,w) with
/// N, h, w >= 1. Throws srlab::Error "<arch>: expected ..." naming the shape it got otherwise.
/// Values are not checked (nominally [0,1]; checking would cost a pass over the batch).
void check_lr_batch(const torch::Tensor& lr, const std::string& arch);

/// Throws srlab::Error (through `params.fail`, so the message names the config file and the model
/// section) when `scale` is not one of `supported`; the message names the `scale` key and lists the
/// supported values.
void check_scale(const core::Config& params, const std::string& arch, int scale, const std::vector<int>& supported);

/// Same check for direct C++ construction (no config): throws srlab::Error "<arch>: unsupported scale".
void check_scale(const std::string& arch, int scale, const std::vector<int>& supported);

// --- shared with hat ---
/// Pads an (N,C,H,W) batch at the bottom and right to multiples of `multiple` by reflection, as the
/// reference check_image_size / pad_to_multiple(x, multiple, mode="reflect") (F.pad(x, (0, pw, 0, ph),
/// 'reflect')); returns `x` itself when H and W are multiples already. Identical to that whenever the pad
/// is smaller than the side (where the reference works); a larger pad (a tiny input, which PyTorch's
/// reflect pad rejects) is reached by reflecting repeatedly, and a side of length 1 is replicated.
torch::Tensor reflect_pad_to_multiple(const torch::Tensor& x, int64_t multiple);

}  // namespace srlab::models
