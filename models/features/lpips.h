#pragma once
// LPIPS, the Learned Perceptual Image Patch Similarity (Zhang, Isola, Efros, Shechtman, Wang, "The
// Unreasonable Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018), version 0.1 ("lin"
// variant, Sec. 3 and Eq. 1), with the SqueezeNet 1.1 backbone (models/features/squeezenet.h):
//
//   d(x0, x1) = sum_l 1/(H_l W_l) sum_{h,w} || w_l ⊙ (ŷ0_l(h,w) - ŷ1_l(h,w)) ||²      (Eq. 1)
//
// where ŷ_l are the backbone activations of tap l, unit-normalised over channels
// (y / (sqrt(sum_c y²) + 1e-10)), and w_l are the learned non-negative channel weights, stored as the
// 1x1 convolution lin<l>.model.1 (no bias) applied to the squared difference. The backbone input is the
// RGB image in [-1,1] passed through the scaling layer (x - shift) / scale with
// shift = (-0.030, -0.088, -0.188), scale = (0.458, 0.448, 0.450) (the ImageNet mean/std expressed for
// [-1,1] inputs). Lower is better; 0 for identical images.
//
// Weights: ../shared/data/weights/lpips/lpips_squeeze_v0.1.pt (see that folder's README section), a dict
// name -> float32 tensor saved with torch.save; names features.<i>.* (torchvision) and
// lin<k>.model.1.weight (k = 0..6, shape [1,C_k,1,1]). scripts/convert_lpips_weights.py produces the same
// layout from the `lpips` Python package.
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "models/features/lpips_backbones.h"
#include "models/features/squeezenet.h"

namespace srlab::models {

/// The LPIPS network (see the file comment). All parameters are frozen (requires_grad = false) and the
/// module is put in eval mode, but the output is differentiable w.r.t. the inputs (usable as a loss).
class LpipsImpl : public torch::nn::Module {
 public:
  /// Builds the LPIPS network for backbone `net` ("squeeze", "alex" or "vgg") with LibTorch's default
  /// random initialisation; use load_lpips() for the real weights. Throws srlab::Error for another `net`.
  explicit LpipsImpl(const std::string& net = "squeeze");

  /// LPIPS distance of two batches of images in [0,1].
  /// @param a, b  float tensors (N,3,H,W), same shape, RGB in [0,1], H, W >= kMinSize = 17 (mapped to [-1,1] as 2x-1).
  /// @return      float tensor (N): the distance per pair (unitless, >= 0, lower = more similar).
  /// @throws srlab::Error for undefined/non-float/mismatched/non-(N,3,H,W) inputs, H or W < 17, or
  ///         non-finite values.
  torch::Tensor forward(const torch::Tensor& a, const torch::Tensor& b);

  /// Same as forward() but for inputs already in [-1,1] (the convention of the `lpips` package with
  /// normalize=False and of torchmetrics' reference values). Same shapes, result and errors.
  torch::Tensor forward_raw(const torch::Tensor& a, const torch::Tensor& b);

  /// Backbone name ("squeeze").
  const std::string& net() const { return net_; }

  /// The backbone, registered as "net" (module names net.features.<i>.*; the weight file's keys are
  /// features.<i>.*, load_lpips() maps them): SqueezeNet for "squeeze", else `tapped` (AlexNet/VGG16).
  SqueezeNetFeatures backbone{nullptr};
  TappedFeatures tapped{nullptr};
  /// Smallest accepted input height/width for this backbone (kMinSize for squeeze, 31 alex, 16 vgg).
  int64_t min_size() const { return min_size_; }
  /// lin<k> (k = 0..6 for squeeze, 0..4 for alex/vgg): Sequential(Identity, Conv2d(C_k,1,1, no bias)), so the conv is lin<k>.model.1
  /// as in the `lpips` package (whose index 0 is a Dropout, an identity at evaluation).
  std::vector<torch::nn::Sequential> lins;

  /// Smallest accepted input height/width in pixels: the third ceil-mode max-pool needs >= 2 px, i.e.
  /// >= 17 px at the input (16 px would leave 1 px there and LibTorch's pooling rejects it).
  static constexpr int64_t kMinSize = 17;

 private:
  std::string net_;
  int64_t min_size_ = kMinSize;
};
TORCH_MODULE(Lpips);

/// Loads LPIPS weights from a .pt file (a dict name -> tensor, as written by torch.save or
/// scripts/convert_lpips_weights.py) into a new frozen, eval-mode network on the CPU.
/// Every expected tensor (features.<i>.* of SqueezeNet 1.1 and lin0..lin6.model.1.weight) must be
/// present with the exact shape; unexpected extra tensors are an error too (wrong network).
/// @param weights  path of the .pt file (see resolve_lpips_weights()).
/// @param net      backbone: "squeeze" (real weights in ../shared/data), "alex" or "vgg" (user-converted).
/// @throws srlab::Error naming the file and the missing/mismatched/unexpected tensor (and both shapes),
///         an unreadable or non-dict file, or an unsupported `net`; messages say how to produce the file.
Lpips load_lpips(const std::filesystem::path& weights, const std::string& net = "squeeze");

/// Where the LPIPS weights are: `explicit_path` (CLI --lpips-weights or a config key) when non-empty,
/// else the environment variable SRLAB_LPIPS_WEIGHTS when set and non-empty, else
/// core::shared_data_dir()/weights/lpips/lpips_<net>_v0.1.pt.
/// @return an existing regular file.
/// @throws srlab::Error listing every place tried when the chosen/default file does not exist.
std::filesystem::path resolve_lpips_weights(const std::string& explicit_path = "", const std::string& net = "squeeze");

}  // namespace srlab::models
