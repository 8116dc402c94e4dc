#include "models/weights/finite.h"

#include <fmt/format.h>

#include "core/error.h"

namespace srlab::models {

void require_finite(const torch::Tensor& t, const std::string& key, const std::string& file) {
  if (!t.defined() || !t.is_floating_point() || t.numel() == 0) return;
  torch::NoGradGuard no_grad;
  const torch::Tensor finite = torch::isfinite(t);
  if (finite.all().item<bool>()) return;
  const int64_t bad = t.numel() - finite.sum().item<int64_t>();
  throw Error(fmt::format("weight file '{}': tensor '{}' holds {} NaN/Inf value{} (of {}); the file is damaged or "
                          "was saved from a diverged training run: use another file or an earlier checkpoint",
                          file, key, bad, bad == 1 ? "" : "s", t.numel()));
}

}  // namespace srlab::models
