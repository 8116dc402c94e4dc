#include "train/amp.h"

#include <cmath>

#include "core/error.h"
#include "core/torch_compat.h"

namespace srlab::train {

namespace {
c10::DeviceType device_type(bool cuda) { return cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU; }
bool autocast_enabled(bool cuda) { return torch_compat::autocast_enabled(device_type(cuda)); }
at::ScalarType autocast_dtype(bool cuda) { return torch_compat::autocast_dtype(device_type(cuda)); }
void set_autocast(bool cuda, bool enabled, at::ScalarType dtype) {
  torch_compat::set_autocast(device_type(cuda), enabled, dtype);
}
}  // namespace

std::optional<AmpMode> parse_amp_mode(const std::string& s) {
  if (s == "off") return AmpMode::off;
  if (s == "fp16") return AmpMode::fp16;
  if (s == "bf16") return AmpMode::bf16;
  return std::nullopt;
}

std::string amp_mode_name(AmpMode m) { return m == AmpMode::fp16 ? "fp16" : m == AmpMode::bf16 ? "bf16" : "off"; }

AutocastScope::AutocastScope(AmpMode mode, torch::Device device) {
  if (mode == AmpMode::off) return;
  cuda_ = device.is_cuda();
  if (mode == AmpMode::fp16 && !cuda_)
    throw Error("train.amp: fp16 autocast needs a CUDA device (" + device.str() + " given); use bf16 or off");
  prev_enabled_ = autocast_enabled(cuda_);
  prev_dtype_ = autocast_dtype(cuda_);
  set_autocast(cuda_, true, mode == AmpMode::fp16 ? at::kHalf : at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Like torch.autocast.__exit__: drop the cast-weight cache when the outermost region ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cuda_, prev_enabled_, prev_dtype_);
}

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) const {
  torch::NoGradGuard no_grad;
  bool found_inf = false;
  const double inv = 1.0 / scale_;
  for (const auto& p : params) {
    torch::Tensor g = p.grad();
    if (!g.defined()) continue;
    g.mul_(inv);
    if (!found_inf && !torch::isfinite(g).all().item<bool>()) found_inf = true;
  }
  return found_inf;
}

void LossScaler::update(bool found_inf) {
  if (found_inf) {
    scale_ *= o_.backoff_factor;
    tracker_ = 0;
    return;
  }
  if (++tracker_ == o_.growth_interval) {
    scale_ *= o_.growth_factor;
    tracker_ = 0;
  }
}

void LossScaler::load_state(const std::vector<double>& s) {
  if (s.size() != 2 || !(s[0] > 0) || !std::isfinite(s[0]) || s[1] < 0)
    throw Error("loss scaler state must be {scale > 0, growth_tracker >= 0}");
  scale_ = s[0];
  tracker_ = static_cast<int>(s[1]);
}

}  // namespace srlab::train
