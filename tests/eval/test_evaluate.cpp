// Tests of eval/evaluate and eval/methods: the README's bicubic reference table (independent numbers),
// JSON layout, comparison tables, saved images and checkpoint methods.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "data/datasets/paired_dataset.h"
#include "eval/evaluate.h"
#include "eval/methods.h"
#include "eval/metrics.h"
#include "models/weights/checkpoint.h"
#include "models/arch/registry.h"

namespace test_evaluate {
namespace fs = std::filesystem;
using namespace srlab;

fs::path bench_dir(const std::string& set, int scale) {
  return core::shared_data_dir() / "benchmarks" / set / ("x" + std::to_string(scale));
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("srlab_eval_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

// ---- README reference table (bicubic baseline, Y channel, crop = scale) -----------------------------
struct RefCell {
  const char* set;
  int scale;
  double psnr;
  double ssim;
};

class BicubicReference : public ::testing::TestWithParam<RefCell> {};

std::string CellName(const ::testing::TestParamInfo<RefCell>& i) {
  return std::string(i.param.set) + "_x" + std::to_string(i.param.scale);
}

TEST_P(BicubicReference, ReproducesReadmeTable) {
  const RefCell c = GetParam();
  const auto ds = data::open_benchmark(bench_dir(c.set, c.scale), c.scale);
  const eval::EvalResult r = eval::evaluate(ds, c.set, eval::bicubic_method(c.scale), {});
  EXPECT_EQ(r.images.size(), std::string(c.set) == "Set5" ? 5u : 14u);
  EXPECT_EQ(r.scale, c.scale);
  EXPECT_EQ(r.method, "bicubic");
  EXPECT_NEAR(r.mean_psnr, c.psnr, 0.01) << c.set << " x" << c.scale;
  EXPECT_NEAR(r.mean_ssim, c.ssim, 0.0005) << c.set << " x" << c.scale;
  // The mean is the mean of the per-image scores.
  double sp = 0;
  for (const auto& s : r.images) sp += s.psnr;
  EXPECT_NEAR(r.mean_psnr, sp / static_cast<double>(r.images.size()), 1e-12);
}

// Values from ../shared/data/README.md, "Reference values for the bicubic baseline on these files".
INSTANTIATE_TEST_SUITE_P(SharedData, BicubicReference,
                         ::testing::Values(RefCell{"Set5", 2, 33.68, 0.9304}, RefCell{"Set5", 3, 30.41, 0.8690},
                                           RefCell{"Set5", 4, 28.43, 0.8113}, RefCell{"Set14", 2, 30.23, 0.8692},
                                           RefCell{"Set14", 3, 27.54, 0.7745}, RefCell{"Set14", 4, 26.00, 0.7030}),
                         CellName);

// ---- evaluate() details ---------------------------------------------------------------------------------
TEST(Evaluate, SavesQuantisedImagesThatRescoreIdentically) {
  TempDir tmp;
  const auto ds = data::open_benchmark(bench_dir("Set5", 4), 4);
  eval::EvalOptions eo;
  eo.save_images_dir = tmp.path;
  const eval::EvalResult r = eval::evaluate(ds, "Set5", eval::sharpened_method(4, {}), eo);
  ASSERT_EQ(r.images.size(), ds.size());
  for (size_t i = 0; i < ds.size(); ++i) {
    const fs::path f = tmp.path / "sharpened" / (ds.name(i) + ".png");
    ASSERT_TRUE(fs::is_regular_file(f)) << f;
    const data::Image img = data::read_image(f);
    EXPECT_NEAR(eval::psnr(img.pixels, ds.get(i).hr, {4, true}), r.images[i].psnr, 1e-9) << f;
  }
  // No temporary files left behind.
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(tmp.path / "sharpened")) {
    EXPECT_EQ(e.path().extension(), ".png") << e.path();
    ++n;
  }
  EXPECT_EQ(n, ds.size());
}

TEST(Evaluate, CropBorderAndChannelOptionsAreApplied) {
  const auto ds = data::open_benchmark(bench_dir("Set5", 4), 4);
  const eval::Method m = eval::bicubic_method(4);
  eval::EvalOptions eo;
  eo.crop_border = 0;
  eo.y_channel = false;
  const eval::EvalResult r = eval::evaluate(ds, "Set5", m, eo);
  const auto p = ds.get(2);
  const torch::Tensor sr = data::quantize(m.upscale(p.lr), 8);
  EXPECT_NEAR(r.images[2].psnr, eval::psnr(sr, p.hr, {0, false}), 1e-12);
  EXPECT_NEAR(r.images[2].ssim, eval::ssim(sr, p.hr, {0, false}), 1e-12);
  eo.crop_border = -2;
  EXPECT_THROW(eval::evaluate(ds, "Set5", m, eo), Error);
}

TEST(Evaluate, WrongOutputSizeThrowsNamingTheImage) {
  const auto ds = data::open_benchmark(bench_dir("Set5", 2), 2);
  const eval::Method bad{"broken", [](const torch::Tensor& lr) { return lr.clone(); }};
  try {
    eval::evaluate(ds, "Set5", bad, {});
    FAIL() << "expected srlab::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("broken"), std::string::npos) << msg;
    EXPECT_NE(msg.find(ds.name(0)), std::string::npos) << msg;
  }
}

TEST(Evaluate, GrayImageScoredOnIntensity) {
  // Set14 img_003 is single-channel: the bicubic output stays 1-channel and is scored directly.
  const auto ds = data::open_benchmark(bench_dir("Set14", 3), 3);
  size_t gray = ds.size();
  for (size_t i = 0; i < ds.size(); ++i)
    if (ds.channels(i) == 1) gray = i;
  ASSERT_LT(gray, ds.size());
  const auto p = ds.get(gray);
  const torch::Tensor sr = eval::bicubic_method(3).upscale(p.lr);
  EXPECT_EQ(sr.size(0), 1);
  EXPECT_EQ(sr.sizes(), p.hr.sizes());
  EXPECT_TRUE(std::isfinite(eval::psnr(sr, p.hr, {3, true})));
}

// ---- JSON and tables ------------------------------------------------------------------------------------
eval::EvalResult fake_result(const std::string& method, const std::string& dataset, int scale, double p, double s) {
  eval::EvalResult r;
  r.dataset = dataset;
  r.scale = scale;
  r.method = method;
  r.images = {{"img_001", p + 1, s}, {"img_002", p - 1, s}};
  r.mean_psnr = p;
  r.mean_ssim = s;
  return r;
}

TEST(EvalJson, HasExactlyTheRequiredFields) {
  const nlohmann::json j = eval::to_json(fake_result("bicubic", "Set5", 4, 28.4318, 0.81126));
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"dataset", "scale", "method", "mean", "images"}));
  EXPECT_EQ(j["dataset"], "Set5");
  EXPECT_EQ(j["scale"], 4);
  EXPECT_TRUE(j["scale"].is_number_integer());
  EXPECT_EQ(j["method"], "bicubic");
  ASSERT_EQ(j["mean"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["mean"]["psnr"].get<double>(), 28.4318);
  EXPECT_DOUBLE_EQ(j["mean"]["ssim"].get<double>(), 0.81126);
  ASSERT_TRUE(j["images"].is_array());
  ASSERT_EQ(j["images"].size(), 2u);
  for (const auto& im : j["images"]) {
    std::set<std::string> k;
    for (auto it = im.begin(); it != im.end(); ++it) k.insert(it.key());
    EXPECT_EQ(k, (std::set<std::string>{"name", "psnr", "ssim"}));
  }
  EXPECT_EQ(j["images"][1]["name"], "img_002");
  EXPECT_DOUBLE_EQ(j["images"][1]["psnr"].get<double>(), 27.4318);
  // Infinity (identical images) is not representable in JSON: written as the string "inf".
  eval::EvalResult inf = fake_result("x", "Set5", 2, std::numeric_limits<double>::infinity(), 1.0);
  EXPECT_EQ(eval::to_json(inf)["mean"]["psnr"], "inf");
}

TEST(EvalTables, MarkdownAndTextLayout) {
  const std::vector<eval::EvalResult> rs = {
      fake_result("bicubic", "Set5", 4, 28.4318, 0.81126), fake_result("bicubic", "Set14", 4, 25.9983, 0.70303),
      fake_result("sharpened", "Set5", 4, 28.6185, 0.81571), fake_result("run/best", "Set14", 4, 26.5, 0.72)};
  const std::string md = eval::comparison_table_markdown(rs);
  EXPECT_EQ(md,
            "| method | Set5 ×4 | Set14 ×4 |\n"
            "|---|---|---|\n"
            "| bicubic | 28.43 / 0.8113 | 26.00 / 0.7030 |\n"
            "| sharpened | 28.62 / 0.8157 | – |\n"
            "| run/best | – | 26.50 / 0.7200 |\n");
  const std::string txt = eval::comparison_table_text(rs);
  EXPECT_EQ(txt,
            "method            Set5 x4        Set14 x4\n"
            "-----------------------------------------\n"
            "bicubic    28.43 / 0.8113  26.00 / 0.7030\n"
            "sharpened  28.62 / 0.8157               -\n"
            "run/best                -  26.50 / 0.7200\n");
  // The same method twice on one dataset/scale is ambiguous.
  EXPECT_THROW(eval::comparison_table_text({rs[0], rs[0]}), Error);
}

// ---- methods --------------------------------------------------------------------------------------------
TEST(Methods, MakeMethodChoicesAndErrors) {
  EXPECT_EQ(eval::make_method("bicubic", 2, torch::kCPU, {}).name, "bicubic");
  EXPECT_EQ(eval::make_method("sharpened", 2, torch::kCPU, {}).name, "sharpened");
  try {
    eval::make_method("lanczos", 2, torch::kCPU, {});
    FAIL() << "expected srlab::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("lanczos"), std::string::npos);
    EXPECT_NE(msg.find("bicubic"), std::string::npos);
    EXPECT_NE(msg.find("sharpened"), std::string::npos);
    EXPECT_NE(msg.find("checkpoint"), std::string::npos);
  }
  EXPECT_THROW(eval::bicubic_method(0), Error);
  EXPECT_THROW(eval::bicubic_method(2).upscale(torch::rand({2, 8, 8})), Error);
}

TEST(Methods, CheckpointMethodRunsAndChecksScale) {
  TempDir tmp;
  const fs::path ckpt = tmp.path / "espcn_test" / "checkpoints" / "best.pt";
  fs::create_directories(ckpt.parent_path());
  {
    const std::string yaml = "type: espcn\nnum_feat: 8\n";
    models::Generator g = models::make_generator(core::Config::parse(yaml), 2);
    models::CheckpointInfo info;
    info.model_yaml = yaml;
    info.scale = 2;
    torch::serialize::OutputArchive ar;
    models::write_generator_entries(ar, info, g);
    ar.save_to(ckpt.string());
  }
  try {
    eval::checkpoint_method(ckpt, 3, torch::kCPU);
    FAIL() << "expected srlab::Error for the scale mismatch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("best.pt"), std::string::npos) << e.what();
  }
  const eval::Method m = eval::make_method(ckpt.string(), 2, torch::kCPU, {});
  EXPECT_EQ(m.name, "espcn_test/best");
  torch::manual_seed(3);
  const torch::Tensor rgb = m.upscale(torch::rand({3, 10, 12}));
  EXPECT_EQ(rgb.sizes(), (torch::IntArrayRef{3, 20, 24}));
  // Gray: replicated to RGB, output averaged back to one channel.
  const torch::Tensor g = torch::rand({1, 10, 12});
  const torch::Tensor out = m.upscale(g);
  EXPECT_EQ(out.sizes(), (torch::IntArrayRef{1, 20, 24}));
  const torch::Tensor via_rgb = m.upscale(g.expand({3, 10, 12}).contiguous()).mean(0, true);
  EXPECT_TRUE(torch::allclose(out, via_rgb, 1e-6, 1e-6));
  EXPECT_FALSE(torch::GradMode::is_enabled() && out.requires_grad());
}

namespace {
// Issue 28: "a<b.png" and "a>b.png" were both saved as "a_b.png" (one picture in the report for two images).
TEST(SavedImagePath, NamesThatDifferStayDifferent) {
  using srlab::eval::saved_image_path;
  EXPECT_EQ(saved_image_path("bicubic", "img_001.png"), fs::path("bicubic") / "img_001.png");
  EXPECT_NE(saved_image_path("m", "a<b.png"), saved_image_path("m", "a>b.png"));
  EXPECT_NE(saved_image_path("m", "a<b.png"), saved_image_path("m", "a_b.png"));
  EXPECT_NE(saved_image_path("m", "a~3cb.png"), saved_image_path("m", "a<b.png"));
  EXPECT_NE(saved_image_path("a b", "x.png"), saved_image_path("a_b", "x.png"));
  const fs::path dots = saved_image_path("..", "..");
  for (const auto& part : dots) EXPECT_TRUE(part != ".." && part != ".") << dots;
  const std::set<char> safe{'_', '-', '.', '~'};
  for (const char c : saved_image_path("m", "évé/ <>|:*?\"\\.png").filename().string())
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || safe.count(c)) << c;
}
}  // namespace

}  // namespace test_evaluate
