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

torch::nn::Conv2d same_conv(int64_t in, int64_t out, int64_t k) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(1).padding(k / 2));
}

torch::nn::Conv2d conv3x3(int64_t in, int64_t out) { return same_conv(in, out, 3); }

torch::Tensor nearest_x2(const torch::Tensor& x) {
  return torch::nn::functional::interpolate(
      x, torch::nn::functional::InterpolateFuncOptions()
             .size(std::vector<int64_t>{x.size(2) * 2, x.size(3) * 2})
             .mode(torch::kNearest));
}

torch::nn::LayerNorm layer_norm(int64_t dim) { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)); }

torch::nn::Linear trunc_normal_linear(int64_t in, int64_t out, bool bias) {
  torch::nn::Linear l(torch::nn::LinearOptions(in, out).bias(bias));
  torch::NoGradGuard ng;
  l->weight.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  if (l->bias.defined()) l->bias.zero_();
  return l;
}

bool parse_resi_connection(const core::Config& params) {
  const std::string r = params.get<std::string>("resi_connection", "1conv");
  if (r == "1conv") return false;
  if (r == "3conv") return true;
  params.fail("resi_connection", "unknown value '" + r + "'; use 1conv or 3conv");
}

torch::Tensor crop_border(const torch::Tensor& x, int64_t m) { return x.slice(2, m, x.size(2) - m).slice(3, m, x.size(3) - m); }

}  // namespace srlab::models
