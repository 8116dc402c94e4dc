// report.html in a real browser: headless Chromium (Debian package `chromium`, installed by
// scripts/setup.sh) loads a report written by the eval pipeline from file:// at 1280x800 and the test
// checks that the page builds with no console message and no failed image, that the table has one
// row per method, and that moving the slider changes the pixels shown where (and only where) it should.
// Chromium missing is a failure, not a skip. Every browser run is bounded by `timeout 60`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <regex>

#include "core/fs.h"
#include "core/paths.h"
#include "core/process.h"
#include "data/datasets/paired_dataset.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"
#include "eval/evaluate.h"
#include "eval/methods.h"
#include "reports/run_reports.h"

namespace test_browser {
namespace fs = std::filesystem;
using namespace srlab;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("srlab_browser_test_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    if (!std::getenv("SRLAB_KEEP_BROWSER_TEST")) fs::remove_all(path, ec);
  }
};

std::string chromium() {
  if (const char* e = std::getenv("SRLAB_CHROMIUM"); e && *e) return e;
  for (const char* c : {"chromium", "chromium-browser"})
    if (core::run_command(std::string("command -v ") + c).first == 0) return c;
  return "";
}

struct Browser {
  int status = 0;
  std::string out, log;  // stdout (e.g. the DOM), stderr (Chromium's log incl. console messages)
};

// One headless Chromium run on `url` with the flags of the CI setup and a fresh profile.
Browser run_browser(const fs::path& tmp, const std::string& what, const std::string& url) {
  static int n = 0;
  const fs::path profile = tmp / ("profile" + std::to_string(n)), out = tmp / ("out" + std::to_string(n) + ".txt"),
                 err = tmp / ("err" + std::to_string(n++) + ".txt");
  fs::create_directories(profile);
  const std::string cmd =
      "timeout 60 " + core::shell_quote(chromium()) +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --hide-scrollbars --force-device-scale-factor=1"
      " --window-size=1280,800 --enable-logging=stderr --v=0 --virtual-time-budget=5000 --user-data-dir=" +
      core::shell_quote(profile.string()) + " " + what + " " + core::shell_quote(url) + " >" +
      core::shell_quote(out.string()) + " 2>" + core::shell_quote(err.string());
  Browser b;
  b.status = core::run_command(cmd).first;
  b.out = fs::exists(out) ? core::read_file(out) : "";
  b.log = fs::exists(err) ? core::read_file(err) : "";
  return b;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// A two-image benchmark (128x128 HR crops of Set5 x4 with MATLAB-bicubic LR), scored with bicubic and
// sharpened; report.html written by the `srlab eval --html` writer.
fs::path make_report(const fs::path& dir) {
  const fs::path hr_dir = core::shared_data_dir() / "benchmarks" / "Set5" / "x4" / "HR";
  for (const char* img : {"img_001", "img_003"}) {
    const torch::Tensor hr = data::read_image(hr_dir / (std::string(img) + ".png")).pixels.slice(1, 64, 192).slice(2, 64, 192);
    data::write_image(dir / "set" / "HR" / (std::string(img) + ".png"), hr);
    data::write_image(dir / "set" / "LR" / (std::string(img) + ".png"), data::imresize_integer(hr.contiguous(), 0.25));
  }
  const data::PairedImageDataset ds = data::open_benchmark(dir / "set", 4, false);
  std::vector<eval::EvalResult> results;
  for (const char* m : {"bicubic", "sharpened"}) {
    eval::Method method = eval::make_method(m, 4, torch::kCPU, {});
    eval::EvalOptions eo;
    eo.save_images_dir = dir / "report_images" / "set";
    results.push_back(eval::evaluate(ds, "set", method, eo));
  }
  reports::write_eval_html(dir / "report.html", results, {{"set", ds}}, "report_images", "test", "test_browser");
  return dir / "report.html";
}

TEST(Browser, ReportLoadsAndSliderChangesPixels) {
  ASSERT_FALSE(chromium().empty()) << "headless Chromium not found: install the Debian package chromium "
                                      "(bash scripts/setup.sh does) or set SRLAB_CHROMIUM";
  TempDir tmp;
  const std::string url = "file://" + fs::absolute(make_report(tmp.path)).string();

  // DOM after the scripts ran: no errors, built, one row per method.
  const Browser dom = run_browser(tmp.path, "--dump-dom", url + "#slider=50&view=slider");
  ASSERT_EQ(dom.status, 0) << dom.log;
  EXPECT_EQ(count(dom.out, "data-ready=\"1\""), 1u) << dom.out.substr(0, 2000);
  EXPECT_EQ(count(dom.out, "data-errors=\"0\""), 1u) << dom.out.substr(0, 2000);
  EXPECT_EQ(count(dom.out, "class=\"method-row\""), 2u);
  EXPECT_EQ(count(dom.log, ":CONSOLE"), 0u) << dom.log;  // the page logs nothing; errors would show here
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex("id=\"slider-0\"[^>]*data-rect=\"(\\d+),(\\d+),(\\d+),(\\d+)\"")));
  const int x = std::stoi(m[1]), y = std::stoi(m[2]), w = std::stoi(m[3]), h = std::stoi(m[4]);
  ASSERT_EQ(w, 128);  // the HR width, drawn 1:1
  ASSERT_LE(y + h, 800);

  // Screenshots with the divider at 10 % and 90 %.
  cv::Mat shot[2];
  for (int i = 0; i < 2; ++i) {
    const fs::path png = tmp.path / (i == 0 ? "slider10.png" : "slider90.png");
    const Browser b = run_browser(tmp.path, "--screenshot=" + core::shell_quote(png.string()),
                                  url + (i == 0 ? "#slider=10&view=slider" : "#slider=90&view=slider"));
    ASSERT_EQ(b.status, 0) << b.log;
    EXPECT_EQ(count(b.log, ":CONSOLE"), 0u) << b.log;
    shot[i] = data::read_mat(png);
    ASSERT_EQ(shot[i].cols, 1280);
    ASSERT_EQ(shot[i].rows, 800);
  }
  // Left of 10 % both show the left method; between the dividers they differ (bicubic vs sharpened).
  auto diff_fraction = [&](int x0, int x1) {
    cv::Mat d;
    cv::absdiff(shot[0](cv::Rect(x0, y, x1 - x0, h)), shot[1](cv::Rect(x0, y, x1 - x0, h)), d);
    return static_cast<double>(cv::countNonZero(d.reshape(1))) / (d.total() * d.channels());
  };
  EXPECT_EQ(diff_fraction(x, x + w / 10 - 2), 0.0);
  EXPECT_GT(diff_fraction(x + w / 10 + 3, x + 9 * w / 10 - 3), 0.2);
}

}  // namespace test_browser
