#include "data/image/color.h"

#include <array>
#include <string>

#include "core/error.h"

namespace srlab::data {

namespace {

using Mat3 = std::array<std::array<double, 3>, 3>;

// BT.601 studio-swing matrix (MATLAB rgb2ycbcr), rows Y, Cb, Cr, in 0..255 units per unit RGB.
constexpr Mat3 kRgbToYcc = {{{65.481, 128.553, 24.966}, {-37.797, -74.203, 112.0}, {112.0, -93.786, -18.214}}};
constexpr std::array<double, 3> kOffset = {16.0, 128.0, 128.0};

Mat3 inverse(const Mat3& m) {
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  Mat3 r{};
  r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
  r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
  r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
  r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
  r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
  r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
  r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
  r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
  r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
  return r;
}

void check(const torch::Tensor& x, const char* fn) {
  if (!x.defined()) throw Error(std::string(fn) + ": input tensor is undefined");
  if (x.dim() < 3 || x.size(-3) != 3)
    throw Error(std::string(fn) + ": expected a (...,3,H,W) tensor, got shape " + c10::str(x.sizes()) +
                (x.dim() >= 3 && x.size(-3) == 1 ? " (single-channel images need no colour conversion)" : ""));
  if (!x.is_floating_point())
    throw Error(std::string(fn) + ": expected a floating tensor with values in [0,1], got " +
                std::string(c10::toString(x.scalar_type())));
}

// out_c = (offset_c + sum_k m[c][k] * in_k) / 255 for the requested output rows.
torch::Tensor apply(const torch::Tensor& x, const Mat3& m, const std::array<double, 3>& offset, int rows,
                    double in_scale) {
  const auto r = x.select(-3, 0), g = x.select(-3, 1), b = x.select(-3, 2);
  std::vector<torch::Tensor> outs;
  for (int c = 0; c < rows; ++c) {
    outs.push_back((r * (m[c][0] * in_scale) + g * (m[c][1] * in_scale) + b * (m[c][2] * in_scale) + offset[c]));
  }
  return torch::stack(outs, -3);
}

}  // namespace

namespace {
// The first `channels` rows of MATLAB's rgb2ycbcr on [0,1] data, in [0,1] units.
torch::Tensor rgb_to_ycc_rows(const torch::Tensor& rgb, int channels, const char* what) {
  check(rgb, what);
  Mat3 m = kRgbToYcc;
  for (auto& row : m)
    for (auto& v : row) v /= 255.0;
  return apply(rgb, m, {16.0 / 255.0, 128.0 / 255.0, 128.0 / 255.0}, channels, 1.0);
}
}  // namespace

torch::Tensor rgb_to_y(const torch::Tensor& rgb) { return rgb_to_ycc_rows(rgb, 1, "rgb_to_y"); }

torch::Tensor rgb_to_ycbcr(const torch::Tensor& rgb) { return rgb_to_ycc_rows(rgb, 3, "rgb_to_ycbcr"); }

torch::Tensor ycbcr_to_rgb(const torch::Tensor& ycbcr) {
  check(ycbcr, "ycbcr_to_rgb");
  // rgb = Minv * (255 * ycc - offset)  =  (255 Minv) * ycc - Minv * offset
  const Mat3 inv = inverse(kRgbToYcc);
  std::array<double, 3> off{};
  for (int c = 0; c < 3; ++c) off[c] = -(inv[c][0] * kOffset[0] + inv[c][1] * kOffset[1] + inv[c][2] * kOffset[2]);
  return apply(ycbcr, inv, off, 3, 255.0);
}

}  // namespace srlab::data
