#include "data/degrade/degrade_ops.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "data/degrade/degrade_random.h"
#include "data/image/imresize.h"

namespace srlab::data {

namespace {
void check_float_mat(const cv::Mat& m, const char* what) {
  if (m.empty() || m.depth() != CV_32F || (m.channels() != 1 && m.channels() != 3))
    throw Error(std::string(what) + ": expected a non-empty CV_32FC1 or CV_32FC3 image");
}
// uint8 levels -> float32 v / 255 computed in double and rounded once (the values read_image() and
// quantize() produce, so that LR images compare bit-exactly across code paths).
cv::Mat u8_to_float(const cv::Mat& u8) {
  static const cv::Mat lut = [] {
    cv::Mat t(1, 256, CV_32F);
    for (int v = 0; v < 256; ++v) t.at<float>(0, v) = static_cast<float>(v / 255.0);
    return t;
  }();
  cv::Mat out;
  cv::LUT(u8, lut, out);
  return out;
}
cv::Mat clip01(const cv::Mat& m) {
  cv::Mat out = cv::max(cv::min(m, 1.0), 0.0);
  return out;
}
}  // namespace

cv::Mat chw_to_mat(const torch::Tensor& chw) {
  if (!chw.defined() || chw.dim() != 3 || (chw.size(0) != 1 && chw.size(0) != 3) || !chw.is_floating_point())
    throw Error("chw_to_mat: expected a floating (C,H,W) tensor with C = 1 or 3");
  const torch::Tensor hwc = chw.detach().to(torch::kCPU, torch::kFloat32).permute({1, 2, 0}).contiguous();
  const int C = static_cast<int>(chw.size(0));
  return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC(C), hwc.data_ptr<float>())
      .clone();
}

torch::Tensor mat_to_chw(const cv::Mat& mat) {
  check_float_mat(mat, "mat_to_chw");
  const cv::Mat m = mat.isContinuous() ? mat : mat.clone();
  // Copy into fresh storage: for C = 1 the permuted view of the Mat's memory is already "contiguous", so
  // .contiguous() would not copy and the tensor would outlive the Mat's buffer.
  torch::Tensor out = torch::empty({m.channels(), m.rows, m.cols}, torch::kFloat32);
  out.copy_(torch::from_blob(const_cast<uchar*>(m.data), {m.rows, m.cols, m.channels()}, torch::kFloat32).permute({2, 0, 1}));
  return out;
}

cv::Mat apply_kernel(const cv::Mat& img, const cv::Mat& kernel) {
  check_float_mat(img, "apply_kernel");
  if (kernel.type() != CV_32F || kernel.rows % 2 == 0 || kernel.cols % 2 == 0)
    throw Error("apply_kernel: the kernel must be CV_32F with odd sides");
  cv::Mat out;
  cv::filter2D(img, out, CV_32F, kernel, cv::Point(-1, -1), 0.0, cv::BORDER_REFLECT_101);
  return out;
}

ResizeMode parse_resize_mode(const std::string& name) {
  if (name == "bicubic") return ResizeMode::kBicubic;
  if (name == "bilinear") return ResizeMode::kBilinear;
  if (name == "area") return ResizeMode::kArea;
  if (name == "nearest") return ResizeMode::kNearest;
  throw Error("unknown resize mode '" + name + "'; valid: bicubic, bilinear, area, nearest");
}

const char* resize_mode_name(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::kBicubic: return "bicubic";
    case ResizeMode::kBilinear: return "bilinear";
    case ResizeMode::kArea: return "area";
    default: return "nearest";
  }
}

cv::Mat resize_image(const cv::Mat& img, int out_h, int out_w, ResizeMode mode) {
  check_float_mat(img, "resize_image");
  if (out_h < 1 || out_w < 1) throw Error("resize_image: output size must be at least 1x1");
  if (out_h == img.rows && out_w == img.cols) return img.clone();
  if (mode == ResizeMode::kBicubic) return chw_to_mat(imresize(mat_to_chw(img), out_h, out_w, ResizeKernel::kCubic));
  const int flag = mode == ResizeMode::kBilinear ? cv::INTER_LINEAR : mode == ResizeMode::kArea ? cv::INTER_AREA : cv::INTER_NEAREST;
  cv::Mat out;
  cv::resize(img, out, cv::Size(out_w, out_h), 0, 0, flag);
  return out;
}

cv::Mat add_gaussian_noise(const cv::Mat& img, double sigma_255, bool gray, uint64_t seed) {
  check_float_mat(img, "add_gaussian_noise");
  if (!(sigma_255 >= 0.0) || !std::isfinite(sigma_255)) throw Error("add_gaussian_noise: sigma must be >= 0");
  const int C = img.channels();
  cv::Mat noise = gaussian_noise_field(img.rows, img.cols, C, sigma_255, gray, seed);
  if (noise.channels() != C) cv::merge(std::vector<cv::Mat>(static_cast<size_t>(C), noise), noise);
  return clip01(img + noise);
}

cv::Mat gaussian_noise_field(int rows, int cols, int channels, double sigma_255, bool gray, uint64_t seed) {
  cv::RNG rng(seed ? seed : 1);  // cv::RNG treats 0 specially
  cv::Mat noise(rows, cols, gray || channels == 1 ? CV_32FC1 : CV_32FC3);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, sigma_255 / 255.0);
  return noise;
}

std::vector<double> poisson_level_cdf(int level, double vals) {
  const double lambda = level / 255.0 * vals;
  const int k_max = static_cast<int>(lambda + 20.0 * std::sqrt(lambda) + 20.0);
  std::vector<double> c;
  double pk = std::exp(-lambda), acc = 0.0;
  for (int k = 0; k <= k_max; ++k) {
    acc += pk;
    c.push_back(acc);
    if (acc >= 1.0 - 1e-12) break;
    pk *= lambda / (k + 1);
  }
  return c;
}

cv::Mat add_poisson_noise(const cv::Mat& img, double scale, bool gray, uint64_t seed) {
  check_float_mat(img, "add_poisson_noise");
  if (!(scale >= 0.0) || !std::isfinite(scale)) throw Error("add_poisson_noise: scale must be >= 0");
  cv::Mat base = img;
  if (gray && img.channels() == 3) cv::cvtColor(img, base, cv::COLOR_RGB2GRAY);  // 0.299 R + 0.587 G + 0.114 B
  // Round to 8-bit levels; count the distinct levels (Real-ESRGAN's `vals`).
  cv::Mat lc;
  base.convertTo(lc, CV_8U, 255.0);  // saturating, rounded to nearest; a fresh continuous Mat
  bool seen[256] = {};
  const uchar* p = lc.ptr<uchar>(0);
  const size_t n = lc.total() * static_cast<size_t>(lc.channels());
  int distinct = 0;
  for (size_t i = 0; i < n; ++i)
    if (!seen[p[i]]) seen[p[i]] = true, ++distinct;
  const double vals = std::pow(2.0, std::ceil(std::log2(std::max(distinct, 1))));
  // Poisson counts by inverse-transform sampling: one CDF table per level present (lambda = level / 255
  // * vals), one portable uniform draw per sample, in pixel order. Exact up to the table's 1e-12 tail.
  std::vector<std::vector<double>> cdf(256);
  for (int v = 1; v < 256; ++v)
    if (seen[v]) cdf[static_cast<size_t>(v)] = poisson_level_cdf(v, vals);
  std::mt19937_64 rng(seed);
  cv::Mat noise(lc.size(), CV_32FC(lc.channels()));
  float* q = noise.ptr<float>(0);
  for (size_t i = 0; i < n; ++i) {
    const double x = p[i] / 255.0;
    double noisy = 0.0;  // level 0: lambda 0, no photons
    if (p[i] != 0) {
      const std::vector<double>& c = cdf[p[i]];
      const double u = uniform01(rng);
      noisy = static_cast<double>(std::upper_bound(c.begin(), c.end(), u) - c.begin()) / vals;
    }
    q[i] = static_cast<float>((noisy - x) * scale);
  }
  if (noise.channels() != img.channels()) cv::merge(std::vector<cv::Mat>(static_cast<size_t>(img.channels()), noise), noise);
  return clip01(img + noise);
}

cv::Mat quantize_8bit(const cv::Mat& img) {
  check_float_mat(img, "quantize_8bit");
  cv::Mat u8;
  img.convertTo(u8, CV_8U, 255.0);  // saturating, round to nearest
  return u8_to_float(u8);
}

cv::Mat jpeg_roundtrip(const cv::Mat& img, int quality) {
  check_float_mat(img, "jpeg_roundtrip");
  if (quality < 1 || quality > 100) throw Error("jpeg_roundtrip: quality must be in 1..100, got " + std::to_string(quality));
  cv::Mat u8;
  img.convertTo(u8, CV_8U, 255.0);
  if (u8.channels() == 3) cv::cvtColor(u8, u8, cv::COLOR_RGB2BGR);
  std::vector<uchar> buf;
  if (!cv::imencode(".jpg", u8, buf, {cv::IMWRITE_JPEG_QUALITY, quality}))
    throw Error("jpeg_roundtrip: OpenCV could not encode the image as JPEG");
  cv::Mat dec = cv::imdecode(buf, u8.channels() == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  if (dec.empty()) throw Error("jpeg_roundtrip: OpenCV could not decode its own JPEG");
  if (dec.channels() == 3) cv::cvtColor(dec, dec, cv::COLOR_BGR2RGB);
  return u8_to_float(dec);
}

}  // namespace srlab::data
