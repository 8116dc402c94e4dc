#pragma once
// VGG19 feature extractor for perceptual losses (Simonyan & Zisserman, "Very Deep Convolutional Networks
// for Large-Scale Image Recognition", ICLR 2015, configuration E), as used by SRGAN (Ledig et al., CVPR
// 2017, Sec. 2.2.2, "VGG54"), ESRGAN (Wang et al., ECCVW 2018, Sec. 3.3: features *before* activation,
// conv5_4) and Real-ESRGAN (conv1_2 .. conv5_4, weights 0.1, 0.1, 1, 1, 1).
//
// Layout: torchvision's vgg19().features (37 layers: 16 3x3 convolutions with padding 1, ReLU, 5 max-pools
// 2x2), module names features.<i>.weight/bias with i in {0,2,5,7,10,12,14,16,19,21,23,25,28,30,32,34},
// so torchvision's ImageNet weights load by name. Layers are addressed by BasicSR's names
// (basicsr/archs/vgg_arch.py): conv1_1 relu1_1 conv1_2 relu1_2 pool1 conv2_1 ... conv5_4 relu5_4 pool5,
// i.e. torchvision feature index 0 .. 36; "convX_Y" is the pre-activation output.
//
// Input: RGB in [0,1]; with use_input_norm (default, as BasicSR) normalised by the ImageNet mean
// (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); with range_norm the input is first mapped from
// [-1,1] to [0,1].
//
// Weights: SRLab ships none (no model downloads). scripts/convert_vgg19_weights.py writes
// torchvision's IMAGENET1K_V1 `features.*` tensors to a .pt dict (see models/weights/weight_file.h); its
// default place is <data>/weights/vgg/vgg19_features.pt, or SRLAB_VGG19_WEIGHTS.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "models/features/lpips_backbones.h"

namespace srlab::models {

/// BasicSR's 37 VGG19 layer names, in torchvision feature order (index = position).
const std::vector<std::string>& vgg19_layer_names();

/// torchvision feature index of a BasicSR layer name ("conv5_4" -> 34, "relu5_4" -> 35).
/// @throws srlab::Error for an unknown name, listing the valid ones.
size_t vgg19_layer_index(const std::string& name);

/// The frozen VGG19 feature network returning the activations of chosen layers.
class Vgg19FeaturesImpl : public torch::nn::Module {
 public:
  /// Randomly initialised (LibTorch default) network; load_vgg19_features() loads real weights.
  /// @param layers  BasicSR layer names (non-empty, unique; any order: forward() returns them sorted by
  ///                depth, see layers()).
  /// @throws srlab::Error for an empty list, an unknown name or a repeated one.
  explicit Vgg19FeaturesImpl(std::vector<std::string> layers, bool use_input_norm = true, bool range_norm = false);

  /// Features of images x: float (N,3,H,W), RGB in [0,1] ([-1,1] with range_norm), H, W >= min_size().
  /// @return one (N,C,H/2^k,W/2^k) tensor per layer, in the order of layers(); differentiable w.r.t. x.
  /// @throws srlab::Error for a non-(N,3,H,W) or non-float input, or one smaller than min_size().
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

  /// The requested layer names sorted by depth (the order of forward()'s outputs).
  const std::vector<std::string>& layers() const { return layers_; }
  /// Smallest input height/width: every max-pool up to the deepest requested layer needs >= 2 px.
  int64_t min_size() const { return min_size_; }

  /// Registered as "net"; its parameters are net.features.<i>.* (the weight file drops "net.").
  TappedFeatures net{nullptr};

 private:
  std::vector<std::string> layers_;
  bool use_input_norm_, range_norm_;
  int64_t min_size_ = 1;
  torch::Tensor mean_, std_;  // ImageNet statistics, (1,3,1,1) buffers "mean" and "std"
};
TORCH_MODULE(Vgg19Features);

/// Loads torchvision VGG19 `features` weights from a .pt dict (scripts/convert_vgg19_weights.py) into a
/// new frozen (requires_grad false), eval-mode network on the CPU. All 32 tensors features.<i>.weight /
/// .bias must be present with torchvision's shapes and nothing else.
/// @throws srlab::Error naming the file and the missing/mismatched/unexpected tensor, with how to make it.
Vgg19Features load_vgg19_features(const std::filesystem::path& weights, const std::vector<std::string>& layers,
                                  bool use_input_norm = true, bool range_norm = false);

/// Where the VGG19 weights are: `explicit_path` when non-empty, else $SRLAB_VGG19_WEIGHTS, else
/// <shared data>/weights/vgg/vgg19_features.pt (models/weights/weight_file.h: resolve_weight_file).
/// @throws srlab::Error listing every place tried and how to convert torchvision's weights.
std::filesystem::path resolve_vgg19_weights(const std::string& explicit_path = "");

}  // namespace srlab::models
