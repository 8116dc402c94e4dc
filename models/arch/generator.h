#pragma once
// The generator interface shared by every super-resolution architecture.
#include <torch/torch.h>

#include <memory>
#include <string>

namespace srlab::models {

/// A super-resolution generator: maps an LR batch (N,3,h,w), RGB in [0,1], to an SR batch
/// (N,3,h*scale,w*scale), nominally in [0,1] (not clamped; callers clamp/quantize for scoring).
/// Parameter names follow BasicSR's state-dict keys where BasicSR has the architecture.
class GeneratorImpl : public torch::nn::Module {
 public:
  ~GeneratorImpl() override = default;
  virtual torch::Tensor forward(torch::Tensor lr) = 0;
  /// Integer upscaling factor.
  virtual int scale() const = 0;
  /// Registry name (YAML `type:`), e.g. "espcn".
  virtual std::string type() const = 0;
};

using Generator = std::shared_ptr<GeneratorImpl>;

/// Number of trainable parameters.
int64_t count_parameters(const torch::nn::Module& m);

}  // namespace srlab::models
