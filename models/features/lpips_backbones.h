#pragma once
// AlexNet and VGG16 feature extractors for LPIPS (Zhang et al., CVPR 2018, Sec. 3: "lin" variants on
// AlexNet (Krizhevsky et al. 2012) and VGG16 (Simonyan & Zisserman 2015)), with torchvision's module
// names (features.<i>.weight/bias), so weights converted from the `lpips` Python package load by name.
//
// Taps (the `lpips` package's slices), ReLU outputs after torchvision feature index:
//   alex: 1, 4, 7, 9, 11         channels 64, 192, 384, 256, 256
//   vgg:  3, 8, 15, 22, 29       channels 64, 128, 256, 512, 512   (relu1_2 ... relu5_3)
// No weights for these ship with SRLab: the user converts them (scripts/convert_lpips_weights.py).
#include <torch/torch.h>

#include <string>
#include <vector>

namespace srlab::models {

/// A torchvision-style `features` Sequential (registered as "features") returning the activations after
/// the listed layer indices.
class TappedFeaturesImpl : public torch::nn::Module {
 public:
  TappedFeaturesImpl(torch::nn::Sequential features, std::vector<size_t> tap_after, std::vector<int64_t> tap_channels,
                     int64_t min_size);
  /// x (N,3,H,W) float (LPIPS feeds the scaled image) -> one (N,C_k,H_k,W_k) tensor per tap.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  const std::vector<int64_t>& tap_channels() const { return tap_channels_; }
  /// Smallest input height/width the layer stack accepts (pooling needs enough pixels).
  int64_t min_size() const { return min_size_; }

 private:
  torch::nn::Sequential features_{nullptr};
  std::vector<size_t> tap_after_;
  std::vector<int64_t> tap_channels_;
  int64_t min_size_;
};
TORCH_MODULE(TappedFeatures);

/// torchvision AlexNet `features` (5 convs) with the LPIPS taps; min input 31 px.
TappedFeatures alexnet_lpips_features();
/// torchvision VGG16 `features` (13 convs, 3x3, pad 1) with the LPIPS taps; min input 16 px.
TappedFeatures vgg16_lpips_features();

}  // namespace srlab::models
