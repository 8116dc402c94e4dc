#include "models/arch/arch_util.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/shape.h"

namespace srlab::models {
using core::shape_text;

namespace {
std::string list_text(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i == 0 ? "" : (i + 1 == v.size() ? " or " : ", ")) + std::to_string(v[i]);
  return s;
}
}  // namespace

void check_lr_batch(const torch::Tensor& lr, const std::string& arch) {
  if (!lr.defined()) throw Error(arch + ": input tensor is undefined; pass an (N,3,h,w) float batch in [0,1]");
  if (lr.dim() != 4 || lr.size(1) != 3 || lr.size(0) < 1 || lr.size(2) < 1 || lr.size(3) < 1)
    throw Error(arch + ": expected an LR batch of shape (N,3,h,w) with N,h,w >= 1, got " + shape_text(lr) +
                "; add a batch dimension with unsqueeze(0) and convert grayscale images to RGB");
  if (!lr.is_floating_point())
    throw Error(arch + ": expected a floating-point LR batch in [0,1], got dtype " +
                std::string(c10::toString(lr.scalar_type())) + "; convert with to(torch::kFloat32).div(255)");
}

void check_scale(const core::Config& params, const std::string& arch, int scale, const std::vector<int>& supported) {
  if (std::find(supported.begin(), supported.end(), scale) == supported.end())
    params.fail("", arch + " does not support scale " + std::to_string(scale) + "; set the `scale` key to " +
                        list_text(supported));
}

void check_scale(const std::string& arch, int scale, const std::vector<int>& supported) {
  if (std::find(supported.begin(), supported.end(), scale) == supported.end())
    throw Error(arch + " does not support scale " + std::to_string(scale) + "; use " + list_text(supported));
}

// --- shared with hat ---
torch::Tensor reflect_pad_to_multiple(const torch::Tensor& x, int64_t multiple) {
  namespace F = torch::nn::functional;
  torch::Tensor y = x;
  const int64_t target_h = (x.size(2) + multiple - 1) / multiple * multiple;
  const int64_t target_w = (x.size(3) + multiple - 1) / multiple * multiple;
  while (y.size(2) < target_h || y.size(3) < target_w) {
    const int64_t ph = std::min(target_h - y.size(2), y.size(2) - 1), pw = std::min(target_w - y.size(3), y.size(3) - 1);
    if ((ph == 0 && y.size(2) < target_h) || (pw == 0 && y.size(3) < target_w)) {
      // A side of length 1 cannot be reflected: replicate it.
      const int64_t rh = y.size(2) == 1 ? target_h - 1 : 0, rw = y.size(3) == 1 ? target_w - 1 : 0;
      y = F::pad(y, F::PadFuncOptions({0, rw, 0, rh}).mode(torch::kReplicate));
      continue;
    }
    y = F::pad(y, F::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReflect));
  }
  return y;
}

}  // namespace srlab::models
