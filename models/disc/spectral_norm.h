#pragma once
// Spectral normalisation: Miyato, Kataoka, Koyama, Yoshida, "Spectral Normalization for Generative
// Adversarial Networks", ICLR 2018 (Sec. 2.1: W_SN = W / sigma(W); Sec. 2.2 and Algorithm 1: sigma(W)
// estimated by one step of power iteration per training update, reusing u across updates; Appendix C.1
// for convolutions: the kernel reshaped to a (C_out, C_in/groups * kh * kw) matrix).
//
// LibTorch has no torch::nn::utils::spectral_norm, so SRLab provides
//   - SpectralNorm: a helper that registers the weight and the power-iteration vectors on a module and
//     computes the normalised weight (usable for any weight whose dim 0 is the output dimension);
//   - SpectralNormConv2d and SpectralNormLinear: Conv2d / Linear with spectral-normalised weights.
// Names and semantics match PyTorch's torch.nn.utils.spectral_norm(module) (name = "weight", dim = 0),
// so BasicSR / Real-ESRGAN state dicts load by name:
//   <prefix>.bias         parameter (when the layer has a bias)
//   <prefix>.weight_orig  parameter, the unnormalised W, shape (C_out, C_in/groups, kh, kw) or (out, in)
//   <prefix>.weight_u     buffer (C_out): left singular vector estimate u, ||u|| = 1
//   <prefix>.weight_v     buffer (C_in/groups * kh * kw) or (in): right singular vector estimate v, ||v|| = 1
// (PyTorch's key order: the bias first, because spectral_norm re-registers the weight after it.)
//
// With W the (h, w) matrix view of weight_orig, forward does
//   training mode: n_power_iterations times, without gradient tracking (Algorithm 1, lines 2-3)
//                      v <- W^T u / max(||W^T u||, eps),   u <- W v / max(||W v||, eps)
//                  and stores u, v in the buffers (they persist across calls, as the paper prescribes);
//   eval mode:     no update; the stored u, v are used as they are;
//   both:          sigma = u^T W v (differentiable w.r.t. W, u and v held constant), weight = W / sigma,
//                  then the ordinary convolution / linear map with that weight and the bias.
// u and v are initialised from N(0, 1) and normalised; weight_orig and bias use LibTorch's default
// Conv2d / Linear initialisation. As in PyTorch, nothing is normalised at construction: sigma is first
// estimated at the first training-mode forward.
#include <torch/torch.h>

#include <string>

namespace srlab::models {

/// Options of the spectral normalisation (PyTorch's defaults).
struct SpectralNormOptions {
  int n_power_iterations = 1;  ///< power-iteration steps per training-mode forward, >= 1
  double eps = 1e-12;          ///< lower bound of the norm when normalising u and v, > 0
};

/// x / max(||x||_2, eps) for a 1-D tensor x (PyTorch's F.normalize(x, dim=0, eps=eps)).
torch::Tensor normalize_vector(const torch::Tensor& x, double eps);

/// Runs `n_iterations` power-iteration steps (see the file comment) on the (h, w) matrix `weight_mat`,
/// updating `u` (h) and `v` (w) in place, without gradient tracking. Throws srlab::Error when the shapes
/// do not match or n_iterations < 0.
void spectral_power_iteration(const torch::Tensor& weight_mat, torch::Tensor& u, torch::Tensor& v, int n_iterations,
                              double eps);

/// sigma = u^T W v: the estimate of the largest singular value of the (h, w) matrix `weight_mat` (same
/// units as its entries; > 0 once u, v have converged). 0-D tensor, differentiable w.r.t. `weight_mat`.
torch::Tensor spectral_sigma(const torch::Tensor& weight_mat, const torch::Tensor& u, const torch::Tensor& v);

/// The spectral normalisation of one weight, registered on an owning module (see the file comment).
/// Holds handles to the owner's tensors: `module.to(device)` and in-place checkpoint loading keep
/// working, because both replace the data of the registered tensors, not the tensors themselves.
class SpectralNorm {
 public:
  SpectralNorm() = default;
  /// Registers `<name>_orig` (parameter, initialised with `weight`'s values; dim 0 = output dimension,
  /// at least 2-D) and the buffers `<name>_u` (size(0)) and `<name>_v` (numel / size(0)) on `owner`,
  /// u and v drawn from N(0, 1) (torch's global generator) and normalised.
  /// Throws srlab::Error for an undefined/non-float/<2-D weight or invalid options.
  SpectralNorm(torch::nn::Module& owner, const std::string& name, const torch::Tensor& weight,
               const SpectralNormOptions& options = {});

  /// The normalised weight W / sigma(W) (shape of weight_orig), differentiable w.r.t. weight_orig.
  /// `training` = true first runs the power iteration and updates the u/v buffers; false uses them as
  /// they are (the owner's is_training() is the usual argument).
  torch::Tensor weight(bool training);
  /// sigma = u^T W v with the current buffers (no update), detached 0-D tensor.
  torch::Tensor sigma() const;

  /// The registered tensors: weight_orig (parameter), u and v (buffers).
  const torch::Tensor& weight_orig() const { return weight_orig_; }
  const torch::Tensor& u() const { return u_; }
  const torch::Tensor& v() const { return v_; }
  const SpectralNormOptions& options() const { return options_; }

 private:
  torch::Tensor matrix() const;  // weight_orig viewed as (h, w)
  torch::Tensor weight_orig_, u_, v_;
  SpectralNormOptions options_;
};

/// Conv2d with a spectral-normalised weight (PyTorch: spectral_norm(nn.Conv2d(...))).
/// Keys: bias (if options.bias()), weight_orig (C_out, C_in/groups, kh, kw), weight_u (C_out),
/// weight_v (C_in/groups * kh * kw).
class SpectralNormConv2dImpl : public torch::nn::Module {
 public:
  /// Throws srlab::Error for a padding_mode other than zeros (not supported) or invalid `sn` options.
  explicit SpectralNormConv2dImpl(const torch::nn::Conv2dOptions& options, const SpectralNormOptions& sn = {});

  /// x (N, C_in, H, W) float -> (N, C_out, H', W') with the usual Conv2d output size; in training mode
  /// the power iteration updates weight_u/weight_v first (see the file comment). Inputs are not checked:
  /// a wrong rank or channel count raises LibTorch's c10::Error, as torch::nn::Conv2d does.
  torch::Tensor forward(const torch::Tensor& x);

  /// The weight forward() would use in eval mode (weight_orig / sigma with the stored u, v), detached.
  torch::Tensor normalized_weight() const;

  const torch::nn::Conv2dOptions& options() const { return options_; }
  SpectralNorm sn;
  torch::Tensor bias;  ///< undefined when options.bias() is false

 private:
  torch::nn::Conv2dOptions options_;
};
TORCH_MODULE(SpectralNormConv2d);

/// Linear with a spectral-normalised weight (PyTorch: spectral_norm(nn.Linear(...))).
/// Keys: bias (if options.bias()), weight_orig (out, in), weight_u (out), weight_v (in).
class SpectralNormLinearImpl : public torch::nn::Module {
 public:
  /// Throws srlab::Error for invalid `sn` options.
  explicit SpectralNormLinearImpl(const torch::nn::LinearOptions& options, const SpectralNormOptions& sn = {});

  /// x (..., in) float -> (..., out); in training mode the power iteration updates weight_u/weight_v first.
  /// A wrong last dimension raises LibTorch's c10::Error, as torch::nn::Linear does.
  torch::Tensor forward(const torch::Tensor& x);

  /// The weight forward() would use in eval mode (weight_orig / sigma with the stored u, v), detached.
  torch::Tensor normalized_weight() const;

  const torch::nn::LinearOptions& options() const { return options_; }
  SpectralNorm sn;
  torch::Tensor bias;  ///< undefined when options.bias() is false

 private:
  torch::nn::LinearOptions options_;
};
TORCH_MODULE(SpectralNormLinear);

}  // namespace srlab::models
