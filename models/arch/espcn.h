#pragma once
// ESPCN: Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
// Convolutional Neural Network", CVPR 2016 (Sec. 2.1-2.2 and Fig. 1 for the network and the
// sub-pixel convolution layer; Sec. 3 for the (5,3,3) kernel sizes, the 64/32 widths and tanh).
//
// Layers (parameter names = state-dict keys):
//   conv1  Conv2d 3 -> num_feat,        5x5, padding 2   (+ activation; "act1.weight" when prelu)
//   conv2  Conv2d num_feat -> num_feat/2, 3x3, padding 1 (+ activation; "act2.weight" when prelu)
//   conv3  Conv2d num_feat/2 -> 3*s*s,  3x3, padding 1
//   pixel shuffle (the paper's periodic shuffling PS) -> (N,3,h*s,w*s); no output activation.
//   Channel order is PyTorch's pixel_shuffle: HR pixel (c, y*s+i, x*s+j) = conv3 channel c*s*s + i*s + j.
//   The paper's PS indexes channels as C*s*mod(y,s) + C*mod(x,s) + c (colour fastest), i.e. a fixed
//   permutation of conv3's output channels: same function class, but weights from the authors' Theano
//   code would need their conv3 channels permuted.
// Zero ("same") padding keeps the output exactly s times the input, so any h, w >= 1 work.
//
// YAML (`model:` section):
//   type: espcn
//   num_feat: 64          # even integer >= 2 (the second layer has num_feat/2 channels)
//   activation: tanh      # tanh (paper) | relu | prelu (channel-wise PReLU, He et al. 2015, init 0.25)
//   residual: none        # none (paper) | bicubic | nearest — SRLab extension, see below
// Supported scales: 2, 3, 4.
//
// residual (SRLab extension, NOT in the paper): when bicubic/nearest, the network output is added to an
// upsampled copy of the input, torch::nn::functional::interpolate to (h*s, w*s) — bicubic with
// align_corners=false (PyTorch's cubic kernel, a = -0.75, no antialiasing; not MATLAB's imresize) or
// nearest — so the network learns a residual and a zero-initialised conv3 reproduces the baseline.
#include <torch/torch.h>

#include <string>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

enum class EspcnActivation { kTanh, kRelu, kPrelu };
enum class UpsampleResidual { kNone, kBicubic, kNearest };

struct EspcnOptions {
  int scale = 4;          ///< 2, 3 or 4
  int num_feat = 64;      ///< width of conv1; conv2 has num_feat/2 (even, >= 2)
  EspcnActivation activation = EspcnActivation::kTanh;
  UpsampleResidual residual = UpsampleResidual::kNone;
};

/// ESPCN generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s), not
/// clamped. Throws srlab::Error for a malformed input batch (wrong rank/channels/dtype).
class EspcnImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or an odd/too small num_feat.
  explicit EspcnImpl(const EspcnOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "espcn"; }
  const EspcnOptions& options() const { return options_; }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::PReLU act1{nullptr}, act2{nullptr};  ///< registered only for activation prelu

 private:
  torch::Tensor activate(const torch::Tensor& x, torch::nn::PReLU& prelu) const;
  EspcnOptions options_;
};

/// Trainable parameter count of ESPCN: conv1 75f+f, conv2 9f(f/2)+f/2, conv3 9(f/2)(3s^2)+3s^2,
/// plus f + f/2 PReLU slopes when activation is prelu (f = num_feat, s = scale).
int64_t espcn_parameter_count(const EspcnOptions& options);

/// Registry factory: reads num_feat, activation, residual from `params` (errors name the key).
Generator make_espcn(const core::Config& params, int scale);

/// State-dict detector (keys conv1..3, act1/act2 when prelu): num_feat from conv1 (5x5, 3 inputs), scale
/// from conv3's 3*s*s outputs, activation prelu when act1.weight exists, else tanh (the paper's; relu
/// leaves no trace either: override with activation=relu); residual takes its default none.
std::optional<DetectedModel> detect_espcn(const StateDict& state_dict);

/// Registers "espcn" with the generator registry (called from builtin_generators.cpp).
void register_espcn();

}  // namespace srlab::models
