#include "models/disc/spectral_norm.h"

#include "core/error.h"
#include "core/torch_compat.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
void check_options(const SpectralNormOptions& o, const std::string& where) {
  if (o.n_power_iterations < 1)
    throw Error(where + ": n_power_iterations must be >= 1, got " + std::to_string(o.n_power_iterations));
  if (!(o.eps > 0.0)) throw Error(where + ": eps must be > 0, got " + std::to_string(o.eps));
}
}  // namespace

torch::Tensor normalize_vector(const torch::Tensor& x, double eps) { return x / x.norm().clamp_min(eps); }

void spectral_power_iteration(const torch::Tensor& weight_mat, torch::Tensor& u, torch::Tensor& v, int n_iterations,
                              double eps) {
  if (weight_mat.dim() != 2 || u.dim() != 1 || v.dim() != 1 || u.size(0) != weight_mat.size(0) ||
      v.size(0) != weight_mat.size(1))
    throw Error("spectral norm: power iteration needs W (h,w), u (h), v (w), got W " + c10::str(weight_mat.sizes()) +
                ", u " + c10::str(u.sizes()) + ", v " + c10::str(v.sizes()));
  if (n_iterations < 0) throw Error("spectral norm: n_iterations must be >= 0, got " + std::to_string(n_iterations));
  torch::NoGradGuard no_grad;
  const torch::Tensor w = weight_mat.detach();
  for (int i = 0; i < n_iterations; ++i) {
    v.copy_(normalize_vector(torch::mv(w.t(), u), eps));
    u.copy_(normalize_vector(torch::mv(w, v), eps));
  }
}

torch::Tensor spectral_sigma(const torch::Tensor& weight_mat, const torch::Tensor& u, const torch::Tensor& v) {
  return torch::dot(u, torch::mv(weight_mat, v));
}

SpectralNorm::SpectralNorm(torch::nn::Module& owner, const std::string& name, const torch::Tensor& weight,
                           const SpectralNormOptions& options)
    : options_(options) {
  check_options(options, "spectral norm of '" + name + "'");
  if (!weight.defined() || !weight.is_floating_point() || weight.dim() < 2 || weight.size(0) < 1 || weight.numel() < 1)
    throw Error("spectral norm of '" + name + "': expected a floating-point weight with >= 2 dimensions (dim 0 = " +
                "outputs), got " + (weight.defined() ? c10::str(weight.sizes()) : std::string("an undefined tensor")));
  torch::NoGradGuard no_grad;
  const torch::Tensor w = weight.detach();
  const int64_t h = w.size(0), cols = w.numel() / h;
  weight_orig_ = owner.register_parameter(name + "_orig", w.clone());
  u_ = owner.register_buffer(name + "_u", normalize_vector(torch::randn({h}, w.options()), options.eps));
  v_ = owner.register_buffer(name + "_v", normalize_vector(torch::randn({cols}, w.options()), options.eps));
}

torch::Tensor SpectralNorm::matrix() const { return weight_orig_.reshape({weight_orig_.size(0), -1}); }

torch::Tensor SpectralNorm::weight(bool training) {
  if (!weight_orig_.defined()) throw Error("spectral norm: used before construction");
  const torch::Tensor w = matrix();
  if (training) spectral_power_iteration(w, u_, v_, options_.n_power_iterations, options_.eps);
  // Copies: the buffers are updated in place by the next training-mode call, possibly before this
  // call's graph is back-propagated (discriminator on real and fake batches, then one backward).
  const torch::Tensor u = u_.detach().clone(), v = v_.detach().clone();
  return weight_orig_ / spectral_sigma(w, u, v);
}

torch::Tensor SpectralNorm::sigma() const {
  torch::NoGradGuard no_grad;
  return spectral_sigma(matrix().detach(), u_, v_).detach();
}

// ---- SpectralNormConv2d ----

SpectralNormConv2dImpl::SpectralNormConv2dImpl(const torch::nn::Conv2dOptions& options, const SpectralNormOptions& sn_options)
    : options_(options) {
  if (!torch_compat::holds_alternative<torch::enumtype::kZeros>(options.padding_mode()))
    throw Error("SpectralNormConv2d: only padding_mode zeros is supported, got " +
                torch::enumtype::get_enum_name(options.padding_mode()));
  check_options(sn_options, "SpectralNormConv2d");
  // LibTorch's default Conv2d initialisation (kaiming-uniform weight, uniform bias), as PyTorch's
  // spectral_norm keeps the wrapped layer's initial values.
  torch::nn::Conv2d init(options);
  if (options.bias()) bias = register_parameter("bias", init->bias.detach().clone());
  sn = SpectralNorm(*this, "weight", init->weight, sn_options);
}

torch::Tensor SpectralNormConv2dImpl::forward(const torch::Tensor& x) {
  return F::conv2d(x, sn.weight(is_training()),
                   F::Conv2dFuncOptions()
                       .bias(bias)
                       .stride(options_.stride())
                       .padding(options_.padding())
                       .dilation(options_.dilation())
                       .groups(options_.groups()));
}

torch::Tensor SpectralNormConv2dImpl::normalized_weight() const {
  torch::NoGradGuard no_grad;
  return (sn.weight_orig().detach() / sn.sigma()).detach();
}

// ---- SpectralNormLinear ----

SpectralNormLinearImpl::SpectralNormLinearImpl(const torch::nn::LinearOptions& options, const SpectralNormOptions& sn_options)
    : options_(options) {
  check_options(sn_options, "SpectralNormLinear");
  torch::nn::Linear init(options);
  if (options.bias()) bias = register_parameter("bias", init->bias.detach().clone());
  sn = SpectralNorm(*this, "weight", init->weight, sn_options);
}

torch::Tensor SpectralNormLinearImpl::forward(const torch::Tensor& x) {
  return F::linear(x, sn.weight(is_training()), bias);
}

torch::Tensor SpectralNormLinearImpl::normalized_weight() const {
  torch::NoGradGuard no_grad;
  return (sn.weight_orig().detach() / sn.sigma()).detach();
}

}  // namespace srlab::models
