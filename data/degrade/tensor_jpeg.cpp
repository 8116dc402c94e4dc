#include "data/degrade/tensor_jpeg.h"

#include <cmath>

#include "core/error.h"

namespace srlab::data {

namespace {

// ITU-T T.81 Annex K, Tables K.1 and K.2 (libjpeg jcparam.c std_luminance/chrominance_quant_tbl).
constexpr std::array<int, 64> kLuma = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                                       14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                                       18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                                       49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr std::array<int, 64> kChroma = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                                         24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
                                         99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                                         99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

constexpr int kShift = 16;
constexpr int64_t kHalf = int64_t{1} << (kShift - 1);
constexpr int64_t fix(double v) { return static_cast<int64_t>(v * (1 << kShift) + 0.5); }

// Arithmetic right shift (floor division by 2^bits, as libjpeg's RIGHT_SHIFT) of int32 samples.
torch::Tensor shr(const torch::Tensor& v, int64_t bits = kShift) { return torch::bitwise_right_shift(v, bits); }

// Replicates the last row/column of a (N,1,H,W) plane to reach (h, w) (crops when smaller).
torch::Tensor replicate_to(const torch::Tensor& p, int64_t h, int64_t w) {
  const auto idx = [&](int64_t out, int64_t in) {
    return torch::arange(out, torch::TensorOptions().dtype(torch::kLong).device(p.device())).clamp_max(in - 1);
  };
  return p.index_select(2, idx(h, p.size(2))).index_select(3, idx(w, p.size(3)));
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// The 2-D orthonormal 8x8 DCT-II as one 64x64 matrix K = D (x) D (Kronecker product of the 1-D DCT-II
// matrix D): for a block B flattened row-major, vec(D B D^T) = K vec(B) and the inverse vec(D^T F D) =
// K^T vec(F). Float32 on `device`. One GEMM per plane instead of a batched 8x8 matmul per block.
torch::Tensor dct2_matrix(const torch::Device& device) {
  std::array<double, 64> d{};
  for (int u = 0; u < 8; ++u)
    for (int x = 0; x < 8; ++x)
      d[static_cast<size_t>(u * 8 + x)] = (u == 0 ? std::sqrt(0.125) : 0.5) * std::cos((2 * x + 1) * u * M_PI / 16.0);
  const torch::Tensor dm = torch::from_blob(d.data(), {8, 8}, torch::kFloat64);
  return torch::kron(dm, dm).to(device, torch::kFloat32);
}

// Encode + decode one component plane (N,1,Hp,Wp) of int32 samples (Hp, Wp multiples of 8) with the
// per-sample tables q (N,64): level shift, DCT, quantise (half away from zero), dequantise, IDCT,
// round, clamp (jcdctmgr.c / jidctint.c semantics, float transform).
torch::Tensor code_plane(const torch::Tensor& plane, const torch::Tensor& q) {
  const int64_t N = plane.size(0), Hp = plane.size(2), Wp = plane.size(3);
  const torch::Tensor k = dct2_matrix(plane.device());
  const torch::Tensor b = (plane.to(torch::kFloat32) - 128.0f)
                              .view({N, Hp / 8, 8, Wp / 8, 8})
                              .permute({0, 1, 3, 2, 4})
                              .reshape({N, (Hp / 8) * (Wp / 8), 64});
  const torch::Tensor qt = q.to(torch::kFloat32).view({N, 1, 64});
  const torch::Tensor f = torch::matmul(b, k.t()) / qt;
  const torch::Tensor coef = f.sign() * (f.abs() + 0.5f).floor();
  const torch::Tensor r = torch::matmul(coef * qt, k);
  const torch::Tensor px = (r + 128.5f).floor().clamp(0.0, 255.0);
  return px.view({N, Hp / 8, Wp / 8, 8, 8}).permute({0, 1, 3, 2, 4}).reshape({N, 1, Hp, Wp}).to(torch::kInt);
}

// libjpeg h2v2_downsample: (a + b + c + d + bias) >> 2, bias 1, 2, 1, 2, ... along each row.
torch::Tensor downsample_h2v2(const torch::Tensor& p) {
  const int64_t N = p.size(0), H = p.size(2), W = p.size(3);
  const torch::Tensor s = p.view({N, 1, H / 2, 2, W / 2, 2}).sum({3, 5}, false, torch::kInt);
  const torch::Tensor bias =
      torch::arange(W / 2, torch::TensorOptions().dtype(torch::kInt).device(p.device())).remainder(2) + 1;
  return shr(s + bias, 2);
}

// libjpeg h2v2_fancy_upsample: triangular 3/4-1/4 filter in both directions with edge replication.
torch::Tensor upsample_h2v2_fancy(const torch::Tensor& c) {
  const int64_t h = c.size(2), w = c.size(3);
  const auto shifted = [&](const torch::Tensor& t, int dim, int64_t len, int delta) {
    const torch::Tensor i = (torch::arange(len, torch::TensorOptions().dtype(torch::kLong).device(t.device())) + delta)
                                .clamp(0, len - 1);
    return t.index_select(dim, i);
  };
  const torch::Tensor up = c * 3 + shifted(c, 2, h, -1), down = c * 3 + shifted(c, 2, h, 1);
  const torch::Tensor rows = torch::stack({up, down}, 3).view({c.size(0), 1, 2 * h, w});  // column sums
  const torch::Tensor left = shr(rows * 3 + shifted(rows, 3, w, -1) + 8, 4);
  const torch::Tensor right = shr(rows * 3 + shifted(rows, 3, w, 1) + 7, 4);
  return torch::stack({left, right}, 4).view({c.size(0), 1, 2 * h, 2 * w});
}

torch::Tensor tables(const std::vector<int>& qualities, bool chroma, const torch::Device& device) {
  std::vector<int64_t> v;
  for (int q : qualities)
    for (int t : jpeg_quant_table(q, chroma)) v.push_back(t);
  return torch::tensor(v, torch::kLong).view({static_cast<int64_t>(qualities.size()), 64}).to(device);
}

}  // namespace

std::array<int, 64> jpeg_quant_table(int quality, bool chroma) {
  if (quality < 1 || quality > 100) throw Error("jpeg: quality must be in 1..100, got " + std::to_string(quality));
  const int s = quality < 50 ? 5000 / quality : 200 - 2 * quality;  // jpeg_quality_scaling()
  std::array<int, 64> out{};
  const std::array<int, 64>& base = chroma ? kChroma : kLuma;
  for (size_t i = 0; i < 64; ++i) out[i] = std::min(255, std::max(1, (base[i] * s + 50) / 100));
  return out;
}

torch::Tensor jpeg_batch(const torch::Tensor& x, const std::vector<int>& qualities) {
  if (!x.defined() || x.dim() != 4 || (x.size(1) != 1 && x.size(1) != 3) || !x.is_floating_point() || x.numel() == 0)
    throw Error("jpeg_batch: expected a non-empty floating (N,C,H,W) tensor with C = 1 or 3");
  if (static_cast<int64_t>(qualities.size()) != x.size(0))
    throw Error("jpeg_batch: got " + std::to_string(qualities.size()) + " qualities for a batch of " +
                std::to_string(x.size(0)));
  torch::NoGradGuard no_grad;
  const int64_t H = x.size(2), W = x.size(3);
  // int32 samples: every fixed-point sum below stays under 2^25.
  const torch::Tensor u8 = x.to(torch::kFloat32).mul(255.0f).round().clamp(0.0, 255.0).to(torch::kInt);
  const torch::Tensor qy = tables(qualities, false, x.device());
  const auto to_unit = [&](const torch::Tensor& v) { return v.to(torch::kFloat64).div(255.0).to(x.scalar_type()); };
  if (x.size(1) == 1)
    return to_unit(code_plane(replicate_to(u8, round_up(H, 8), round_up(W, 8)), qy).narrow(2, 0, H).narrow(3, 0, W));
  const torch::Tensor r = u8.narrow(1, 0, 1), g = u8.narrow(1, 1, 1), b = u8.narrow(1, 2, 1);
  const int64_t off = (int64_t{128} << kShift) + kHalf - 1;
  const torch::Tensor y = shr(fix(0.299) * r + fix(0.587) * g + fix(0.114) * b + kHalf);
  const torch::Tensor cb = shr(-fix(0.16874) * r - fix(0.33126) * g + fix(0.5) * b + off);
  const torch::Tensor cr = shr(fix(0.5) * r - fix(0.41869) * g - fix(0.08131) * b + off);
  // Chroma: rows padded to even, columns to whole 16-pixel MCUs, 2x2-averaged, rows padded to whole blocks.
  const int64_t ch = (H + 1) / 2, cw = (W + 1) / 2, cbh = round_up(ch, 8), cbw = round_up(W, 16) / 2;
  const torch::Tensor qc = tables(qualities, true, x.device());
  const auto chroma = [&](const torch::Tensor& p) {
    const torch::Tensor d = downsample_h2v2(replicate_to(p, 2 * ch, 2 * cbw));
    const torch::Tensor dec = code_plane(replicate_to(d, cbh, cbw), qc).narrow(2, 0, ch).narrow(3, 0, cw);
    return upsample_h2v2_fancy(dec).narrow(2, 0, H).narrow(3, 0, W) - 128;
  };
  const torch::Tensor yd = code_plane(replicate_to(y, round_up(H, 8), round_up(W, 8)), qy).narrow(2, 0, H).narrow(3, 0, W);
  const torch::Tensor xb = chroma(cb), xr = chroma(cr);
  const torch::Tensor rr = yd + shr(fix(1.402) * xr + kHalf);
  const torch::Tensor gg = yd + shr(-fix(0.34414) * xb + kHalf - fix(0.71414) * xr);
  const torch::Tensor bb = yd + shr(fix(1.772) * xb + kHalf);
  return to_unit(torch::cat({rr, gg, bb}, 1).clamp(0, 255));
}

}  // namespace srlab::data
