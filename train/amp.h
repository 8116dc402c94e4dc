#pragma once
// Mixed-precision training (train.amp: off | fp16 | bf16): an autocast region around the forward pass
// and the loss, and, for fp16, dynamic loss scaling.
//
// LossScaler follows torch.cuda.amp.GradScaler (PyTorch torch/cuda/amp/grad_scaler.py and the
// _amp_update_scale_ kernel; Micikevicius et al., "Mixed Precision Training", ICLR 2018, Sec. 3.2):
// the loss is multiplied by `scale` before backward; the gradients are divided by it before clipping
// and the optimizer step; if any gradient is inf/NaN the step is skipped and scale *= backoff_factor,
// otherwise after growth_interval consecutive good steps scale *= growth_factor.
#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace srlab::train {

enum class AmpMode { off, fp16, bf16 };

/// "off" | "fp16" | "bf16" -> AmpMode; std::nullopt for anything else.
std::optional<AmpMode> parse_amp_mode(const std::string& s);
std::string amp_mode_name(AmpMode m);

/// Autocast for the scope's lifetime: CUDA autocast to float16/bfloat16, CPU autocast to bfloat16.
/// AmpMode::off does nothing. Throws srlab::Error for fp16 on a non-CUDA device (CPU autocast only
/// supports bfloat16; the config check refuses it earlier).
class AutocastScope {
 public:
  AutocastScope(AmpMode mode, torch::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kFloat;
};

struct LossScalerOptions {
  double init_scale = 65536.0;  ///< 2^16, GradScaler's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int growth_interval = 2000;   ///< good steps before the scale grows
};

class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions o = {}) : o_(o), scale_(o.init_scale) {}

  double scale() const { return scale_; }
  int growth_tracker() const { return tracker_; }
  /// loss * scale (0-dim float tensor).
  torch::Tensor scale_loss(const torch::Tensor& loss) const { return loss * scale_; }
  /// Divides every defined grad of `params` by scale (in float32/64) and returns true when any
  /// gradient holds inf or NaN (the step must then be skipped).
  bool unscale_and_check(const std::vector<torch::Tensor>& params) const;
  /// After a step: found_inf -> scale *= backoff_factor, tracker 0; else tracker + 1, and when it
  /// reaches growth_interval: scale *= growth_factor, tracker 0.
  void update(bool found_inf);

  /// State for checkpoints: {scale, growth_tracker}.
  std::vector<double> state() const { return {scale_, static_cast<double>(tracker_)}; }
  void load_state(const std::vector<double>& s);

 private:
  LossScalerOptions o_;
  double scale_;
  int tracker_ = 0;
};

}  // namespace srlab::train
