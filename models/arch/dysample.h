#pragma once
// DySample: the content-aware point-sampling upsampler (Liu et al., "Learning to Upsample by Learning to
// Sample", ICCV 2023, Sec. 3, the "LP" style with dynamic scope), in the form RealPLKSR uses it
// (chaiNNer-org/spandrel, libs/spandrel/spandrel/architectures/__arch_helpers/dysample.py; keys
// `offset`, `scope`, `end_conv`, buffer `init_pos`).
//
// For x (N,C,H,W), g groups, scale s:
//   o = offset(x) * sigmoid(scope(x)) * 0.5 + init_pos         (N, 2*g*s*s, H, W); offset, scope: 1x1 convs
//   channel (c, k, i, j) of o (c = 0: x, 1: y; k group; i, j sub-pixel row/col) shifts the sampling point
//   of output pixel (s*h+i, s*w+j), group k, from the input pixel centre (w + 0.5, h + 0.5) (in pixels);
//   init_pos puts the points on the bilinear positions ((j - (s-1)/2)/s, (i - (s-1)/2)/s).
//   Each group's C/g channels are sampled bilinearly there (grid_sample, align_corners false, border
//   padding) -> (N,C,s*H,s*W), then end_conv (1x1, C -> out_channels) when end_convolution.
// With offset weights and bias zero the result is exactly bilinear upsampling (interpolate, align_corners
// false), a property the tests check.
#include <torch/torch.h>

namespace srlab::models {

struct DySampleOptions {
  int64_t in_channels = 48;  ///< C; must be a multiple of groups
  int64_t out_channels = 3;  ///< end_conv output channels
  int64_t scale = 4;         ///< s >= 1
  int64_t groups = 4;        ///< g
  bool end_convolution = true;
};

/// forward: (N,C,H,W) -> (N,out_channels,s*H,s*W) (or (N,C,s*H,s*W) without end_conv).
/// Throws srlab::Error at construction when in_channels is not a positive multiple of groups.
class DySampleImpl : public torch::nn::Module {
 public:
  explicit DySampleImpl(const DySampleOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  const DySampleOptions& options() const { return options_; }

  torch::nn::Conv2d offset{nullptr};   ///< C -> 2*g*s*s, 1x1, bias
  torch::nn::Conv2d scope{nullptr};    ///< C -> 2*g*s*s, 1x1, no bias (initialised to zero)
  torch::nn::Conv2d end_conv{nullptr}; ///< C -> out_channels, 1x1 (only when end_convolution)
  torch::Tensor init_pos;              ///< buffer (1, 2*g*s*s, 1, 1)

 private:
  DySampleOptions options_;
};
TORCH_MODULE(DySample);

}  // namespace srlab::models
