#pragma once
// Finiteness of loaded weights: a NaN or Inf weight makes every output pixel NaN, which otherwise shows
// only when the image is written ("image contains NaN values") without naming the weight file.
#include <torch/torch.h>

#include <string>

namespace srlab::models {

/// Checks that the floating-point tensor `t` (any shape, any device; integer tensors pass) holds no NaN
/// or Inf value.
/// @param file  the weight file or checkpoint, for the message; @param key  the tensor's name in it
/// @throws srlab::Error "weight file '<file>': tensor '<key>' holds N NaN/Inf values (of M); ..."
void require_finite(const torch::Tensor& t, const std::string& key, const std::string& file);

}  // namespace srlab::models
