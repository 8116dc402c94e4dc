#include "eval/niqe.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "data/image/imresize.h"
#include "eval/metrics.h"
#include "models/weights/weight_file.h"

namespace srlab::eval {
namespace fs = std::filesystem;
namespace {

constexpr int kFeatures = 18;  // per block and scale
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// r(gamma) = Gamma(2/g)^2 / (Gamma(1/g) Gamma(3/g)) on MATLAB's grid gam = 0.2:0.001:10 (9801 values).
struct GammaGrid {
  std::vector<double> gam, r;
  GammaGrid() {
    for (int i = 0; i <= 9800; ++i) {
      const double g = 0.2 + 0.001 * i;
      gam.push_back(g);
      r.push_back(std::pow(std::tgamma(2.0 / g), 2) / (std::tgamma(1.0 / g) * std::tgamma(3.0 / g)));
    }
  }
};
const GammaGrid& gamma_grid() {
  static const GammaGrid g;
  return g;
}

struct Aggd {
  double alpha, beta_l, beta_r;
};

// estimateaggdparam.m: moment matching of an asymmetric generalised Gaussian. Empty sides give NaN
// (MATLAB's mean of an empty vector); a NaN ratio picks the first grid value, as MATLAB's min does.
Aggd estimate_aggd(const std::vector<double>& v) {
  double sum_l = 0, sum_r = 0, sum_abs = 0, sum_sq = 0;
  size_t n_l = 0, n_r = 0;
  for (double x : v) {
    if (x < 0) sum_l += x * x, ++n_l;
    if (x > 0) sum_r += x * x, ++n_r;
    sum_abs += std::abs(x);
    sum_sq += x * x;
  }
  const double n = static_cast<double>(v.size());
  const double left_std = n_l ? std::sqrt(sum_l / n_l) : kNaN, right_std = n_r ? std::sqrt(sum_r / n_r) : kNaN;
  const double gammahat = left_std / right_std;
  const double rhat = std::pow(sum_abs / n, 2) / (sum_sq / n);
  const double rhatnorm = rhat * (std::pow(gammahat, 3) + 1) * (gammahat + 1) / std::pow(gammahat * gammahat + 1, 2);
  const GammaGrid& g = gamma_grid();
  size_t best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < g.r.size(); ++i) {
    const double d = (g.r[i] - rhatnorm) * (g.r[i] - rhatnorm);
    if (d < best_d) best_d = d, best = i;
  }
  const double alpha = g.gam[best];
  const double k = std::sqrt(std::tgamma(1.0 / alpha) / std::tgamma(3.0 / alpha));
  return {alpha, left_std * k, right_std * k};
}

// computefeature.m on the block [y0, y0+bs) x [x0, x0+bs) of the (H,W) row-major map `m`.
void block_features(const double* m, int64_t w, int64_t y0, int64_t x0, int64_t bs, double* out) {
  std::vector<double> blk(bs * bs), pair(bs * bs);
  for (int64_t y = 0; y < bs; ++y)
    for (int64_t x = 0; x < bs; ++x) blk[y * bs + x] = m[(y0 + y) * w + x0 + x];
  const Aggd a = estimate_aggd(blk);
  out[0] = a.alpha;
  out[1] = (a.beta_l + a.beta_r) / 2;
  // Neighbour offsets (dy, dx) of circshift by [0 1; 1 0; 1 1; -1 1]: element (y,x) pairs with (y-dy, x-dx).
  static const int kShift[4][2] = {{0, 1}, {1, 0}, {1, 1}, {-1, 1}};
  for (int s = 0; s < 4; ++s) {
    for (int64_t y = 0; y < bs; ++y)
      for (int64_t x = 0; x < bs; ++x) {
        const int64_t sy = ((y - kShift[s][0]) % bs + bs) % bs, sx = ((x - kShift[s][1]) % bs + bs) % bs;
        pair[y * bs + x] = blk[y * bs + x] * blk[sy * bs + sx];
      }
    const Aggd p = estimate_aggd(pair);
    double* o = out + 2 + 4 * s;
    o[0] = p.alpha;
    o[1] = (p.beta_r - p.beta_l) * std::tgamma(2.0 / p.alpha) / std::tgamma(1.0 / p.alpha);
    o[2] = p.beta_l;
    o[3] = p.beta_r;
  }
}

// MSCN coefficients (Eq. 1) of a (H,W) float64 image with imfilter(..., 'replicate') local statistics.
torch::Tensor mscn(const torch::Tensor& img, const torch::Tensor& window) {
  namespace F = torch::nn::functional;
  const int64_t r = window.size(0) / 2;
  const torch::Tensor w = window.view({1, 1, window.size(0), window.size(1)});
  auto filt = [&](const torch::Tensor& x) {
    const torch::Tensor p = F::pad(x.view({1, 1, x.size(0), x.size(1)}),
                                   F::PadFuncOptions({r, r, r, r}).mode(torch::kReplicate));
    return F::conv2d(p, w).view({x.size(0), x.size(1)});
  };
  const torch::Tensor mu = filt(img);
  const torch::Tensor sigma = (filt(img * img) - mu * mu).abs().sqrt();
  return ((img - mu) / (sigma + 1)).contiguous();
}

torch::Tensor tensor_from_json(const nlohmann::json& j, const std::vector<int64_t>& shape, const fs::path& file,
                               const char* key) {
  std::vector<double> v;
  auto bad = [&](const std::string& why) {
    return Error(fmt::format("NIQE model {}: key '{}' {}; expected {} numbers (the BasicSR niqe_pris_params "
                             "as JSON, see ../shared/data/README.md)",
                             file.string(), key, why, shape.size() == 1 ? "36" : "a matrix of"));
  };
  auto take = [&](const nlohmann::json& row) {
    for (const auto& x : row) {
      if (!x.is_number()) throw bad("holds a non-number");
      v.push_back(x.get<double>());
      if (!std::isfinite(v.back())) throw bad("holds a non-finite value");
    }
  };
  if (!j.contains(key) || !j[key].is_array()) throw bad("is missing or not an array");
  if (shape.size() == 1) {
    take(j[key]);
  } else {
    if (static_cast<int64_t>(j[key].size()) != shape[0]) throw bad(fmt::format("has {} rows, not {}", j[key].size(), shape[0]));
    for (const auto& row : j[key]) {
      if (!row.is_array() || static_cast<int64_t>(row.size()) != shape[1])
        throw bad(fmt::format("has a row that is not {} numbers", shape[1]));
      take(row);
    }
  }
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  if (static_cast<int64_t>(v.size()) != n) throw bad(fmt::format("has {} values, not {}", v.size(), n));
  return torch::tensor(v, torch::kFloat64).view(shape).clone();
}

}  // namespace

fs::path resolve_niqe_model(const std::string& explicit_path) {
  return models::resolve_weight_file(explicit_path, "SRLAB_NIQE_MODEL", fs::path("weights") / "niqe" / "niqe_pris_params.json",
                                     "NIQE model", "pass --niqe-model PATH (the JSON copy of BasicSR's niqe_pris_params.npz)");
}

NiqeModel load_niqe_model(const fs::path& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(core::read_file(file));
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("NIQE model {}: not valid JSON ({})", file.string(), e.what()));
  }
  NiqeModel m;
  m.mu = tensor_from_json(j, {2 * kFeatures}, file, "mu_pris_param");
  m.cov = tensor_from_json(j, {2 * kFeatures, 2 * kFeatures}, file, "cov_pris_param");
  m.window = tensor_from_json(j, {7, 7}, file, "gaussian_window");
  const double s = m.window.sum().item<double>();
  if (std::abs(s - 1.0) > 1e-6)
    throw Error(fmt::format("NIQE model {}: 'gaussian_window' sums to {}, not 1", file.string(), s));
  return m;
}

torch::Tensor niqe_features(const torch::Tensor& luma, const NiqeModel& model, int block) {
  if (!luma.defined() || !luma.is_floating_point() || !(luma.dim() == 2 || (luma.dim() == 3 && luma.size(0) == 1)))
    throw Error("NIQE: the image must be a float (H,W) or (1,H,W) luma/intensity tensor on the 0..255 scale");
  if (block < 8 || block % 2 != 0) throw Error(fmt::format("NIQE: block size {} must be even and >= 8", block));
  if (!model.window.defined() || model.window.dim() != 2 || model.window.size(0) % 2 == 0 || model.window.size(1) % 2 == 0)
    throw Error("NIQE: the model's Gaussian window must be a 2-D tensor with odd sides (load_niqe_model)");
  torch::Tensor img = luma.detach().to(torch::kCPU, torch::kFloat64).reshape({luma.size(-2), luma.size(-1)});
  const int64_t nh = img.size(0) / block, nw = img.size(1) / block;
  if (nh < 1 || nw < 1)
    throw Error(fmt::format("NIQE: the image is {}x{} px; it needs at least one {}x{} block", img.size(0),
                            img.size(1), block, block));
  img = img.slice(0, 0, nh * block).slice(1, 0, nw * block).contiguous();
  const torch::Tensor window = model.window.to(torch::kCPU, torch::kFloat64);
  torch::Tensor feats = torch::empty({nh * nw, 2 * kFeatures}, torch::kFloat64);
  double* f = feats.data_ptr<double>();
  for (int scale = 1; scale <= 2; ++scale) {
    const torch::Tensor m = mscn(img, window);
    const int64_t bs = block / scale, w = m.size(1);
    at::parallel_for(0, nh * nw, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t bx = b / nh, by = b % nh;  // column-major, as blkproc
        block_features(m.data_ptr<double>(), w, by * bs, bx * bs, bs, f + b * 2 * kFeatures + (scale - 1) * kFeatures);
      }
    });
    if (scale == 1) img = data::imresize(img.unsqueeze(0), 0.5, data::ResizeKernel::kCubic, true).squeeze(0).contiguous();
  }
  return feats;
}

double niqe_luma(const torch::Tensor& luma, const NiqeModel& model, int block) {
  const torch::Tensor feats = niqe_features(luma, model, block);
  const torch::Tensor nan = feats.isnan();
  // nanmean per column, nancov over the complete rows (MATLAB nanmean / nancov).
  const torch::Tensor mu_d = torch::where(nan, torch::zeros_like(feats), feats).sum(0) / (~nan).sum(0).to(torch::kFloat64);
  const torch::Tensor complete = feats.index({~nan.any(1)});
  if (complete.size(0) < 2)
    throw Error(fmt::format("NIQE: the {}x{} image has {} block(s) of {} px with defined features; at least 2 are "
                            "needed (use a larger image)",
                            luma.size(-2), luma.size(-1), complete.size(0), block));
  const torch::Tensor centred = complete - complete.mean(0, true);
  const torch::Tensor cov_d = centred.t().matmul(centred) / static_cast<double>(complete.size(0) - 1);
  const torch::Tensor a = (model.cov.to(torch::kCPU, torch::kFloat64) + cov_d) / 2;
  // MATLAB pinv: singular values below max(size) * eps * the largest one are dropped.
  const torch::Tensor inv = torch::linalg_pinv(a, 36 * std::numeric_limits<double>::epsilon(), false);
  const torch::Tensor d = model.mu.to(torch::kCPU, torch::kFloat64) - mu_d;
  return std::sqrt(d.dot(inv.matmul(d)).item<double>());
}

double niqe(const torch::Tensor& img, const NiqeModel& model, int crop_border) {
  MetricOptions mo;
  mo.crop_border = crop_border;
  mo.y_channel = true;
  // 8-bit, luma as MATLAB rgb2ycbcr on uint8 (rounded half away from zero; values are >= 16).
  const torch::Tensor y = (prepare_for_metric(img, mo, "niqe input") + 0.5).floor_();
  return niqe_luma(y, model);
}

}  // namespace srlab::eval
