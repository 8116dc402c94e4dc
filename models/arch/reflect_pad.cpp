#include "models/arch/reflect_pad.h"

#include <vector>

#include "core/error.h"

namespace srlab::models {

namespace {
/// Source index of every output position -before .. n+after-1 of a reflected axis of length n.
torch::Tensor reflect_indices(int64_t n, int64_t before, int64_t after) {
  std::vector<int64_t> idx;
  idx.reserve(static_cast<size_t>(n + before + after));
  const int64_t period = 2 * (n - 1);
  for (int64_t j = -before; j < n + after; ++j) {
    if (period == 0) {
      idx.push_back(0);
      continue;
    }
    const int64_t m = ((j % period) + period) % period;
    idx.push_back(m < n ? m : period - m);
  }
  return torch::tensor(idx, torch::kLong);
}
}  // namespace

torch::Tensor reflect_pad2d_any(const torch::Tensor& x, int64_t left, int64_t right, int64_t top, int64_t bottom) {
  if (x.dim() != 4) throw Error("reflect_pad2d_any: expected an (N,C,H,W) tensor");
  if (left < 0 || right < 0 || top < 0 || bottom < 0) throw Error("reflect_pad2d_any: pads must be >= 0");
  if (left == 0 && right == 0 && top == 0 && bottom == 0) return x;
  const int64_t h = x.size(2), w = x.size(3);
  if (left < w && right < w && top < h && bottom < h)
    return torch::reflection_pad2d(x, {left, right, top, bottom});
  const torch::Tensor rows = reflect_indices(h, top, bottom).to(x.device());
  const torch::Tensor cols = reflect_indices(w, left, right).to(x.device());
  return x.index_select(2, rows).index_select(3, cols);
}

torch::Tensor reflect_pad_to_multiple(const torch::Tensor& x, int64_t multiple) {
  if (multiple < 1) throw Error("reflect_pad_to_multiple: multiple must be >= 1");
  const int64_t ph = (multiple - x.size(2) % multiple) % multiple;
  const int64_t pw = (multiple - x.size(3) % multiple) % multiple;
  return reflect_pad2d_any(x, 0, pw, 0, ph);
}

}  // namespace srlab::models
