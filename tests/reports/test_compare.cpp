// `srlab compare` (eval/compare.h, reports/compare_report.h): report files for every method x dataset, interpolation endpoints equal
// to the crisp/creative scores, plot/crop PNG sizes and content, crop choice, config validation, and the
// missing-gnuplot error. Tiny random ESPCN checkpoints on 2-image folders cut from Set5 HR images.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "tests/test_util.h"

#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"
#include "data/datasets/paired_dataset.h"
#include "reports/compare_report.h"
#include "models/weights/checkpoint.h"
#include "models/arch/registry.h"

namespace test_compare {
namespace fs = std::filesystem;
using namespace srlab;
using srlab::testing::error_of;

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("srlab_compare_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A benchmark folder <dir>/HR + <dir>/LR of 64x64 HR crops (top-left (y, x)) of Set5 x4 HR images, with
// LR = MATLAB bicubic x1/4 on the 8-bit grid.
fs::path make_set(const fs::path& dir, const std::vector<std::pair<std::string, std::pair<int, int>>>& crops) {
  const fs::path set5 = core::shared_data_dir() / "benchmarks" / "Set5" / "x4" / "HR";
  for (const auto& [img, yx] : crops) {
    const torch::Tensor hr =
        data::read_image(set5 / (img + ".png")).pixels.slice(1, yx.first, yx.first + 64).slice(2, yx.second, yx.second + 64);
    data::write_image(dir / "HR" / (img + ".png"), hr);
    data::write_image(dir / "LR" / (img + ".png"), data::imresize_integer(hr.contiguous(), 0.25));
  }
  return dir;
}

fs::path make_ckpt(const fs::path& file, uint64_t seed, const std::string& run_id, int scale = 4) {
  torch::manual_seed(seed);
  const std::string yaml = "{type: espcn, num_feat: 4, activation: relu, residual: bicubic}";
  models::Generator g = models::make_generator(core::Config::parse(yaml), scale);
  models::CheckpointInfo info;
  info.model_yaml = yaml;
  info.scale = scale;
  info.run_id = run_id;
  info.iteration = 10;
  torch::serialize::OutputArchive ar;
  models::write_generator_entries(ar, info, g);
  ar.save_to(file.string());
  return file;
}

struct Fixture {
  TempDir tmp;
  fs::path set_a, set_b, crisp, creative, extra;
  Fixture() {
    set_a = make_set(tmp.path / "setA", {{"img_001", {100, 80}}, {"img_002", {40, 60}}});
    set_b = make_set(tmp.path / "setB", {{"img_003", {120, 120}}, {"img_004", {60, 100}}});
    crisp = make_ckpt(tmp.path / "crisp.pt", 1, "crisp_x4");
    creative = make_ckpt(tmp.path / "creative.pt", 2, "creative_x4");
    extra = make_ckpt(tmp.path / "other.pt", 3, "other_x4");
  }
  std::string yaml(const std::string& more = "") const {
    return "name: test_compare\nscale: 4\ndatasets: ['" + set_a.string() + "', '" + set_b.string() + "']\ncrisp: '" +
           crisp.string() + "'\ncreative: '" + creative.string() + "'\nextra: {other: '" + extra.string() +
           "'}\ninterpolation_alphas: [1, 0, 0.5]\nsharpen: {amount: 0.5, sigma: 1.0}\ncrops: {count: 3, size: 32}\n"
           "device: cpu\nniqe: false\n" + more;
  }
  eval::CompareConfig config(const std::string& more = "") const {
    return eval::parse_compare_config(core::Config::parse(yaml(more), "test_compare.yaml"));
  }
};

const nlohmann::json& find_result(const nlohmann::json& results, const std::string& ds, const std::string& method) {
  for (const auto& r : results)
    if (r["dataset"] == ds && r["method"] == method) return r;
  static const nlohmann::json none;
  ADD_FAILURE() << "no result for " << ds << " / " << method;
  return none;
}

TEST(Compare, WritesReportsForEveryMethodAndDataset) {
  Fixture f;
  const fs::path out = f.tmp.path / "out";
  const eval::CompareReport rep = reports::run_compare(f.config(), out);

  const std::vector<std::string> want{"bicubic",  "sharpened",   "crisp",   "interp_a0",
                                      "interp_a0.5", "interp_a1", "creative", "creative_then_sharpen",
                                      "sharpen_then_upscale", "other"};
  ASSERT_EQ(rep.methods.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(rep.methods[i].name, want[i]);
  EXPECT_EQ(rep.datasets, (std::vector<std::string>{"setA", "setB"}));
  EXPECT_EQ(rep.results.size(), 2 * want.size());

  for (const char* file : {"compare.md", "compare.json", "pd_plot_setA.png", "pd_plot_setA.dat", "pd_plot_setA.gp",
                           "pd_plot_setB.png", "crops_setA.png", "crops_setB.png"})
    EXPECT_TRUE(fs::is_regular_file(out / file)) << file;
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();

  const nlohmann::json js = nlohmann::json::parse(core::read_file(out / "compare.json"));
  ASSERT_EQ(js["results"].size(), 2 * want.size());
  EXPECT_EQ(js["checkpoints"]["crisp"]["weights"], "raw");
  EXPECT_EQ(js["checkpoints"]["extra"]["other"]["run_id"], "other_x4");
  EXPECT_EQ(js["interpolation_alphas"], nlohmann::json({0.0, 0.5, 1.0}));
  for (const std::string ds : {"setA", "setB"}) {
    for (const std::string& m : want) {
      const nlohmann::json& r = find_result(js["results"], ds, m);
      ASSERT_TRUE(r.contains("mean")) << ds << " " << m;
      EXPECT_EQ(r["images"].size(), 2u);
      EXPECT_TRUE(r["mean"].contains("psnr") && r["mean"].contains("ssim") && r["mean"].contains("lpips")) << m;
      EXPECT_GE(r["mean"]["lpips"].get<double>(), 0.0);
    }
    // Network interpolation at the endpoints is exactly crisp / creative.
    const auto& crisp = find_result(js["results"], ds, "crisp")["mean"];
    const auto& creative = find_result(js["results"], ds, "creative")["mean"];
    const auto& a0 = find_result(js["results"], ds, "interp_a0")["mean"];
    const auto& a1 = find_result(js["results"], ds, "interp_a1")["mean"];
    for (const char* k : {"psnr", "ssim", "lpips"}) {
      EXPECT_EQ(a0[k].get<double>(), crisp[k].get<double>()) << ds << " " << k;
      EXPECT_EQ(a1[k].get<double>(), creative[k].get<double>()) << ds << " " << k;
    }
    EXPECT_NE(crisp["psnr"].get<double>(), creative["psnr"].get<double>());
  }
  // Methods carry their kind and alpha.
  for (const auto& m : js["methods"]) {
    if (m["name"] == "interp_a0.5") EXPECT_EQ(m["alpha"].get<double>(), 0.5);
    if (m["name"] == "other") EXPECT_EQ(m["kind"], "extra");
  }

  // Markdown: a table per dataset, bold best values, the shared-backbone note.
  const std::string md = core::read_file(out / "compare.md");
  EXPECT_NE(md.find("## setA x4"), std::string::npos);
  EXPECT_NE(md.find("## setB x4"), std::string::npos);
  EXPECT_NE(md.find("| method | PSNR (dB) ↑ | SSIM ↑ | LPIPS ↓ |"), std::string::npos);
  EXPECT_NE(md.find("**"), std::string::npos);
  EXPECT_NE(md.find("SqueezeNet"), std::string::npos);
  EXPECT_NE(md.find("| sharpen_then_upscale |"), std::string::npos);
  EXPECT_NE(md.find("Sweep crisp → creative (α = 0, 0, 0.5, 1, 1)"), std::string::npos) << md;

  // The sweep: crisp, interp_a0, interp_a0.5, interp_a1, creative; its values are the table's.
  const nlohmann::json& sweep = js["datasets"][0]["sweep"];
  EXPECT_EQ(sweep["alphas"], nlohmann::json({0.0, 0.0, 0.5, 1.0, 1.0}));
  ASSERT_EQ(sweep["psnr"]["values"].size(), 5u);
  EXPECT_EQ(sweep["psnr"]["values"][2].get<double>(), find_result(js["results"], "setA", "interp_a0.5")["mean"]["psnr"]);
  EXPECT_EQ(sweep["lpips"]["values"][4].get<double>(), find_result(js["results"], "setA", "creative")["mean"]["lpips"]);
  const eval::SweepTrend t = eval::sweep_trend(sweep["psnr"]["values"].get<std::vector<double>>());
  EXPECT_EQ(sweep["psnr"]["direction"], t.direction);
  EXPECT_EQ(sweep["psnr"]["monotone"], t.monotone);

  // The plot: 900 x 650 PNG; the script reads the data file and is kept for reproduction.
  const data::Image plot = data::read_image(out / "pd_plot_setA.png");
  EXPECT_EQ(plot.pixels.size(1), 650);
  EXPECT_EQ(plot.pixels.size(2), 900);
  EXPECT_NE(core::read_file(out / "pd_plot_setA.gp").find("pd_plot_setA.dat"), std::string::npos);
  EXPECT_NE(core::read_file(out / "pd_plot_setA.dat").find("\"interp_a0.5\""), std::string::npos);

  // The crop grid: 3 rows of 6 tiles, crop 32 px enlarged x4 to 128 px; the HR tile of row 0 is the HR crop.
  const data::Image crops = data::read_image(out / "crops_setA.png");
  ASSERT_EQ(crops.pixels.size(0), 3);
  EXPECT_EQ(crops.pixels.size(1), 4 + 3 * (128 + 22));
  EXPECT_EQ(crops.pixels.size(2), 6 * 128 + 28);
  const auto& box = js["datasets"][0]["crop_boxes"][0];
  ASSERT_EQ(js["datasets"][0]["crop_boxes"].size(), 3u);
  const int64_t y = box["y"], x = box["x"];
  const torch::Tensor hr = data::read_image(f.set_a / "HR" / (box["name"].get<std::string>() + ".png")).pixels;
  const torch::Tensor want_tile =
      hr.slice(1, y, y + 32).slice(2, x, x + 32).repeat_interleave(4, 1).repeat_interleave(4, 2);
  const int left = 4 + 5 * (128 + 4), top = 4 + 18;
  const torch::Tensor got_tile = crops.pixels.slice(1, top, top + 128).slice(2, left, left + 128);
  EXPECT_TRUE(torch::equal(got_tile, want_tile));
}

TEST(Compare, SweepTrend) {
  auto t = eval::sweep_trend({30.4, 30.1, 30.1, 29.0});
  EXPECT_EQ(t.direction, "decreasing");
  EXPECT_TRUE(t.monotone);  // equal steps are allowed
  t = eval::sweep_trend({0.17, 0.15, 0.16, 0.12});
  EXPECT_EQ(t.direction, "decreasing");
  EXPECT_FALSE(t.monotone);
  t = eval::sweep_trend({0.1, 0.2, 0.3});
  EXPECT_EQ(t.direction, "increasing");
  EXPECT_TRUE(t.monotone);
  t = eval::sweep_trend({1.0, 2.0, 1.0});
  EXPECT_EQ(t.direction, "flat");
  EXPECT_FALSE(t.monotone);
  EXPECT_FALSE(eval::sweep_trend({1.0, std::nan(""), 0.5}).monotone);
  t = eval::sweep_trend({5.0});
  EXPECT_EQ(t.direction, "flat");
  EXPECT_TRUE(t.monotone);
}

TEST(Compare, ChooseCropsPicksTheTexturedWindowDeterministically) {
  // A flat 64x48 image with a noisy 16x16 patch at (y 24, x 8), scale 2.
  torch::manual_seed(0);
  torch::Tensor hr = torch::full({3, 64, 48}, 0.5f);
  hr.slice(1, 24, 40).slice(2, 8, 24).copy_(torch::rand({3, 16, 16}));
  hr = data::quantize(hr, 8);
  const torch::Tensor lr = data::imresize(hr, 0.5);
  std::vector<data::StoredPair> pairs{{lr.clamp(0, 1), hr, "tex", "tex.png"}};
  const data::PairedImageDataset ds(2, pairs);
  const std::vector<eval::CropBox> c = eval::choose_crops(ds, 2, 16);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].image, 0u);
  EXPECT_EQ(c[0].y, 24);
  EXPECT_EQ(c[0].x, 8);
  EXPECT_EQ(c[0].size, 16);
  // The second crop of the same image does not overlap the first and is aligned to the scale.
  EXPECT_TRUE(std::abs(c[1].y - c[0].y) >= 16 || std::abs(c[1].x - c[0].x) >= 16);
  EXPECT_EQ(c[1].y % 2, 0);
  EXPECT_EQ(c[1].x % 2, 0);
  EXPECT_EQ(eval::choose_crops(ds, 2, 16)[1].y, c[1].y);  // deterministic
  EXPECT_NE(error_of([&] { eval::choose_crops(ds, 1, 80); }).find("64 x 48"), std::string::npos);
  EXPECT_FALSE(error_of([&] { eval::choose_crops(ds, 1, 15); }).empty());
}

TEST(Compare, ConfigValidation) {
  Fixture f;
  const eval::CompareConfig c = f.config("lpips_weights: ''\n");
  EXPECT_EQ(c.name, "test_compare");
  EXPECT_EQ(c.extra.size(), 1u);
  EXPECT_EQ(c.crop_size, 32);
  EXPECT_EQ(c.interpolation_alphas, (std::vector<double>{1, 0, 0.5}));
  // Explicit crops: a list for every dataset, or per dataset name.
  const eval::CompareConfig at = f.config("");
  EXPECT_TRUE(at.crops_at.empty());
  auto with_crops = [&](const std::string& crops) {
    std::string y = f.yaml();
    y.replace(y.find("crops: {count: 3, size: 32}"), std::string("crops: {count: 3, size: 32}").size(), crops);
    return eval::parse_compare_config(core::Config::parse(y, "test_compare.yaml"));
  };
  EXPECT_EQ(with_crops("crops: {size: 32, at: [[1, 8, 12]]}").crops_at.at("").at(0), (std::array<int64_t, 3>{1, 8, 12}));
  EXPECT_EQ(with_crops("crops: {size: 32, at: {setB: [[0, 0, 4]]}}").crops_at.at("setB").size(), 1u);
  EXPECT_NE(error_of([&] { with_crops("crops: {size: 32, at: [[1, 6, 12]]}"); }).find("multiples"), std::string::npos);
  EXPECT_NE(error_of([&] { with_crops("crops: {size: 30}"); }).find("crops.size"), std::string::npos);

  auto err = [&](const std::string& more) {
    return error_of([&] { eval::parse_compare_config(core::Config::parse(f.yaml() + more, "test_compare.yaml")); });
  };
  EXPECT_NE(err("interpolation_alpha: [0.5]\n").find("unknown key 'interpolation_alpha'"), std::string::npos);
  EXPECT_NE(err("sharpen_amount: 1\n").find("sharpen_amount"), std::string::npos);
  std::string bad = f.yaml();
  bad.replace(bad.find("[1, 0, 0.5]"), 11, "[0.5, 1.2]");
  EXPECT_NE(error_of([&] { eval::parse_compare_config(core::Config::parse(bad)); }).find("1.2"), std::string::npos);
  bad = f.yaml();
  bad.replace(bad.find("extra: {other:"), 14, "extra: {crisp:");
  EXPECT_NE(error_of([&] { eval::parse_compare_config(core::Config::parse(bad)); }).find("built-in"), std::string::npos);
}

TEST(Compare, RefusesBadInputsBeforeEvaluating) {
  Fixture f;
  // A crop outside the 64x64 images.
  std::string y = f.yaml();
  y.replace(y.find("crops: {count: 3, size: 32}"), std::string("crops: {count: 3, size: 32}").size(),
            "crops: {size: 32, at: [[0, 40, 0]]}");
  const eval::CompareConfig c = eval::parse_compare_config(core::Config::parse(y));
  EXPECT_NE(error_of([&] { reports::run_compare(c, f.tmp.path / "o1"); }).find("does not fit"), std::string::npos);
  // A x2 checkpoint in a x4 comparison, named.
  const fs::path x2 = make_ckpt(f.tmp.path / "creative_x2.pt", 5, "c2", 2);
  eval::CompareConfig c2 = f.config();
  c2.creative = x2.string();
  const std::string msg = error_of([&] { reports::run_compare(c2, f.tmp.path / "o2"); });
  EXPECT_NE(msg.find(x2.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("x2"), std::string::npos) << msg;
  // gnuplot missing: a clear error saying what to install.
  ::setenv("SRLAB_GNUPLOT", (f.tmp.path / "no_such_gnuplot").c_str(), 1);
  const std::string gp = error_of([&] { reports::run_compare(f.config(), f.tmp.path / "o3"); });
  ::unsetenv("SRLAB_GNUPLOT");
  EXPECT_NE(gp.find("install gnuplot-nox (scripts/setup.sh does)"), std::string::npos) << gp;
  EXPECT_FALSE(fs::exists(f.tmp.path / "o3" / "compare.md"));
}

}  // namespace test_compare
