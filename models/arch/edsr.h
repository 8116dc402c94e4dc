#pragma once
// EDSR: Lim et al., "Enhanced Deep Residual Networks for Single Image Super-Resolution", CVPRW 2017
// (Sec. 3.1 and Fig. 2: residual blocks without batch norm; Sec. 3.2 and Fig. 3: the single-scale
// network, residual scaling, baseline vs. full sizes).
//
// Layout and state-dict keys follow BasicSR's EDSR (basicsr/archs/edsr_arch.py) exactly, so BasicSR
// checkpoints load by name:
//   conv_first               Conv2d 3 -> F, 3x3
//   body.<i>.conv1/.conv2    i = 0..B-1, ResidualBlockNoBN: x + res_scale * conv2(relu(conv1(x)))
//   conv_after_body          Conv2d F -> F, 3x3; its output is added to conv_first's (global skip)
//   upsample.<k>             the convs of the Upsample sequence: x2: upsample.0 (F -> 4F) + shuffle(2);
//                            x4: upsample.0, upsample.2 (each F -> 4F + shuffle(2)); x3: upsample.0
//                            (F -> 9F) + shuffle(3)
//   conv_last                Conv2d F -> 3, 3x3
// Input normalisation as BasicSR: x' = (x - rgb_mean) * img_range before conv_first, and
// y = out / img_range + rgb_mean after conv_last (rgb_mean is not a parameter/buffer, as in BasicSR).
// Weights use LibTorch's default Conv2d initialisation (= BasicSR's pytorch_init=True).
//
// YAML (`model:` section):
//   type: edsr
//   num_feat: 64     # F
//   num_block: 16    # B
//   res_scale: 1.0   # residual scaling (paper Sec. 3.2)
//   img_range: 255.
//   rgb_mean: [0.4488, 0.4371, 0.4040]   # DIV2K mean, RGB
// The paper's models: EDSR-baseline = F 64, B 16, res_scale 1 (also the preset `type: edsr_baseline`,
// which takes no parameters; 1,517,571 parameters at x4); full "EDSR" = F 256, B 32, res_scale 0.1
// (write it with `type: edsr` and those three parameters). Supported scales: 2, 3, 4.
#include <torch/torch.h>

#include <array>
#include <string>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

struct EdsrOptions {
  int scale = 4;           ///< 2, 3 or 4
  int num_feat = 64;       ///< >= 1
  int num_block = 16;      ///< >= 0
  double res_scale = 1.0;  ///< > 0
  double img_range = 255.; ///< > 0
  std::array<double, 3> rgb_mean{0.4488, 0.4371, 0.4040};
};

/// BasicSR's ResidualBlockNoBN (EDSR paper Fig. 2c): x + res_scale * conv2(relu(conv1(x))), 3x3 convs,
/// (N,F,h,w) -> (N,F,h,w).
class ResidualBlockNoBNImpl : public torch::nn::Module {
 public:
  ResidualBlockNoBNImpl(int64_t num_feat, double res_scale);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};

 private:
  double res_scale_;
};
TORCH_MODULE(ResidualBlockNoBN);

/// EDSR generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s), not
/// clamped. Throws srlab::Error for a malformed input batch.
class EdsrImpl : public GeneratorImpl {
 public:
  /// `type_name` is what type() reports ("edsr", or a preset name such as "edsr_baseline").
  /// Throws srlab::Error for an unsupported scale or invalid sizes.
  explicit EdsrImpl(const EdsrOptions& options, std::string type_name = "edsr");

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return type_name_; }
  const EdsrOptions& options() const { return options_; }

  torch::nn::Conv2d conv_first{nullptr};
  torch::nn::Sequential body{nullptr};
  torch::nn::Conv2d conv_after_body{nullptr};
  torch::nn::Sequential upsample{nullptr};
  torch::nn::Conv2d conv_last{nullptr};

 private:
  EdsrOptions options_;
  std::string type_name_;
  torch::Tensor mean_;  ///< (1,3,1,1); deliberately not registered (BasicSR has no "mean" key)
};

/// Trainable parameter count by formula (F = num_feat, B = num_block, s = scale):
/// conv_first 27F+F, body B*2*(9F^2+F), conv_after_body 9F^2+F, upsample per x2 stage 36F^2+4F (x3:
/// 81F^2+9F), conv_last 27F+3.
int64_t edsr_parameter_count(const EdsrOptions& options);

/// Registry factory for "edsr": reads num_feat, num_block, res_scale, img_range, rgb_mean.
Generator make_edsr(const core::Config& params, int scale);
/// Registry factory for the preset "edsr_baseline" (F 64, B 16, res_scale 1; accepts no parameters).
Generator make_edsr_baseline(const core::Config& params, int scale);

/// State-dict detectors (BasicSR keys): num_feat from conv_first, num_block from body.<i>.conv1, scale
/// from upsample.0 (4F outputs: x2, or x4 with upsample.2; 9F: x3). 64 features x 16 blocks is
/// edsr_baseline, every other size edsr; res_scale, img_range and rgb_mean leave no trace and take
/// BasicSR's defaults (override with --model-option, after type=edsr for a baseline-sized file).
std::optional<DetectedModel> detect_edsr(const StateDict& state_dict);
std::optional<DetectedModel> detect_edsr_baseline(const StateDict& state_dict);

/// Registers "edsr" and "edsr_baseline" (called from builtin_generators.cpp).
void register_edsr();

}  // namespace srlab::models
