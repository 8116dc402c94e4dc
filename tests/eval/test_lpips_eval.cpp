// LPIPS inside the evaluator (eval/evaluate.h + models/features/lpips.h): metric selection, JSON/table layout,
// gray images, and LPIPS's monotonic response to blur on a real Set5 image.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "tests/test_util.h"

#include "core/error.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "data/datasets/paired_dataset.h"
#include "eval/evaluate.h"
#include "eval/methods.h"
#include "models/features/lpips.h"

namespace test_lpips_eval {
namespace fs = std::filesystem;
using namespace srlab;
using srlab::testing::error_of;

fs::path bench_dir(const std::string& set, int scale) {
  return core::shared_data_dir() / "benchmarks" / set / ("x" + std::to_string(scale));
}

models::Lpips& lpips_model() {
  static models::Lpips m = models::load_lpips(models::resolve_lpips_weights(""));
  return m;
}

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.insert(it.key());
  return k;
}

// Gaussian blur of a (3,H,W) image, sigma in px, reflect padding (separable, radius ceil(3 sigma)).
torch::Tensor blur(const torch::Tensor& img, double sigma) {
  const int64_t r = static_cast<int64_t>(std::ceil(3 * sigma));
  const torch::Tensor x = torch::arange(-r, r + 1, torch::kFloat64);
  torch::Tensor k = torch::exp(-x * x / (2 * sigma * sigma));
  k = (k / k.sum()).to(torch::kFloat32);
  namespace F = torch::nn::functional;
  torch::Tensor t = F::pad(img.unsqueeze(0), F::PadFuncOptions({r, r, r, r}).mode(torch::kReflect));
  t = F::conv2d(t, k.view({1, 1, 1, -1}).repeat({3, 1, 1, 1}), F::Conv2dFuncOptions().groups(3));
  t = F::conv2d(t, k.view({1, 1, -1, 1}).repeat({3, 1, 1, 1}), F::Conv2dFuncOptions().groups(3));
  return t.squeeze(0);
}

TEST(EvalLpips, ParseMetrics) {
  const eval::MetricSelection all = eval::parse_metrics("psnr, ssim,lpips");
  EXPECT_TRUE(all.psnr && all.ssim && all.lpips);
  const eval::MetricSelection l = eval::parse_metrics("lpips");
  EXPECT_TRUE(!l.psnr && !l.ssim && l.lpips);
  EXPECT_NE(error_of([] { eval::parse_metrics("psnr,lpip"); }).find("lpip"), std::string::npos);
  EXPECT_FALSE(error_of([] { eval::parse_metrics(""); }).empty());
  EXPECT_FALSE(error_of([] { eval::parse_metrics("psnr,,ssim"); }).empty());
}

TEST(EvalLpips, JsonAndTablesHaveLpipsOnlyWhenRequested) {
  const auto ds = data::open_benchmark(bench_dir("Set5", 4), 4);
  const eval::Method m = eval::bicubic_method(4);
  const eval::EvalResult plain = eval::evaluate(ds, "Set5", m, {});
  EXPECT_FALSE(plain.mean_lpips.has_value());
  const nlohmann::json jp = eval::to_json(plain);
  EXPECT_EQ(keys(jp["mean"]), (std::set<std::string>{"psnr", "ssim"}));
  EXPECT_EQ(keys(jp["images"][0]), (std::set<std::string>{"name", "psnr", "ssim"}));
  EXPECT_EQ(eval::comparison_table_text({plain}).find("LPIPS"), std::string::npos);

  eval::EvalOptions eo;
  eo.metrics = eval::parse_metrics("psnr,ssim,lpips");
  eo.lpips = lpips_model();
  const eval::EvalResult r = eval::evaluate(ds, "Set5", m, eo);
  ASSERT_TRUE(r.mean_lpips.has_value());
  EXPECT_NEAR(r.mean_psnr, plain.mean_psnr, 1e-12);  // PSNR/SSIM unchanged
  const nlohmann::json j = eval::to_json(r);
  EXPECT_EQ(keys(j["mean"]), (std::set<std::string>{"psnr", "ssim", "lpips"}));
  double sum = 0;
  for (const auto& im : j["images"]) {
    EXPECT_EQ(keys(im), (std::set<std::string>{"name", "psnr", "ssim", "lpips"}));
    const double v = im["lpips"].get<double>();
    EXPECT_GT(v, 0.0);
    EXPECT_LT(v, 1.0);
    sum += v;
  }
  EXPECT_NEAR(j["mean"]["lpips"].get<double>(), sum / 5.0, 1e-12);
  // Per-image value = LPIPS of the quantised SR against HR on the full image (no crop).
  const auto p = ds.get(0);
  const torch::Tensor sr = data::quantize(m.upscale(p.lr), 8);
  torch::NoGradGuard ng;
  EXPECT_NEAR(r.images[0].lpips.value(), lpips_model()->forward(sr.unsqueeze(0), p.hr.unsqueeze(0)).item<double>(),
              1e-6);

  const std::string md = eval::comparison_table_markdown({r});
  EXPECT_EQ(md, fmt::format("| method | Set5 ×4 | Set5 ×4 LPIPS↓ |\n|---|---|---|\n| bicubic | {:.2f} / {:.4f} | {:.4f} |\n",
                            r.mean_psnr, r.mean_ssim, *r.mean_lpips));
  EXPECT_NE(eval::comparison_table_text({r}).find("Set5 x4 LPIPS(lower=better)"), std::string::npos);

  // LPIPS only: no psnr/ssim keys at all.
  eo.metrics = eval::parse_metrics("lpips");
  const nlohmann::json jl = eval::to_json(eval::evaluate(ds, "Set5", m, eo));
  EXPECT_EQ(keys(jl["mean"]), (std::set<std::string>{"lpips"}));
  EXPECT_EQ(keys(jl["images"][0]), (std::set<std::string>{"name", "lpips"}));
  EXPECT_NEAR(jl["mean"]["lpips"].get<double>(), *r.mean_lpips, 1e-12);
}

TEST(EvalLpips, GrayImageIsReplicatedToRgb) {
  const auto ds = data::open_benchmark(bench_dir("Set14", 4), 4);
  size_t gray = ds.size();
  for (size_t i = 0; i < ds.size(); ++i)
    if (ds.channels(i) == 1) gray = i;
  ASSERT_LT(gray, ds.size());
  const auto p = ds.get(gray);
  const torch::Tensor sr = data::quantize(eval::bicubic_method(4).upscale(p.lr), 8);
  ASSERT_EQ(sr.size(0), 1);
  torch::NoGradGuard ng;
  const double d =
      lpips_model()->forward(sr.expand({3, -1, -1}).unsqueeze(0), p.hr.expand({3, -1, -1}).unsqueeze(0)).item<double>();
  EXPECT_GT(d, 0.0);
  // Through evaluate() on a one-image view of the set: same number.
  const eval::Method m = eval::bicubic_method(4);
  eval::EvalOptions eo;
  eo.metrics = eval::parse_metrics("lpips");
  eo.lpips = lpips_model();
  const eval::EvalResult r = eval::evaluate(ds, "Set14", m, eo);
  EXPECT_NEAR(r.images[gray].lpips.value(), d, 1e-6);
}

TEST(EvalLpips, IncreasesMonotonicallyWithBlurOnARealImage) {
  const data::Image img = data::read_image(bench_dir("Set5", 2) / "HR" / "img_001.png");
  const torch::Tensor hr = img.pixels.unsqueeze(0);
  torch::NoGradGuard ng;
  double prev = lpips_model()->forward(hr, hr).item<double>();
  EXPECT_EQ(prev, 0.0);
  for (double sigma : {0.5, 1.0, 2.0, 4.0}) {
    const torch::Tensor b = blur(img.pixels, sigma).unsqueeze(0);
    const double d = lpips_model()->forward(b, hr).item<double>();
    EXPECT_GT(d, prev + 1e-3) << "sigma " << sigma;
    prev = d;
  }
}

TEST(EvalLpips, NoMetricSelectedIsAnError) {
  const auto ds = data::open_benchmark(bench_dir("Set5", 4), 4);
  eval::EvalOptions eo;
  eo.metrics = {false, false, false};
  EXPECT_FALSE(error_of([&] { eval::evaluate(ds, "Set5", eval::bicubic_method(4), eo); }).empty());
}

}  // namespace test_lpips_eval
