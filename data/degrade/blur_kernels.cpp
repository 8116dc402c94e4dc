#include "data/degrade/blur_kernels.h"

#include <cmath>

#include "core/error.h"
#include "data/datasets/transforms.h"

namespace srlab::data {

namespace {

constexpr double kBlurPi = 3.14159265358979323846;

void check_size(int size, const char* what) {
  if (size < 3 || size % 2 == 0)
    throw Error(std::string(what) + ": kernel size must be odd and >= 3, got " + std::to_string(size));
}

// Fills a size x size kernel with f(q), q = [x y] Sigma^-1 [x y]^T, and normalises it to sum 1.
template <typename F>
cv::Mat shaped_kernel(int size, double sx, double sy, double theta, const char* what, F f) {
  check_size(size, what);
  if (!(sx > 0.0) || !(sy > 0.0) || !std::isfinite(sx) || !std::isfinite(sy) || !std::isfinite(theta))
    throw Error(std::string(what) + ": sigmas must be finite and > 0");
  // Sigma = R D R^T with D = diag(sx^2, sy^2): Sigma^-1 = R D^-1 R^T.
  const double c = std::cos(theta), s = std::sin(theta);
  const double ix = 1.0 / (sx * sx), iy = 1.0 / (sy * sy);
  const double a = c * c * ix + s * s * iy;  // (0,0)
  const double b = c * s * (ix - iy);        // (0,1) = (1,0)
  const double d = s * s * ix + c * c * iy;  // (1,1)
  cv::Mat k(size, size, CV_64F);
  const int h = size / 2;
  double sum = 0.0;
  for (int r = 0; r < size; ++r) {
    for (int col = 0; col < size; ++col) {
      const double x = col - h, y = r - h;
      const double v = f(a * x * x + 2.0 * b * x * y + d * y * y);
      k.at<double>(r, col) = v;
      sum += v;
    }
  }
  cv::Mat out;
  k.convertTo(out, CV_32F, 1.0 / sum);
  return out;
}

void check_beta(double beta, const char* what) {
  if (!(beta > 0.0) || !std::isfinite(beta)) throw Error(std::string(what) + ": beta must be finite and > 0");
}

}  // namespace

cv::Mat gaussian_kernel(int size, double sigma_x, double sigma_y, double theta) {
  return shaped_kernel(size, sigma_x, sigma_y, theta, "gaussian_kernel", [](double q) { return std::exp(-0.5 * q); });
}

cv::Mat generalized_gaussian_kernel(int size, double sigma_x, double sigma_y, double theta, double beta) {
  check_beta(beta, "generalized_gaussian_kernel");
  return shaped_kernel(size, sigma_x, sigma_y, theta, "generalized_gaussian_kernel",
                       [beta](double q) { return std::exp(-0.5 * std::pow(q, beta)); });
}

cv::Mat plateau_kernel(int size, double sigma_x, double sigma_y, double theta, double beta) {
  check_beta(beta, "plateau_kernel");
  return shaped_kernel(size, sigma_x, sigma_y, theta, "plateau_kernel",
                       [beta](double q) { return 1.0 / (1.0 + std::pow(q, beta)); });
}

cv::Mat sinc_kernel(int size, double omega_c) {
  check_size(size, "sinc_kernel");
  if (!(omega_c > 0.0) || omega_c > kBlurPi + 1e-12)
    throw Error("sinc_kernel: cutoff must be in (0, pi] rad/pixel, got " + std::to_string(omega_c));
  cv::Mat k(size, size, CV_64F);
  const int h = size / 2;
  double sum = 0.0;
  for (int r = 0; r < size; ++r) {
    for (int c = 0; c < size; ++c) {
      const double rho = std::hypot(static_cast<double>(c - h), static_cast<double>(r - h));
      const double v = rho == 0.0 ? omega_c * omega_c / (4.0 * kBlurPi)
                                  : omega_c * std::cyl_bessel_j(1.0, omega_c * rho) / (2.0 * kBlurPi * rho);
      k.at<double>(r, c) = v;
      sum += v;
    }
  }
  cv::Mat out;
  k.convertTo(out, CV_32F, 1.0 / sum);
  return out;
}

const std::vector<std::string>& kernel_type_names() {
  static const std::vector<std::string> names = {"iso",         "aniso",         "generalized_iso", "generalized_aniso",
                                                 "plateau_iso", "plateau_aniso", "sinc"};
  return names;
}

const char* kernel_type_name(KernelType t) { return kernel_type_names()[static_cast<size_t>(t)].c_str(); }

KernelSamplerOptions KernelSamplerOptions::read(const core::Config& cfg, const KernelSamplerOptions& defaults) {
  KernelSamplerOptions o = defaults;
  const Range size = read_range(cfg, "kernel_size", Range{double(o.size_min), double(o.size_max)}, 3, 41);
  if (size.lo != std::floor(size.lo) || size.hi != std::floor(size.hi) || int(size.lo) % 2 == 0 ||
      int(size.hi) % 2 == 0)
    cfg.fail("kernel_size", "kernel sizes must be odd integers (e.g. [7, 21])");
  o.size_min = static_cast<int>(size.lo);
  o.size_max = static_cast<int>(size.hi);
  o.weights = read_weights(cfg, "kernels", o.weights, kernel_type_names());
  o.sigma = read_range(cfg, "sigma", o.sigma, 1e-3, 100.0);
  if (!(o.sigma.lo > 0.0)) cfg.fail("sigma", "sigma must be > 0");
  o.rotation_deg = read_range(cfg, "rotation_deg", o.rotation_deg, -360.0, 360.0);
  o.beta_gaussian = read_range(cfg, "beta_gaussian", o.beta_gaussian, 1e-3, 100.0);
  o.beta_plateau = read_range(cfg, "beta_plateau", o.beta_plateau, 1e-3, 100.0);
  o.omega_deg = read_range(cfg, "omega_deg", o.omega_deg, 0.0, 180.0);
  if (o.omega_deg.hi > 0.0 && !(o.omega_deg.lo > 0.0)) cfg.fail("omega_deg", "sinc cutoff must be > 0 degrees");
  return o;
}

SampledKernel sample_kernel(const KernelSamplerOptions& o, std::mt19937_64& rng) {
  std::vector<double> w;
  for (const auto& kv : o.weights) w.push_back(kv.second);
  const std::string& name = o.weights[weighted_choice(rng, w)].first;
  SampledKernel s;
  for (size_t i = 0; i < kernel_type_names().size(); ++i)
    if (kernel_type_names()[i] == name) s.type = static_cast<KernelType>(i);
  const int n = (o.size_max - o.size_min) / 2 + 1;
  s.size = o.size_min + 2 * static_cast<int>(uniform_index(rng, static_cast<uint64_t>(n)));
  if (s.type == KernelType::kSinc) {
    Range omega = o.omega_deg;
    if (!(omega.hi > 0.0)) omega = s.size < 13 ? Range{60.0, 180.0} : Range{36.0, 180.0};
    s.omega_deg = uniform(rng, omega);
    s.kernel = sinc_kernel(s.size, s.omega_deg * kBlurPi / 180.0);
    return s;
  }
  const bool iso = s.type == KernelType::kIso || s.type == KernelType::kGeneralizedIso || s.type == KernelType::kPlateauIso;
  s.sigma_x = uniform(rng, o.sigma);
  s.sigma_y = iso ? s.sigma_x : uniform(rng, o.sigma);
  s.rotation_deg = iso ? 0.0 : uniform(rng, o.rotation_deg);
  const double theta = s.rotation_deg * kBlurPi / 180.0;
  switch (s.type) {
    case KernelType::kIso:
    case KernelType::kAniso:
      s.kernel = gaussian_kernel(s.size, s.sigma_x, s.sigma_y, theta);
      break;
    case KernelType::kGeneralizedIso:
    case KernelType::kGeneralizedAniso:
      s.beta = uniform(rng, o.beta_gaussian);
      s.kernel = generalized_gaussian_kernel(s.size, s.sigma_x, s.sigma_y, theta, s.beta);
      break;
    default:
      s.beta = uniform(rng, o.beta_plateau);
      s.kernel = plateau_kernel(s.size, s.sigma_x, s.sigma_y, theta, s.beta);
      break;
  }
  return s;
}

}  // namespace srlab::data
