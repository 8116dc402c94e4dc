// Bicubic upsampling as Slice/Concat + grouped Conv + DepthToSpace (see onnx_bicubic.h).
#include "deploy/onnx_bicubic.h"

#include <array>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace srlab::models {

namespace {

// Keys' cubic convolution kernel with a = -0.75 (PyTorch's upsample_bicubic2d coefficient).
double keys_cubic(double x) {
  constexpr double a = -0.75;
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

// Replicates the first and last `pad` rows/columns of axis `axis` (2 = H, 3 = W) with Slice + Concat.
std::string replicate_pad(OnnxGraph& g, const std::string& x, int64_t axis, int64_t pad, const std::string& hint) {
  auto i64 = [&](int64_t v, const std::string& h) { return g.constant(torch::tensor({v}, torch::kInt64), h); };
  const std::string axes = i64(axis, hint + "_axis");
  const std::string first = g.node("Slice", {x, i64(0, hint + "_s0"), i64(1, hint + "_e0"), axes}, hint + "_first");
  const std::string last = g.node(
      "Slice", {x, i64(-1, hint + "_s1"), i64(std::numeric_limits<int64_t>::max(), hint + "_e1"), axes}, hint + "_last");
  std::vector<std::string> parts(pad, first);
  parts.push_back(x);
  parts.insert(parts.end(), pad, last);
  return g.concat(parts, axis, hint);
}

}  // namespace

torch::Tensor bicubic_phase_filters(int64_t scale, int64_t channels) {
  if (scale < 1 || channels < 1)
    throw Error("bicubic_phase_filters: scale and channels must be >= 1, got " + std::to_string(scale) + " and " +
                std::to_string(channels));
  // taps[k][t]: weight of input pixel i + t - 2 for output phase k (1-D).
  std::vector<std::array<double, 5>> taps(scale);
  for (int64_t k = 0; k < scale; ++k) {
    const double d = (k + 0.5) / static_cast<double>(scale) - 0.5;  // offset from pixel i, |d| < 0.5
    const double f = std::floor(d);                                    // -1 or 0
    const double t = d - f;                                            // in [0,1)
    taps[k].fill(0.0);
    const int base = static_cast<int>(f) - 1 + 2;  // window index of the first tap
    taps[k][base + 0] = keys_cubic(t + 1);
    taps[k][base + 1] = keys_cubic(t);
    taps[k][base + 2] = keys_cubic(1 - t);
    taps[k][base + 3] = keys_cubic(2 - t);
  }
  torch::Tensor w = torch::zeros({channels * scale * scale, 1, 5, 5}, torch::kFloat64);
  auto a = w.accessor<double, 4>();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ky = 0; ky < scale; ++ky)
      for (int64_t kx = 0; kx < scale; ++kx)
        for (int y = 0; y < 5; ++y)
          for (int x = 0; x < 5; ++x) a[c * scale * scale + ky * scale + kx][0][y][x] = taps[ky][y] * taps[kx][x];
  return w.to(torch::kFloat32);
}

std::string export_bicubic_upsample(OnnxGraph& graph, const std::string& x, int64_t scale, const std::string& hint) {
  const std::string padded = replicate_pad(graph, replicate_pad(graph, x, 3, 2, hint + "_pad_w"), 2, 2, hint + "_pad_h");
  OnnxConvAttrs a;
  a.kernel_shape = {5, 5};
  a.group = 3;
  const std::string w = graph.constant(bicubic_phase_filters(scale, 3), hint + "_filters");
  return graph.depth_to_space(graph.conv(padded, w, "", a, hint + "_phases"), scale, hint);
}

}  // namespace srlab::models
