#include "reports/html_report.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "data/image/image_io.h"
#include "reports/page_template.h"
#include "reports/pd_plot_svg.h"

namespace srlab::reports {
namespace fs = std::filesystem;
namespace {

const char* const kMetrics[4] = {"psnr", "ssim", "lpips", "niqe"};

// The metric of a result, when computed (PSNR/SSIM: EvalResult::metrics; LPIPS/NIQE: the optional mean).
std::optional<double> metric_of(const eval::EvalResult& r, const std::string& m) {
  if (m == "psnr" && r.metrics.psnr) return r.mean_psnr;
  if (m == "ssim" && r.metrics.ssim) return r.mean_ssim;
  if (m == "lpips") return r.mean_lpips;
  if (m == "niqe") return r.mean_niqe;
  return std::nullopt;
}

nlohmann::json number_json(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

void check_method(const HtmlReport& rep, const std::string& m, const char* what) {
  if (m == "HR" || m == "LR" || std::find(rep.methods.begin(), rep.methods.end(), m) != rep.methods.end()) return;
  throw Error(fmt::format("HTML report: {} method '{}' is not among the report's methods", what, m));
}

// The rows, best marks and plot of one dataset.
nlohmann::json dataset_json(const HtmlReport& rep, const ReportDataset& d) {
  std::vector<const eval::EvalResult*> rows;
  for (const std::string& m : rep.methods)
    for (const eval::EvalResult& r : rep.results)
      if (r.dataset == d.name && r.method == m) rows.push_back(&r);
  std::vector<std::string> cols;
  for (const char* m : kMetrics)
    if (std::any_of(rows.begin(), rows.end(), [&](const eval::EvalResult* r) { return metric_of(*r, m).has_value(); }))
      cols.push_back(m);
  std::map<std::string, double> best;
  for (const std::string& c : cols)
    for (const eval::EvalResult* r : rows) {
      const auto v = metric_of(*r, c);
      if (!v || std::isnan(*v)) continue;
      auto it = best.find(c);
      if (it == best.end() || (higher_is_better(c) ? *v > it->second : *v < it->second)) best[c] = *v;
    }
  nlohmann::json js_rows = nlohmann::json::array();
  std::vector<PlotPoint> pts;
  const bool has_lpips = std::count(cols.begin(), cols.end(), "lpips") > 0;
  const std::string xm = has_lpips ? "lpips" : "niqe";
  for (const eval::EvalResult* r : rows) {
    nlohmann::json row = {{"method", r->method}, {"values", nlohmann::json::object()}, {"best", nlohmann::json::array()}};
    for (const std::string& c : cols) {
      const auto v = metric_of(*r, c);
      row["values"][c] = v ? number_json(*v) : nlohmann::json(nullptr);
      if (v && best.count(c) && *v == best[c]) row["best"].push_back(c);
    }
    js_rows.push_back(row);
    const auto x = metric_of(*r, xm);
    if (x && r->metrics.psnr) {
      const bool path = r->method == "crisp" || r->method == "creative" || r->method.rfind("interp_a", 0) == 0;
      pts.push_back({r->method, *x, r->mean_psnr, path,
                     fmt::format("{}: {} {:.4f}, PSNR {:.2f} dB", r->method, xm == "lpips" ? "LPIPS" : "NIQE", *x, r->mean_psnr)});
    }
  }
  const std::string plot =
      pts.empty() ? std::string()
                  : pd_plot_svg(pts, xm == "lpips" ? "LPIPS (lower is better)" : "NIQE (lower is better)", "Y-PSNR (dB)").svg;
  nlohmann::json images = nlohmann::json::array();
  for (const ReportImage& im : d.images) {
    images.push_back({{"name", im.name}, {"w", im.width}, {"h", im.height}, {"lr", im.lr}, {"hr", im.hr}, {"sr", im.sr}});
    if (im.focus) images.back()["focus"] = *im.focus;
  }
  nlohmann::json crops = nlohmann::json::array();
  for (const eval::CropBox& c : d.crops) {
    if (c.image >= d.images.size())
      throw Error(fmt::format("HTML report: a crop of dataset '{}' names image {}, but it has {} images", d.name, c.image,
                              d.images.size()));
    crops.push_back({{"image", c.image}, {"y", c.y}, {"x", c.x}, {"size", c.size}});
  }
  return {{"name", d.name}, {"scale", d.scale}, {"columns", cols}, {"rows", js_rows},
          {"plot_svg", plot}, {"images", images}, {"crops", crops}};
}

}  // namespace

std::array<int64_t, 2> largest_difference_centre(const cv::Mat& a, const cv::Mat& b, int side) {
  if (a.size() != b.size() || a.type() != b.type() || a.empty())
    throw Error(fmt::format("largest_difference_centre: images of different sizes or types ({}x{} vs {}x{})", a.cols,
                            a.rows, b.cols, b.rows));
  if (side < 1) throw Error("largest_difference_centre: side must be >= 1");
  const int w = std::min(side, a.cols), h = std::min(side, a.rows);
  cv::Mat diff, sum;
  cv::absdiff(a, b, diff);
  std::vector<cv::Mat> channels;
  cv::split(diff, channels);
  cv::Mat total = cv::Mat::zeros(a.size(), CV_32F);
  for (const cv::Mat& c : channels) cv::add(total, c, total, cv::noArray(), CV_32F);
  cv::integral(total, sum, CV_64F);  // window sums in O(1) each
  double best = -1;
  std::array<int64_t, 2> centre{a.cols / 2, a.rows / 2};
  for (int y = 0; y + h <= a.rows; ++y)
    for (int x = 0; x + w <= a.cols; ++x) {
      const double s = sum.at<double>(y + h, x + w) - sum.at<double>(y, x + w) - sum.at<double>(y + h, x) + sum.at<double>(y, x);
      if (s > best + 1e-9) best = s, centre = {x + w / 2, y + h / 2};
    }
  if (best <= 0) return {a.cols / 2, a.rows / 2};
  return centre;
}

bool higher_is_better(const std::string& metric) { return metric == "psnr" || metric == "ssim"; }

std::vector<std::pair<std::string, std::string>> default_slider_pairs(const std::vector<std::string>& methods,
                                                                      const std::vector<eval::EvalResult>& results) {
  auto has = [&](const char* m) { return std::find(methods.begin(), methods.end(), m) != methods.end(); };
  std::vector<std::pair<std::string, std::string>> pairs;
  if (has("bicubic") && has("crisp")) pairs.emplace_back("bicubic", "crisp");
  if (has("crisp") && has("creative")) pairs.emplace_back("crisp", "creative");
  if (pairs.empty() && has("bicubic")) {  // bicubic | the best learned method (mean PSNR over the results)
    std::map<std::string, std::pair<double, int>> psnr;  // method -> (sum, count)
    for (const eval::EvalResult& r : results)
      if (r.metrics.psnr) psnr[r.method].first += r.mean_psnr, ++psnr[r.method].second;
    std::string best;
    double best_psnr = -1e300;
    for (const std::string& m : methods) {
      if (m == "bicubic" || m == "sharpened") continue;
      const auto it = psnr.find(m);
      const double v = it == psnr.end() ? -1e299 : it->second.first / it->second.second;
      if (best.empty() || v > best_psnr) best = m, best_psnr = v;
    }
    if (!best.empty()) pairs.emplace_back("bicubic", best);
  }
  if (pairs.empty() && methods.size() >= 2) pairs.emplace_back(methods[0], methods[1]);
  if (pairs.empty() && methods.size() == 1) pairs.emplace_back(methods[0], "HR");
  return pairs;
}

nlohmann::json report_page_data(const HtmlReport& rep) {
  std::set<std::string> names;
  for (const ReportDataset& d : rep.datasets) names.insert(d.name);
  for (const eval::EvalResult& r : rep.results) {
    if (!names.count(r.dataset))
      throw Error(fmt::format("HTML report: a result names dataset '{}', which the report does not have", r.dataset));
    check_method(rep, r.method, "a result's");
  }
  const auto pairs = rep.slider_pairs.empty() ? default_slider_pairs(rep.methods, rep.results) : rep.slider_pairs;
  nlohmann::json js_pairs = nlohmann::json::array();
  for (const auto& [a, b] : pairs) {
    check_method(rep, a, "slider");
    check_method(rep, b, "slider");
    js_pairs.push_back({a, b});
  }
  std::vector<std::string> crop_methods = rep.crop_methods;
  if (crop_methods.empty())
    crop_methods.assign(rep.methods.begin(), rep.methods.begin() + std::min<size_t>(4, rep.methods.size()));
  for (const std::string& m : crop_methods) check_method(rep, m, "crop-grid");
  nlohmann::json ds = nlohmann::json::array();
  for (const ReportDataset& d : rep.datasets) ds.push_back(dataset_json(rep, d));
  return {{"title", rep.title},  {"methods", rep.methods},       {"pairs", js_pairs},
          {"crop_methods", crop_methods}, {"provenance", rep.provenance}, {"datasets", ds}};
}

std::string render_html(const HtmlReport& rep) {
  std::string data = report_page_data(rep).dump();
  // Inside <script>, "</" could close the element: JSON allows "\/" for "/".
  for (size_t p = data.find("</"); p != std::string::npos; p = data.find("</", p + 3)) data.replace(p, 2, "<\\/");
  return page_html(xml_escape(rep.title), data);
}

void write_html(const fs::path& file, const HtmlReport& rep) { core::write_file_atomic(file, render_html(rep)); }

ReportDataset collect_dataset(const data::PairedImageDataset& ds, const std::string& name,
                              const std::vector<std::string>& methods, const fs::path& html_dir, const fs::path& sr_dir) {
  ReportDataset out{name, ds.scale(), {}, {}};
  for (size_t i = 0; i < ds.size(); ++i) {
    const data::Pair p = ds.get(i);
    const std::string img = p.name.empty() ? ds.name(i) : p.name;
    ReportImage im{img, p.hr.size(-2), p.hr.size(-1), {}, {}, {}};
    const fs::path file = eval::saved_image_path("x", img).filename();
    im.lr = (sr_dir / "LR" / file).generic_string();
    im.hr = (sr_dir / "HR" / file).generic_string();
    data::write_image(html_dir / im.lr, p.lr, 8);
    data::write_image(html_dir / im.hr, p.hr, 8);
    for (const std::string& m : methods) {
      const fs::path rel = sr_dir / eval::saved_image_path(m, img);
      if (!fs::is_regular_file(html_dir / rel))
        throw Error(fmt::format("HTML report: the SR image '{}' of method '{}' is missing; evaluate with "
                                "save_images_dir = '{}'",
                                (html_dir / rel).string(), m, (html_dir / sr_dir).string()));
      im.sr[m] = rel.generic_string();
    }
    out.images.push_back(im);
  }
  return out;
}

}  // namespace srlab::reports
