#include "data/degrade/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "data/degrade/degrade_random.h"
#include "data/image/imresize.h"

namespace srlab::data {

namespace {

namespace F = torch::nn::functional;

void check_batch(const torch::Tensor& x, const char* what) {
  if (!x.defined() || x.dim() != 4 || (x.size(1) != 1 && x.size(1) != 3) || !x.is_floating_point() || x.numel() == 0)
    throw Error(std::string(what) + ": expected a non-empty floating (N,C,H,W) tensor with C = 1 or 3, got " +
                (x.defined() ? c10::str(x.sizes()) : std::string("an undefined tensor")));
}

// cv::borderInterpolate(p, len, BORDER_REFLECT_101) for every p in [-pad, len + pad).
torch::Tensor reflect101_indices(int64_t len, int64_t pad, const torch::Device& device) {
  std::vector<int64_t> idx(static_cast<size_t>(len + 2 * pad));
  for (int64_t i = 0; i < len + 2 * pad; ++i) {
    int64_t p = i - pad;
    if (len == 1) p = 0;
    while (p < 0 || p >= len) p = p < 0 ? -p : 2 * len - 2 - p;
    idx[static_cast<size_t>(i)] = p;
  }
  return torch::tensor(idx, torch::kLong).to(device);
}

// OpenCV INTER_AREA when both sides shrink: computeResizeAreaTab() (resize.cpp), pixel-area overlaps.
void fill_area_shrink(double* a, int64_t in_len, int64_t out_len) {
  const double scale = static_cast<double>(in_len) / static_cast<double>(out_len);
  for (int64_t d = 0; d < out_len; ++d) {
    const double f1 = d * scale, f2 = f1 + scale;
    const double cell = std::min(scale, static_cast<double>(in_len) - f1);
    int64_t s2 = std::min<int64_t>(static_cast<int64_t>(std::floor(f2)), in_len - 1);
    const int64_t s1 = std::min<int64_t>(static_cast<int64_t>(std::ceil(f1)), s2);
    double* row = a + d * in_len;
    if (s1 - f1 > 1e-3) row[s1 - 1] += static_cast<float>((s1 - f1) / cell);
    for (int64_t s = s1; s < s2; ++s) row[s] += static_cast<float>(1.0 / cell);
    if (f2 - s2 > 1e-3) row[s2] += static_cast<float>(std::min(std::min(f2 - s2, 1.0), cell) / cell);
  }
}

// OpenCV's two-tap rule (resize.cpp, resizeGeneric): INTER_LINEAR (half-pixel centres) or the INTER_AREA
// emulation used when a side grows; taps beyond the borders are clamped.
void fill_two_tap(double* a, int64_t in_len, int64_t out_len, bool area) {
  const double scale = static_cast<double>(in_len) / static_cast<double>(out_len), inv = 1.0 / scale;
  for (int64_t d = 0; d < out_len; ++d) {
    int64_t s;
    float f;
    if (!area) {
      f = static_cast<float>((d + 0.5) * scale - 0.5);
      s = static_cast<int64_t>(std::floor(f));
      f -= static_cast<float>(s);
    } else {
      s = static_cast<int64_t>(std::floor(d * scale));
      f = static_cast<float>((d + 1) - (s + 1) * inv);
      f = f <= 0 ? 0.f : f - std::floor(f);
    }
    if (s < 0) f = 0, s = 0;
    if (s >= in_len - 1) f = 0, s = in_len - 1;
    a[d * in_len + s] += 1.0 - f;
    if (f > 0) a[d * in_len + s + 1] += f;
  }
}

torch::Tensor apply_matrices(const torch::Tensor& x, const torch::Tensor& ah, const torch::Tensor& aw) {
  const auto opts = x.options();
  torch::Tensor y = x.size(2) == ah.size(0) && ah.size(0) == ah.size(1) ? x : torch::matmul(ah.to(opts), x);
  return aw.size(0) == aw.size(1) && x.size(3) == aw.size(0) ? y : torch::matmul(y, aw.to(opts).t());
}

}  // namespace

torch::Tensor stack_kernels(const std::vector<cv::Mat>& kernels, const torch::Device& device) {
  if (kernels.empty()) throw Error("stack_kernels: no kernels given");
  int K = 0;
  for (const cv::Mat& k : kernels) {
    if (k.type() != CV_32F || k.rows != k.cols || k.rows % 2 == 0)
      throw Error("stack_kernels: every kernel must be CV_32F, square, with an odd side");
    K = std::max(K, k.rows);
  }
  torch::Tensor out = torch::zeros({static_cast<int64_t>(kernels.size()), K, K}, torch::kFloat32);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const cv::Mat k = kernels[i].isContinuous() ? kernels[i] : kernels[i].clone();
    const int off = (K - k.rows) / 2;
    out[static_cast<int64_t>(i)].narrow(0, off, k.rows).narrow(1, off, k.cols)
        .copy_(torch::from_blob(const_cast<uchar*>(k.data), {k.rows, k.cols}, torch::kFloat32));
  }
  return out.to(device);
}

torch::Tensor filter2d_batch(const torch::Tensor& x, const torch::Tensor& kernels) {
  check_batch(x, "filter2d_batch");
  if (!kernels.defined() || kernels.dim() != 3 || kernels.size(0) != x.size(0) || kernels.size(1) != kernels.size(2) ||
      kernels.size(1) % 2 == 0)
    throw Error("filter2d_batch: expected kernels (N,K,K) with K odd and N = the batch size " +
                std::to_string(x.size(0)) + ", got " + (kernels.defined() ? c10::str(kernels.sizes()) : "undefined"));
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), K = kernels.size(1), p = K / 2;
  const torch::Tensor xp =
      x.index_select(2, reflect101_indices(H, p, x.device())).index_select(3, reflect101_indices(W, p, x.device()));
  const torch::Tensor w = kernels.to(x.options()).repeat_interleave(C, 0).unsqueeze(1);  // (N*C, 1, K, K)
  return F::conv2d(xp.reshape({1, N * C, H + 2 * p, W + 2 * p}), w, F::Conv2dFuncOptions().groups(N * C)).view({N, C, H, W});
}

torch::Tensor resize_matrix(int64_t in_len, int64_t out_len, ResizeMode mode, bool shrink) {
  if (in_len < 1 || out_len < 1) throw Error("resize_matrix: lengths must be >= 1");
  torch::Tensor a = torch::zeros({out_len, in_len}, torch::kFloat64);
  double* p = a.data_ptr<double>();
  if (mode == ResizeMode::kBicubic) {
    const double s = static_cast<double>(out_len) / static_cast<double>(in_len);
    const ResizeWeights rw = resize_contributions(in_len, out_len, s, ResizeKernel::kCubic, true);
    for (int64_t o = 0; o < out_len; ++o)
      for (int64_t t = 0; t < rw.taps; ++t)
        p[o * in_len + rw.indices[static_cast<size_t>(o * rw.taps + t)]] += rw.weights[static_cast<size_t>(o * rw.taps + t)];
  } else if (mode == ResizeMode::kArea && shrink) {
    fill_area_shrink(p, in_len, out_len);
  } else if (mode == ResizeMode::kNearest) {
    const double ifx = static_cast<double>(in_len) / static_cast<double>(out_len);
    for (int64_t d = 0; d < out_len; ++d)
      p[d * in_len + std::min<int64_t>(static_cast<int64_t>(std::floor(d * ifx)), in_len - 1)] = 1.0;
  } else {
    fill_two_tap(p, in_len, out_len, mode == ResizeMode::kArea);
  }
  return a;
}

torch::Tensor resize_batch(const torch::Tensor& x, int64_t out_h, int64_t out_w, ResizeMode mode) {
  check_batch(x, "resize_batch");
  if (out_h < 1 || out_w < 1) throw Error("resize_batch: output size must be at least 1x1");
  const int64_t H = x.size(2), W = x.size(3);
  if (out_h == H && out_w == W) return x.clone();
  if (mode == ResizeMode::kBilinear || mode == ResizeMode::kNearest) {
    auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{out_h, out_w});
    o = mode == ResizeMode::kBilinear ? o.mode(torch::kBilinear).align_corners(false) : o.mode(torch::kNearest);
    return F::interpolate(x, o);
  }
  const bool shrink = out_h <= H && out_w <= W;  // OpenCV: true area only when scale_x, scale_y >= 1
  return apply_matrices(x, resize_matrix(H, out_h, mode, shrink), resize_matrix(W, out_w, mode, shrink));
}

torch::Tensor add_noise_batch(const torch::Tensor& x, const torch::Tensor& noise) {
  check_batch(x, "add_noise_batch");
  if (!noise.defined() || noise.dim() != 4 || noise.size(0) != x.size(0) || noise.size(2) != x.size(2) ||
      noise.size(3) != x.size(3) || (noise.size(1) != 1 && noise.size(1) != x.size(1)))
    throw Error("add_noise_batch: noise must be (N,C,H,W) or (N,1,H,W) matching the image " + c10::str(x.sizes()));
  return (x + noise.to(x.options())).clamp_(0.0, 1.0);
}

torch::Tensor gaussian_noise_tensor(int channels, int h, int w, double sigma_255, bool gray, uint64_t seed) {
  return mat_to_chw(gaussian_noise_field(h, w, channels, sigma_255, gray, seed));
}

torch::Tensor quantize_8bit_batch(const torch::Tensor& x) {
  if (!x.defined() || !x.is_floating_point()) throw Error("quantize_8bit_batch: expected a floating tensor");
  const torch::Tensor levels = x.to(torch::kFloat32).mul(255.0f).round_().clamp_(0.0, 255.0);  // rint: half to even
  return levels.to(torch::kFloat64).div_(255.0).to(x.scalar_type());
}

torch::Tensor add_poisson_noise_tensor(const torch::Tensor& x, double scale, bool gray, uint64_t seed) {
  if (!x.defined() || x.dim() != 3 || (x.size(0) != 1 && x.size(0) != 3) || !x.is_floating_point())
    throw Error("add_poisson_noise_tensor: expected a floating (C,H,W) tensor with C = 1 or 3");
  if (!(scale >= 0.0) || !std::isfinite(scale)) throw Error("add_poisson_noise_tensor: scale must be >= 0");
  const torch::Tensor xf = x.to(torch::kFloat32);
  torch::Tensor base = xf;
  if (gray && x.size(0) == 3) base = (xf[0] * 0.299f + xf[1] * 0.587f + xf[2] * 0.114f).unsqueeze(0);
  // Levels in OpenCV's pixel order (row, column, channel), as convertTo(CV_8U, 255) rounds them.
  const torch::Tensor lv = base.mul(255.0f).round_().clamp_(0.0, 255.0).permute({1, 2, 0}).reshape(-1).to(torch::kLong);
  const torch::Tensor hist = torch::bincount(lv, {}, 256).cpu();
  const int64_t* h = hist.data_ptr<int64_t>();
  int distinct = 0;
  for (int v = 0; v < 256; ++v) distinct += h[v] > 0;
  const double vals = std::pow(2.0, std::ceil(std::log2(std::max(distinct, 1))));
  // All CDF tables in one sorted array: level v's entries are v + P(K <= k) (< v + 1).
  std::vector<double> keys;
  std::vector<int64_t> start(256, 0);
  for (int v = 1; v < 256; ++v) {
    start[static_cast<size_t>(v)] = static_cast<int64_t>(keys.size());
    if (h[v] == 0) continue;
    for (double c : poisson_level_cdf(v, vals)) keys.push_back(v + c);
  }
  const int64_t nonzero = lv.numel() - h[0];
  std::vector<double> u(static_cast<size_t>(std::max<int64_t>(nonzero, 1)));
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < nonzero; ++i) u[static_cast<size_t>(i)] = uniform01(rng);
  const auto dev = x.device();
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(dev);
  const torch::Tensor mask = lv.ne(0);
  const torch::Tensor rank = (mask.cumsum(0) - 1).clamp_min(0);
  const torch::Tensor draws = torch::tensor(u, torch::kFloat64).to(dev).index_select(0, rank);
  torch::Tensor noisy = torch::zeros_like(draws);
  if (!keys.empty()) {
    const torch::Tensor pos = torch::searchsorted(torch::tensor(keys, torch::kFloat64).to(dev),
                                                  lv.to(torch::kFloat64) + draws, false, /*right=*/true);
    const torch::Tensor count = pos - torch::tensor(start, torch::kLong).to(dev).index_select(0, lv);
    noisy = torch::where(mask, count.to(torch::kFloat64) / vals, torch::zeros({}, f64));
  }
  const torch::Tensor field = ((noisy - lv.to(torch::kFloat64) / 255.0) * scale).to(torch::kFloat32);
  const torch::Tensor noise = field.view({base.size(1), base.size(2), base.size(0)}).permute({2, 0, 1});
  return (xf + noise).clamp_(0.0, 1.0).to(x.scalar_type());
}

}  // namespace srlab::data
