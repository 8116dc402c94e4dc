#include "data/image/imresize.h"

#include "data/parallel.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace srlab::data {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEps = std::numeric_limits<double>::epsilon();  // MATLAB's eps (2^-52)

// The kernels exactly as written in MATLAB's imresize.m.
double cubic(double x) {
  const double ax = std::abs(x), ax2 = ax * ax, ax3 = ax2 * ax;
  return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1.0 ? 1.0 : 0.0) +
         (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((1.0 < ax && ax <= 2.0) ? 1.0 : 0.0);
}
double triangle(double x) {
  return (x + 1.0) * ((-1.0 <= x && x < 0.0) ? 1.0 : 0.0) + (1.0 - x) * ((0.0 <= x && x <= 1.0) ? 1.0 : 0.0);
}
double box(double x) { return (-0.5 <= x && x < 0.5) ? 1.0 : 0.0; }
double lanczos(double x, double a) {
  const double f = (std::sin(kPi * x) * std::sin(kPi * x / a) + kEps) / ((kPi * kPi * x * x / a) + kEps);
  return std::abs(x) < a ? f : 0.0;
}

double kernel_value(ResizeKernel k, double x) {
  switch (k) {
    case ResizeKernel::kCubic: return cubic(x);
    case ResizeKernel::kLinear: return triangle(x);
    case ResizeKernel::kBox: return box(x);
    case ResizeKernel::kLanczos2: return lanczos(x, 2.0);
    case ResizeKernel::kLanczos3: return lanczos(x, 3.0);
  }
  return 0.0;
}

double kernel_width(ResizeKernel k) {
  switch (k) {
    case ResizeKernel::kCubic: return 4.0;
    case ResizeKernel::kLinear: return 2.0;
    case ResizeKernel::kBox: return 1.0;
    case ResizeKernel::kLanczos2: return 4.0;
    case ResizeKernel::kLanczos3: return 6.0;
  }
  return 4.0;
}

int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

// out[b, o, :] = sum_t w[o,t] * in[b, idx[o,t], :]   for in (B, L, W) -> out (B, O, W); rows are
// contiguous so the inner loop is a vectorisable axpy.
template <typename T>
void resize_rows(const T* in, T* out, int64_t B, int64_t L, int64_t W, const ResizeWeights& rw,
                 const std::vector<T>& w) {
  const int64_t O = rw.out_length, P = rw.taps;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, W * P));
  parallel_rows(B * O, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / O, o = r % O;
      T* __restrict dst = out + r * W;
      const T* wt = w.data() + o * P;
      const int64_t* ix = rw.indices.data() + o * P;
      const T* src0 = in + (b * L + ix[0]) * W;
      const T w0 = wt[0];
      for (int64_t x = 0; x < W; ++x) dst[x] = w0 * src0[x];
      for (int64_t t = 1; t < P; ++t) {
        const T* src = in + (b * L + ix[t]) * W;
        const T wv = wt[t];
        for (int64_t x = 0; x < W; ++x) dst[x] += wv * src[x];
      }
    }
  });
}

// out[r, o] = sum_t w[o,t] * in[r, idx[o,t]]   for in (R, L) -> out (R, O).
// Rows are processed kLanes at a time through small transposed tiles, so that the tap loop runs over
// kLanes independent rows (vectorisable) instead of gathering one scalar at a time.
template <typename T>
void resize_cols(const T* in, T* out, int64_t R, int64_t L, const ResizeWeights& rw, const std::vector<T>& w) {
  constexpr int64_t kLanes = 8;
  const int64_t O = rw.out_length, P = rw.taps;
  const int64_t groups = (R + kLanes - 1) / kLanes;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, kLanes * O * P));
  parallel_rows(groups, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> tile_in(static_cast<size_t>(L * kLanes)), tile_out(static_cast<size_t>(O * kLanes));
    for (int64_t g = begin; g < end; ++g) {
      const int64_t r0 = g * kLanes, lanes = std::min(kLanes, R - r0);
      if (lanes < kLanes) {  // ragged tail: plain scalar loop
        for (int64_t r = r0; r < R; ++r) {
          const T* src = in + r * L;
          for (int64_t o = 0; o < O; ++o) {
            T acc = 0;
            for (int64_t t = 0; t < P; ++t) acc += w[static_cast<size_t>(o * P + t)] * src[rw.indices[static_cast<size_t>(o * P + t)]];
            out[r * O + o] = acc;
          }
        }
        continue;
      }
      T* __restrict ti = tile_in.data();
      T* __restrict to = tile_out.data();
      for (int64_t k = 0; k < kLanes; ++k) {
        const T* src = in + (r0 + k) * L;
        for (int64_t i = 0; i < L; ++i) ti[i * kLanes + k] = src[i];
      }
      const T* wt = w.data();
      const int64_t* ix = rw.indices.data();
      for (int64_t o = 0; o < O; ++o, wt += P, ix += P) {
        T acc[kLanes] = {};
        for (int64_t t = 0; t < P; ++t) {
          const T wv = wt[t];
          const T* col = ti + ix[t] * kLanes;
          for (int64_t k = 0; k < kLanes; ++k) acc[k] += wv * col[k];
        }
        for (int64_t k = 0; k < kLanes; ++k) to[o * kLanes + k] = acc[k];
      }
      for (int64_t k = 0; k < kLanes; ++k) {
        T* dst = out + (r0 + k) * O;
        for (int64_t o = 0; o < O; ++o) dst[o] = to[o * kLanes + k];
      }
    }
  });
}

void check_input(const torch::Tensor& img) {
  if (!img.defined()) throw Error("imresize: input tensor is undefined");
  if (img.dim() != 3 && img.dim() != 4)
    throw Error("imresize: expected a (C,H,W) or (N,C,H,W) tensor, got shape " + c10::str(img.sizes()));
  if (img.scalar_type() != torch::kFloat32 && img.scalar_type() != torch::kFloat64)
    throw Error("imresize: expected float32 or float64 input, got " + std::string(c10::toString(img.scalar_type())) +
                "; convert with .to(torch::kFloat32) (and divide by 255 for uint8 images)");
  if (!img.device().is_cpu()) throw Error("imresize: expected a CPU tensor; call .cpu() first");
  if (img.numel() == 0) throw Error("imresize: input tensor is empty (shape " + c10::str(img.sizes()) + ")");
}

// Resizes the height (along_h) or width of a contiguous (B, H, W) tensor.
torch::Tensor resize_dim(const torch::Tensor& x, bool along_h, const ResizeWeights& rw) {
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2);
  torch::Tensor out = along_h ? torch::empty({B, rw.out_length, W}, x.options())
                              : torch::empty({B, H, rw.out_length}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "srlab_imresize", [&] {
    std::vector<scalar_t> w(rw.weights.begin(), rw.weights.end());
    if (along_h)
      resize_rows<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), B, H, W, rw, w);
    else
      resize_cols<scalar_t>(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), B * H, W, rw, w);
  });
  return out;
}

// Rounds half away from zero (MATLAB's conversion to an integer class) and saturates to the grid of
// `levels` steps; values are kept as [0,1] floats.
torch::Tensor snap_to_grid(const torch::Tensor& x, double levels) {
  return x.clamp(0.0, 1.0).mul(levels).add_(0.5).floor_().div_(levels);
}

// bit_depth 0: plain floating-point resize; 8/16: round to that grid after every 1-D pass.
torch::Tensor resize_impl(const torch::Tensor& img, int64_t out_h, int64_t out_w, double scale_h, double scale_w,
                          ResizeKernel kernel, bool antialias, int bit_depth = 0) {
  torch::NoGradGuard no_grad;
  const int64_t H = img.size(-2), W = img.size(-1);
  std::vector<int64_t> out_shape = img.sizes().vec();
  out_shape[out_shape.size() - 2] = out_h;
  out_shape[out_shape.size() - 1] = out_w;
  torch::Tensor x = img.detach().contiguous().view({-1, H, W});
  const double levels = bit_depth == 16 ? 65535.0 : 255.0;
  if (bit_depth != 0) x = snap_to_grid(x.to(torch::kFloat64), levels);
  // MATLAB: [~, order] = sort(scale) — the smaller scale first, height first on ties.
  const bool h_first = scale_h <= scale_w;
  for (int pass = 0; pass < 2; ++pass) {
    const bool along_h = (pass == 0) == h_first;
    const int64_t in_len = along_h ? H : W, out_len = along_h ? out_h : out_w;
    const double s = along_h ? scale_h : scale_w;
    if (in_len == out_len && s == 1.0) continue;  // identity for every kernel (up to lanczos' eps terms)
    x = resize_dim(x, along_h, resize_contributions(in_len, out_len, s, kernel, antialias));
    if (bit_depth != 0) x = snap_to_grid(x, levels);
  }
  if (bit_depth != 0) x = x.to(img.scalar_type());
  if (x.data_ptr() == img.data_ptr()) x = x.clone();
  return x.view(out_shape);
}

}  // namespace

ResizeKernel parse_resize_kernel(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "bicubic" || n == "cubic") return ResizeKernel::kCubic;
  if (n == "bilinear" || n == "linear" || n == "triangle") return ResizeKernel::kLinear;
  if (n == "box") return ResizeKernel::kBox;
  if (n == "lanczos2") return ResizeKernel::kLanczos2;
  if (n == "lanczos3") return ResizeKernel::kLanczos3;
  throw Error("unknown resize kernel '" + name + "'; use bicubic, bilinear, box, lanczos2 or lanczos3");
}

int64_t resize_output_length(int64_t in_length, double scale) {
  if (in_length < 1) throw Error("imresize: input side must be >= 1 pixel, got " + std::to_string(in_length));
  if (!std::isfinite(scale) || scale <= 0.0)
    throw Error("imresize: scale must be a finite number > 0, got " + std::to_string(scale));
  const double exact = static_cast<double>(in_length) * scale;
  const auto out = static_cast<int64_t>(std::ceil(exact - 1e-9));
  if (out < 1)
    throw Error("imresize: scale " + std::to_string(scale) + " turns a side of " + std::to_string(in_length) +
                " pixels into 0 pixels; use a larger scale or image");
  return out;
}

ResizeWeights resize_contributions(int64_t in_length, int64_t out_length, double scale, ResizeKernel kernel,
                                   bool antialias) {
  if (in_length < 1 || out_length < 1)
    throw Error("imresize: lengths must be >= 1 (in " + std::to_string(in_length) + ", out " +
                std::to_string(out_length) + ")");
  if (!std::isfinite(scale) || scale <= 0.0)
    throw Error("imresize: scale must be a finite number > 0, got " + std::to_string(scale));
  const bool stretch = scale < 1.0 && antialias;
  const double width = stretch ? kernel_width(kernel) / scale : kernel_width(kernel);
  const int64_t P = static_cast<int64_t>(std::ceil(width)) + 2;

  std::vector<double> w(static_cast<size_t>(out_length * P));
  std::vector<int64_t> idx(static_cast<size_t>(out_length * P));
  for (int64_t o = 0; o < out_length; ++o) {
    const double x = static_cast<double>(o + 1);  // 1-based output coordinate
    const double u = x / scale + 0.5 * (1.0 - 1.0 / scale);
    const auto left = static_cast<int64_t>(std::floor(u - width / 2.0));
    double sum = 0.0;
    for (int64_t t = 0; t < P; ++t) {
      const int64_t tap = left + t;  // 1-based
      const double d = u - static_cast<double>(tap);
      const double v = stretch ? scale * kernel_value(kernel, scale * d) : kernel_value(kernel, d);
      w[static_cast<size_t>(o * P + t)] = v;
      sum += v;
      // Mirror into [1, L]: aux = [1:L, L:-1:1]; tap -> aux(mod(tap - 1, 2L) + 1).
      const int64_t m = floor_mod(tap - 1, 2 * in_length);
      idx[static_cast<size_t>(o * P + t)] = m < in_length ? m : 2 * in_length - 1 - m;
    }
    if (sum == 0.0)
      throw Error("imresize: kernel weights sum to zero (degenerate scale " + std::to_string(scale) + ")");
    for (int64_t t = 0; t < P; ++t) w[static_cast<size_t>(o * P + t)] /= sum;
  }
  // Drop tap columns that are zero for every output pixel (MATLAB's "kill").
  std::vector<int64_t> keep;
  for (int64_t t = 0; t < P; ++t) {
    bool any = false;
    for (int64_t o = 0; o < out_length && !any; ++o) any = w[static_cast<size_t>(o * P + t)] != 0.0;
    if (any) keep.push_back(t);
  }
  ResizeWeights rw;
  rw.in_length = in_length;
  rw.out_length = out_length;
  rw.taps = static_cast<int64_t>(keep.size());
  rw.weights.reserve(static_cast<size_t>(out_length * rw.taps));
  rw.indices.reserve(static_cast<size_t>(out_length * rw.taps));
  for (int64_t o = 0; o < out_length; ++o) {
    for (int64_t t : keep) {
      rw.weights.push_back(w[static_cast<size_t>(o * P + t)]);
      rw.indices.push_back(idx[static_cast<size_t>(o * P + t)]);
    }
  }
  return rw;
}

torch::Tensor imresize(const torch::Tensor& img, double scale, ResizeKernel kernel, bool antialias) {
  check_input(img);
  if (!std::isfinite(scale) || scale <= 0.0)
    throw Error("imresize: scale must be a finite number > 0, got " + std::to_string(scale));
  const int64_t out_h = resize_output_length(img.size(-2), scale);
  const int64_t out_w = resize_output_length(img.size(-1), scale);
  return resize_impl(img, out_h, out_w, scale, scale, kernel, antialias);
}

torch::Tensor imresize_integer(const torch::Tensor& img, double scale, int bit_depth, ResizeKernel kernel,
                               bool antialias) {
  check_input(img);
  if (bit_depth != 8 && bit_depth != 16)
    throw Error("imresize_integer: bit_depth must be 8 or 16, got " + std::to_string(bit_depth));
  if (!std::isfinite(scale) || scale <= 0.0)
    throw Error("imresize: scale must be a finite number > 0, got " + std::to_string(scale));
  const int64_t out_h = resize_output_length(img.size(-2), scale);
  const int64_t out_w = resize_output_length(img.size(-1), scale);
  return resize_impl(img, out_h, out_w, scale, scale, kernel, antialias, bit_depth);
}

torch::Tensor imresize(const torch::Tensor& img, int64_t out_h, int64_t out_w, ResizeKernel kernel,
                       bool antialias) {
  check_input(img);
  if (out_h < 1 || out_w < 1)
    throw Error("imresize: output size must be at least 1x1, got " + std::to_string(out_h) + "x" +
                std::to_string(out_w));
  const double sh = static_cast<double>(out_h) / static_cast<double>(img.size(-2));
  const double sw = static_cast<double>(out_w) / static_cast<double>(img.size(-1));
  return resize_impl(img, out_h, out_w, sh, sw, kernel, antialias);
}

}  // namespace srlab::data
