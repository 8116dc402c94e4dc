#pragma once
// SRVGGNetCompact: the compact VGG-style generator of Real-ESRGAN (Wang et al., "Real-ESRGAN: Training
// Real-World Blind Super-Resolution with Pure Synthetic Data", ICCVW 2021; the network of the released
// realesr-animevideov3 (num_conv 16) and realesr-general-x4v3 (num_conv 32) models). All convolutions
// run at LR resolution; the last conv predicts s*s sub-pixels per colour, a pixel shuffle places them,
// and the nearest-upsampled input is added, so the network learns a residual.
//
// Layout and state-dict keys follow BasicSR's SRVGGNetCompact (basicsr/archs/srvgg_arch.py): one flat
// list `body` (F = num_feat, K = num_conv, s = scale):
//   body.0                 Conv2d 3 -> F, 3x3
//   body.1                 activation (PReLU with F slopes: key body.1.weight; ReLU/LeakyReLU: no key)
//   body.2k, body.2k+1     k = 1..K: Conv2d F -> F, 3x3, and its activation
//   body.2K+2              Conv2d F -> 3*s*s, 3x3 (no activation)
// then pixel shuffle by s (torch::pixel_shuffle channel order) and
//   y = shuffle(body(x)) + nearest_upsample(x, s)     (PyTorch 'nearest': src = floor(dst / s)).
// Activations: prelu (default; torch::nn::PReLU, num_parameters = F, init 0.25), relu, leakyrelu
// (negative slope 0.1, as BasicSR). Weights use LibTorch's default initialisation (BasicSR does not
// re-initialise this network). Zero padding keeps any h, w >= 1.
//
// YAML (`model:` section):
//   type: srvgg_compact
//   num_feat: 64       # F >= 1
//   num_conv: 16       # K >= 0 (realesr-general-x4v3: 32)
//   act_type: prelu    # prelu | relu | leakyrelu
// Supported scales: 2, 3, 4. Defaults at x4: 621,424 parameters.
#include <torch/torch.h>

#include <string>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

enum class SrvggActivation { kPrelu, kRelu, kLeakyRelu };

struct SrvggOptions {
  int scale = 4;     ///< 2, 3 or 4
  int num_feat = 64; ///< F >= 1
  int num_conv = 16; ///< K >= 0 hidden F -> F convs
  SrvggActivation act_type = SrvggActivation::kPrelu;
};

/// Negative slope of the leakyrelu activation of SRVGGNetCompact (BasicSR: 0.1).
constexpr double kSrvggLeakySlope = 0.1;

/// SRVGGNetCompact generator (see the file comment). forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s),
/// not clamped. Throws srlab::Error for a malformed input batch.
class SrvggCompactImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or invalid sizes.
  explicit SrvggCompactImpl(const SrvggOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "srvgg_compact"; }
  const SrvggOptions& options() const { return options_; }

  /// conv, act, (conv, act) x num_conv, conv: 2*num_conv + 3 modules (BasicSR's ModuleList order).
  torch::nn::Sequential body{nullptr};

 private:
  SrvggOptions options_;
};

/// Trainable parameter count (F, K, s as above): 28F (first conv) + K(9F^2 + F) + 9F*3s^2 + 3s^2, plus
/// (K+1)F PReLU slopes when act_type is prelu.
int64_t srvgg_parameter_count(const SrvggOptions& options);

/// Registry factory for "srvgg_compact": reads num_feat, num_conv, act_type (errors name the key).
Generator make_srvgg_compact(const core::Config& params, int scale);

/// State-dict detector (BasicSR keys body.<i>): convs are the 4-D body.<even>.weight, num_feat from
/// body.0, num_conv = convs - 2, scale from the last conv's 3*s*s outputs; act_type prelu when 1-D
/// body.<odd>.weight slopes exist, else relu (relu/leakyrelu leave no trace: override act_type).
std::optional<DetectedModel> detect_srvgg_compact(const StateDict& state_dict);

/// Registers "srvgg_compact" (called from builtin_generators.cpp).
void register_srvgg();

}  // namespace srlab::models
