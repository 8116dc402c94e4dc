#include "models/weights/finite.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace srlab::models {

namespace {
/// One pass over contiguous CPU float32 data: no temporary tensor, no thread-pool round trip per tensor
/// (a state dict has hundreds of small tensors). NaN and Inf are the values with an all-ones exponent.
bool all_finite_f32(const float* p, int64_t n) {
  uint32_t all_ones = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p + i, 4);
    all_ones |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return all_ones == 0;
}
}  // namespace

void require_finite(const torch::Tensor& t, const std::string& key, const std::string& file) {
  if (!t.defined() || !t.is_floating_point() || t.numel() == 0) return;
  torch::NoGradGuard no_grad;
  if (t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous() &&
      all_finite_f32(t.data_ptr<float>(), t.numel()))
    return;
  const torch::Tensor finite = torch::isfinite(t);
  if (finite.all().item<bool>()) return;
  const int64_t bad = t.numel() - finite.sum().item<int64_t>();
  throw Error(fmt::format("weight file '{}': tensor '{}' holds {} NaN/Inf value{} (of {}); the file is damaged or "
                          "was saved from a diverged training run: use another file or an earlier checkpoint",
                          file, key, bad, bad == 1 ? "" : "s", t.numel()));
}

}  // namespace srlab::models
