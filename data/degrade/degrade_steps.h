#pragma once
// The primitive degradation steps (blur/sinc, resize, bicubic, noise, JPEG) with their YAML options.
// Each options struct's defaults are Real-ESRGAN's first-stage values (Wang et al., ICCVW 2021,
// options/train_realesrgan_x4plus.yml); the pipelines in degrade_pipelines.cpp pass their own defaults
// for the second stage. read() takes the defaults to fill missing keys.
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "data/degrade/blur_kernels.h"
#include "data/degrade/degrade_random.h"
#include "data/degrade/degrade_step.h"

namespace srlab::data {

/// Blur with a kernel from the mixed sampler (blur_kernels.h), applied with probability `prob`.
struct BlurOptions {
  double prob = 1.0;
  KernelSamplerOptions kernel;
  /// Keys: prob plus those of KernelSamplerOptions::read().
  static BlurOptions read(const core::Config& cfg, const BlurOptions& defaults);
  /// Real-ESRGAN's final sinc filter: prob 0.8, sinc kernels only, cutoff [pi/3, pi] (60-180 degrees).
  static BlurOptions sinc_defaults();
};
/// `name` is the record's type ("blur" or "sinc").
StepPtr make_blur_step(const BlurOptions& options, const std::string& name = "blur");

/// Resize. to = "target": to the LR size (HR / scale). to = "random": by a factor drawn as
/// Real-ESRGAN does: direction up/down/keep with weights `updown`, factor uniform in [1, range.hi]
/// (up) or [range.lo, 1] (down), applied to the input size (relative_to = "input") or to the LR target
/// size (relative_to = "target", Real-ESRGAN's second stage). The mode is drawn from `modes`.
struct ResizeOptions {
  double prob = 1.0;  ///< only for to = random (a target resize is always applied)
  std::string to = "target";
  std::string relative_to = "input";
  std::vector<double> updown = {0.2, 0.7, 0.1};
  Range range{0.15, 1.5};
  std::vector<std::pair<std::string, double>> modes = {{"bicubic", 1.0}, {"bilinear", 1.0}, {"area", 1.0}};
  /// Keys: prob, to, relative_to, updown ([up, down, keep]), range, modes.
  static ResizeOptions read(const core::Config& cfg, const ResizeOptions& defaults);
};
StepPtr make_resize_step(const ResizeOptions& options);

/// MATLAB-exact bicubic downsampling to the LR size on the 8-bit integer image (imresize_integer), the
/// classic benchmark degradation. No options.
StepPtr make_bicubic_step();
/// The bicubic step's recipe on a float (C,H,W) or (N,C,H,W) CPU image on the 8-bit grid: imresize_integer by 1/scale when it is exactly the HR size (target x scale), else float imresize to
/// target_h x target_w. Not clamped after the resize.
torch::Tensor bicubic_to_target(const torch::Tensor& img, int target_h, int target_w, int scale);

/// Additive noise with probability `prob`: Gaussian (probability gaussian_prob, sigma in 0-255 units)
/// or else Poisson (scale); luminance-only ("gray") noise with probability gray_prob.
struct NoiseOptions {
  double prob = 1.0;
  double gaussian_prob = 0.5;
  Range sigma{1.0, 30.0};
  Range poisson_scale{0.05, 3.0};
  double gray_prob = 0.4;
  /// Keys: prob, gaussian_prob, sigma, poisson_scale, gray_prob.
  static NoiseOptions read(const core::Config& cfg, const NoiseOptions& defaults);
};
StepPtr make_noise_step(const NoiseOptions& options);

/// JPEG compression with probability `prob` at a quality drawn uniformly from `quality` (rounded).
struct JpegOptions {
  double prob = 1.0;
  Range quality{30.0, 95.0};
  /// Keys: prob, quality.
  static JpegOptions read(const core::Config& cfg, const JpegOptions& defaults);
};
StepPtr make_jpeg_step(const JpegOptions& options);

/// Registers blur, sinc, resize, bicubic, noise, jpeg (called by the built-in registration).
void register_primitive_degradations();
/// Registers sequence, random_order, first_order, second_order (degrade_pipelines.cpp).
void register_pipeline_degradations();

}  // namespace srlab::data
