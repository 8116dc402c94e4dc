#pragma once
// Blur kernels of the "real-world" degradation model (Wang et al., "Real-ESRGAN: Training Real-World
// Blind Super-Resolution with Pure Synthetic Data", ICCVW 2021, Sec. 3.1 "Blur" and Eqs. 2-4; the
// generalized-Gaussian and plateau shapes follow Liang et al., "Flow-based kernel prior", ICCV 2021,
// as used there), plus the mixed-kernel sampler that draws one kernel per sample.
//
// All kernels are k x k with k odd, float32 (cv::Mat CV_32F), centred on pixel ((k-1)/2, (k-1)/2) and
// normalised to sum 1. Coordinates: x = column offset, y = row offset from the centre; the covariance
// Sigma = R(theta) diag(sigma_x^2, sigma_y^2) R(theta)^T, so theta rotates the sigma_x axis
// counter-clockwise from the column axis (in image coordinates, y pointing down).
#include <opencv2/core.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "data/degrade/degrade_random.h"

namespace srlab::data {

/// Anisotropic Gaussian (Eq. 2): exp(-0.5 q), q = [x y] Sigma^-1 [x y]^T. sigma_x = sigma_y, theta = 0 gives
/// the isotropic Gaussian. Throws srlab::Error for an even or < 3 size or non-positive sigmas.
cv::Mat gaussian_kernel(int size, double sigma_x, double sigma_y, double theta);

/// Generalized Gaussian (Eq. 3): exp(-0.5 q^beta); beta = 1 is the Gaussian, beta < 1 heavier tails,
/// beta > 1 a flatter top. beta > 0. Same errors as gaussian_kernel().
cv::Mat generalized_gaussian_kernel(int size, double sigma_x, double sigma_y, double theta, double beta);

/// Plateau-shaped kernel (Eq. 4): 1 / (1 + q^beta), beta > 0. Same errors as gaussian_kernel().
cv::Mat plateau_kernel(int size, double sigma_x, double sigma_y, double theta, double beta);

/// 2-D sinc (ideal circular low-pass of cutoff omega_c rad/pixel, 0 < omega_c <= pi), truncated to
/// size x size: h(r) = omega_c J1(omega_c r) / (2 pi r), h(0) = omega_c^2 / (4 pi) (Real-ESRGAN Sec. 3.1,
/// "ringing and overshoot artifacts", Eq. 5), then normalised to sum 1. Throws srlab::Error for a bad size
/// or cutoff.
cv::Mat sinc_kernel(int size, double omega_c);

/// Kernel families of the mixed sampler (YAML names in brackets).
enum class KernelType {
  kIso,               ///< "iso": isotropic Gaussian
  kAniso,             ///< "aniso": anisotropic Gaussian
  kGeneralizedIso,    ///< "generalized_iso"
  kGeneralizedAniso,  ///< "generalized_aniso"
  kPlateauIso,        ///< "plateau_iso"
  kPlateauAniso,      ///< "plateau_aniso"
  kSinc,              ///< "sinc"
};
/// YAML name of a kernel type.
const char* kernel_type_name(KernelType t);
/// All YAML names, in enum order.
const std::vector<std::string>& kernel_type_names();

/// Parameters of the mixed-kernel sampler; defaults are Real-ESRGAN's first-stage values
/// (options/train_realesrgan_x4plus.yml), with sinc as a mixture entry of weight 0.1.
struct KernelSamplerOptions {
  int size_min = 7, size_max = 21;  ///< kernel side drawn uniformly among the odd sizes in [min, max]
  /// Family weights (normalised internally).
  std::vector<std::pair<std::string, double>> weights = {{"iso", 0.45},           {"aniso", 0.25},
                                                         {"generalized_iso", 0.12}, {"generalized_aniso", 0.03},
                                                         {"plateau_iso", 0.12},     {"plateau_aniso", 0.03},
                                                         {"sinc", 0.1}};
  Range sigma{0.2, 3.0};              ///< sigma_x, sigma_y (pixels)
  Range rotation_deg{-180.0, 180.0};  ///< theta for the anisotropic families (degrees)
  Range beta_gaussian{0.5, 4.0};      ///< beta of the generalized Gaussian
  Range beta_plateau{1.0, 2.0};       ///< beta of the plateau kernel
  /// Cutoff of the sinc family in degrees of rad/pixel (180 = pi). Empty (lo = hi = 0): Real-ESRGAN's
  /// rule, [pi/3, pi] for kernels smaller than 13 and [pi/5, pi] otherwise.
  Range omega_deg{0.0, 0.0};

  /// Reads the keys kernel_size ([min, max] or a single odd size), kernels (weights), sigma,
  /// rotation_deg, beta_gaussian, beta_plateau, omega_deg from `cfg`; missing keys keep `defaults`.
  /// Throws srlab::Error naming the key for invalid values (even sizes, sizes outside 3..41, ...).
  static KernelSamplerOptions read(const core::Config& cfg, const KernelSamplerOptions& defaults);
};

/// One drawn kernel and the parameters that made it.
struct SampledKernel {
  cv::Mat kernel;  ///< CV_32F, size x size, sums to 1
  KernelType type = KernelType::kIso;
  int size = 0;
  double sigma_x = 0, sigma_y = 0, rotation_deg = 0, beta = 0, omega_deg = 0;  ///< those that apply
};

/// Draws a kernel: family (weighted), size, then the family's parameters, in that order, from `rng`.
SampledKernel sample_kernel(const KernelSamplerOptions& options, std::mt19937_64& rng);

}  // namespace srlab::data
