#pragma once
// SqueezeNet 1.1 feature extractor (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer
// parameters and <0.5MB model size", arXiv:1602.07360, 2016; Sec. 3.1 for the Fire module, Sec. 3.3 and
// Table 1 for the macro-architecture; version 1.1 is the variant published with the authors' Caffe
// models: 3x3/64 stride-2 first conv and earlier max-pools), laid out exactly like torchvision's
// `squeezenet1_1().features` so that state-dict keys match:
//
//   features.0   Conv2d 3->64, 3x3, stride 2 (no padding)  ; features.1 ReLU
//   features.2   MaxPool 3x3 stride 2, ceil_mode
//   features.3   Fire( 64, 16,  64,  64)   features.4  Fire(128, 16,  64,  64)
//   features.5   MaxPool 3x3 stride 2, ceil_mode
//   features.6   Fire(128, 32, 128, 128)   features.7  Fire(256, 32, 128, 128)
//   features.8   MaxPool 3x3 stride 2, ceil_mode
//   features.9   Fire(256, 48, 192, 192)   features.10 Fire(384, 48, 192, 192)
//   features.11  Fire(384, 64, 256, 256)   features.12 Fire(512, 64, 256, 256)
//
// Fire(in, s, e1, e3): squeeze = ReLU(conv1x1 in->s), output = cat(ReLU(conv1x1 s->e1),
// ReLU(conv3x3 pad 1 s->e3)) over channels. Parameter names: features.<i>.squeeze.{weight,bias},
// features.<i>.expand1x1.{weight,bias}, features.<i>.expand3x3.{weight,bias}.
//
// forward() returns the seven taps that LPIPS uses (Zhang et al., CVPR 2018, Sec. 3; the slices of the
// `lpips` package's pretrained_networks.squeezenet): the ReLU output after features.1 and the outputs of
// fire 4, fire 7, fire 9, fire 10, fire 11 and fire 12, with 64, 128, 256, 384, 384, 512, 512 channels.
// No classifier is built (LPIPS does not use it).
#include <torch/torch.h>

#include <array>
#include <vector>

namespace srlab::models {

/// SqueezeNet Fire module (Iandola et al. 2016, Sec. 3.1, Fig. 1).
class FireImpl : public torch::nn::Module {
 public:
  FireImpl(int64_t in_channels, int64_t squeeze, int64_t expand1x1, int64_t expand3x3);
  /// (N,in,H,W) float -> (N,expand1x1+expand3x3,H,W), non-negative (ReLU outputs).
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d squeeze{nullptr}, expand1x1{nullptr}, expand3x3{nullptr};
};
TORCH_MODULE(Fire);

/// SqueezeNet 1.1 feature layers (see the file comment), randomly initialised by LibTorch's defaults;
/// load real weights by name (models/features/lpips.h does this for LPIPS).
class SqueezeNetFeaturesImpl : public torch::nn::Module {
 public:
  SqueezeNetFeaturesImpl();

  /// Channel counts of the seven taps returned by forward().
  static constexpr std::array<int64_t, 7> kTapChannels{64, 128, 256, 384, 384, 512, 512};

  /// The seven LPIPS taps for a batch x: (N,3,H,W) float (LPIPS feeds the scaled [-1,1] image; any
  /// range is accepted). Tap k has kTapChannels[k] channels; spatial sizes: tap 0 is
  /// floor((H-3)/2)+1, taps 1, 2 and 3..6 follow one, two and three ceil-mode 3x3/2 max-pools.
  /// Throws srlab::Error when x is not a 4-D float tensor with 3 channels or H or W < 3 (the first
  /// convolution needs 3 px).
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

  torch::nn::Conv2d conv0{nullptr};  ///< registered as features.0
  std::vector<Fire> fires;            ///< features.3,4,6,7,9,10,11,12 in this order

 private:
  std::shared_ptr<torch::nn::Module> features_;
};
TORCH_MODULE(SqueezeNetFeatures);

}  // namespace srlab::models
