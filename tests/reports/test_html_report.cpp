// report.html data and SVG plot (reports/html_report.h, reports/pd_plot_svg.h): best-of-column marks,
// slider defaults, label placement without overlaps, escaping, and the errors for inconsistent input.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_util.h"

#include "reports/html_report.h"
#include "reports/pd_plot_svg.h"

namespace test_html_report {
using namespace srlab;
using srlab::testing::error_of;

eval::EvalResult result(const std::string& ds, const std::string& m, double psnr, double ssim, std::optional<double> lpips,
                        std::optional<double> niqe) {
  eval::EvalResult r;
  r.dataset = ds;
  r.scale = 4;
  r.method = m;
  r.mean_psnr = psnr;
  r.mean_ssim = ssim;
  r.mean_lpips = lpips;
  r.mean_niqe = niqe;
  r.metrics.lpips = lpips.has_value();
  r.metrics.niqe = niqe.has_value();
  return r;
}

reports::HtmlReport sample() {
  reports::HtmlReport h;
  h.title = "a <b> & c";
  h.methods = {"bicubic", "crisp", "creative"};
  h.results = {result("Set5", "bicubic", 28.4, 0.81, 0.29, 7.1), result("Set5", "crisp", 30.1, 0.86, 0.18, 6.0),
               result("Set5", "creative", 29.0, 0.86, 0.12, 4.2)};
  h.datasets = {{"Set5", 4, {}, {}}};
  return h;
}

TEST(HtmlReport, MarksTheBestOfEachColumn) {
  const nlohmann::json js = reports::report_page_data(sample());
  const auto& d = js["datasets"][0];
  EXPECT_EQ(d["columns"], nlohmann::json({"psnr", "ssim", "lpips", "niqe"}));
  ASSERT_EQ(d["rows"].size(), 3u);
  EXPECT_EQ(d["rows"][0]["best"], nlohmann::json::array());
  EXPECT_EQ(d["rows"][1]["best"], nlohmann::json({"psnr", "ssim"}));           // highest PSNR, tied SSIM
  EXPECT_EQ(d["rows"][2]["best"], nlohmann::json({"ssim", "lpips", "niqe"}));  // tie, lowest LPIPS/NIQE
  EXPECT_NE(d["plot_svg"].get<std::string>().find("<svg"), std::string::npos);
}

TEST(HtmlReport, LeavesOutMetricsNotComputed) {
  reports::HtmlReport h = sample();
  for (auto& r : h.results) r.mean_niqe.reset(), r.metrics.niqe = false;
  h.results[0].mean_psnr = INFINITY;
  const nlohmann::json js = reports::report_page_data(h);
  EXPECT_EQ(js["datasets"][0]["columns"], nlohmann::json({"psnr", "ssim", "lpips"}));
  EXPECT_EQ(js["datasets"][0]["rows"][0]["values"]["psnr"], "inf");
  EXPECT_EQ(js["datasets"][0]["rows"][0]["best"], nlohmann::json({"psnr"}));
}

TEST(HtmlReport, SliderDefaults) {
  using P = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(reports::default_slider_pairs({"bicubic", "sharpened", "crisp", "creative"}),
            (P{{"bicubic", "crisp"}, {"crisp", "creative"}}));
  EXPECT_EQ(reports::default_slider_pairs({"bicubic", "sharpened"}), (P{{"bicubic", "sharpened"}}));
  EXPECT_EQ(reports::default_slider_pairs({"model"}), (P{{"model", "HR"}}));
  // srlab eval -m bicubic -m sharpened -m A -m B: bicubic | the learned method with the best mean PSNR.
  auto result = [](const std::string& m, double psnr) {
    eval::EvalResult r;
    r.method = m;
    r.mean_psnr = psnr;
    return r;
  };
  const std::vector<eval::EvalResult> rs{result("bicubic", 26.0), result("sharpened", 26.1), result("a.pt", 27.0),
                                         result("b.pt", 27.3)};
  EXPECT_EQ(reports::default_slider_pairs({"bicubic", "sharpened", "a.pt", "b.pt"}, rs), (P{{"bicubic", "b.pt"}}));
  EXPECT_EQ(reports::default_slider_pairs({"bicubic", "sharpened", "a.pt"}), (P{{"bicubic", "a.pt"}}));
}

TEST(HtmlReport, ZoomStartsWhereTwoImagesDifferMost) {
  cv::Mat a(120, 200, CV_8UC3, cv::Scalar(100, 100, 100)), b = a.clone();
  EXPECT_EQ(reports::largest_difference_centre(a, b, 64), (std::array<int64_t, 2>{100, 60}));  // equal: the centre
  b(cv::Rect(150, 10, 20, 20)).setTo(cv::Scalar(160, 100, 100));  // a differing patch at x 150..169, y 10..29
  const auto c = reports::largest_difference_centre(a, b, 64);
  EXPECT_TRUE(c[0] - 32 <= 150 && c[0] + 32 >= 170 && c[1] - 32 <= 10 && c[1] + 32 >= 30) << c[0] << "," << c[1];
  EXPECT_NE(error_of([&] { reports::largest_difference_centre(a, cv::Mat(10, 10, CV_8UC3), 64); }), "");
}

TEST(HtmlReport, PageEscapesTitleAndScriptEnd) {
  reports::HtmlReport h = sample();
  h.provenance = {{"config", "name: x </script><script>alert(1)</script>"}};
  const std::string page = reports::render_html(h);
  EXPECT_NE(page.find("<title>a &lt;b&gt; &amp; c</title>"), std::string::npos);
  // Only the page's own two closing script tags remain.
  size_t n = 0;
  for (size_t p = page.find("</script>"); p != std::string::npos; p = page.find("</script>", p + 1)) ++n;
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // no network URL but the SVG namespace
}

TEST(HtmlReport, ErrorsNameTheInconsistency) {
  reports::HtmlReport h = sample();
  h.slider_pairs = {{"bicubic", "esrgan"}};
  EXPECT_NE(error_of([&] { reports::report_page_data(h); }).find("slider method 'esrgan'"), std::string::npos);
  h = sample();
  h.results.push_back(result("Set14", "crisp", 1, 1, {}, {}));
  EXPECT_NE(error_of([&] { reports::report_page_data(h); }).find("dataset 'Set14'"), std::string::npos);
  h = sample();
  h.datasets[0].crops = {{3, 0, 0, 32}};
  EXPECT_NE(error_of([&] { reports::report_page_data(h); }).find("names image 3"), std::string::npos);
}

TEST(PdPlotSvg, LabelsNeverOverlap) {
  // A dense cluster (the interpolation sweep of a real study packs labels together) and a far point.
  std::vector<reports::PlotPoint> pts;
  for (int i = 0; i < 12; ++i)
    pts.push_back({"interp_a0." + std::to_string(i), 0.20 + 0.002 * i, 28.0 + 0.01 * i, true, ""});
  pts.push_back({"bicubic", 0.40, 27.0, false, ""});
  pts.push_back({"creative_then_sharpen", 0.10, 26.5, false, ""});
  const reports::SvgPlot plot = reports::pd_plot_svg(pts, "LPIPS", "PSNR");
  size_t labelled = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    const reports::Box& a = plot.label_boxes[i];
    if (a.w == 0) continue;
    ++labelled;
    for (size_t j = 0; j < pts.size(); ++j) {
      EXPECT_FALSE(reports::overlaps(a, plot.marker_boxes[j])) << pts[i].label << " covers the marker of " << pts[j].label;
      if (j != i && plot.label_boxes[j].w > 0)
        EXPECT_FALSE(reports::overlaps(a, plot.label_boxes[j])) << pts[i].label << " / " << pts[j].label;
    }
  }
  EXPECT_EQ(labelled + plot.legend.size(), pts.size());
  EXPECT_GE(labelled, 8u);
  // One tooltip per point.
  size_t titles = 0;
  for (size_t p = plot.svg.find("<title>"); p != std::string::npos; p = plot.svg.find("<title>", p + 1)) ++titles;
  EXPECT_EQ(titles, pts.size());
}

TEST(PdPlotSvg, SkipsNonFiniteAndEscapes) {
  const reports::SvgPlot plot =
      reports::pd_plot_svg({{"a<b", 0.1, 30, false, ""}, {"nan", NAN, 20, false, ""}}, "x & y", "PSNR");
  EXPECT_NE(plot.svg.find("a&lt;b"), std::string::npos);
  EXPECT_NE(plot.svg.find("x &amp; y"), std::string::npos);
  EXPECT_EQ(plot.svg.find(">nan<"), std::string::npos);
  EXPECT_EQ(plot.label_boxes[1].w, 0);
}

}  // namespace test_html_report
