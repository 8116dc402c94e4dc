#pragma once
// report.html: one HTML file (plain HTML/CSS/JS written for SRLab, no CDN, nothing vendored) plus a
// relative images/ folder of PNG files next to it, readable from file:// with no network:
//   * per dataset a metric table (PSNR/SSIM/LPIPS/NIQE, whichever were computed), sortable by a click on
//     a column header, the best value of each column marked (class "best", bold);
//   * the perception-distortion plot (Blau & Michaeli, CVPR 2018) as inline SVG (reports/pd_plot_svg.h):
//     x = LPIPS (or NIQE when LPIPS is missing), y = Y-PSNR;
//   * per image a before/after slider between any two of the methods, HR and LR (defaults:
//     default_slider_pairs()), dragged on the image or with the range input under it, and a
//     nearest-neighbour zoom (2x or 4x, canvas with smoothing off) of the spot the user clicks;
//   * the crop grid: per crop box LR (enlarged by nearest neighbour) | the crop methods | HR;
//   * the provenance (git revision, command, checkpoints, seeds, config) as given.
// The page reads its data from one embedded JSON block (report_page_data()). A URL fragment sets the
// initial state, for links and headless-browser tests: "#slider=30" (divider at 30 % for every slider),
// "&view=slider" (show only the first slider and its heading), "&zoom=x,y" (zoom centre in HR pixels).
// JavaScript errors and images that fail to load are listed at the top of the page and counted in
// <body data-errors="N">; <body data-ready="1"> is set once the page is built, and every slider element
// (id "slider-<k>") carries data-rect="left,top,width,height" (CSS px in the page as first laid out).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eval/compare.h"
#include "eval/evaluate.h"

namespace srlab::reports {

/// One image of a dataset; paths are relative to the folder of the HTML file ('/' separators).
struct ReportImage {
  std::string name;                       ///< image name (as in the metric JSON)
  int64_t width = 0, height = 0;          ///< HR size in pixels
  std::string lr, hr;                     ///< LR and HR PNG files
  std::map<std::string, std::string> sr;  ///< method name -> SR PNG file
  /// Where the zoom starts (HR pixels, centre x and y): the window where the first slider pair differs
  /// most (largest_difference_centre); unset: the image centre.
  std::optional<std::array<int64_t, 2>> focus;
};

/// One dataset of the report.
struct ReportDataset {
  std::string name;  ///< display name, as EvalResult::dataset
  int scale = 0;     ///< upscaling factor (LR = HR / scale)
  std::vector<ReportImage> images;
  std::vector<eval::CropBox> crops;  ///< crop grid boxes (HR pixels); empty: no grid
};

/// Everything report.html shows.
struct HtmlReport {
  std::string title;
  std::vector<std::string> methods;      ///< table order
  std::vector<eval::EvalResult> results;  ///< dataset x method results (EvalResult::dataset/method name them)
  std::vector<ReportDataset> datasets;
  /// Slider method pairs offered first (left | right); empty: default_slider_pairs(methods).
  std::vector<std::pair<std::string, std::string>> slider_pairs;
  /// Crop-grid columns between LR and HR; empty: the first 4 methods.
  std::vector<std::string> crop_methods;
  /// Shown as given in the provenance section, e.g. {"git_revision", "command", "checkpoints", "seeds",
  /// "config" (YAML text)}.
  nlohmann::json provenance = nlohmann::json::object();
};

/// The slider defaults: (bicubic, crisp) and (crisp, creative) when those methods exist; else (bicubic,
/// the learned method with the highest mean PSNR in `results`) when there is one (a learned method is
/// any but bicubic and sharpened): a newcomer first sees what the model adds over bicubic; else
/// (first, second) method (or (first, HR) with one method). Pairs keep that order.
std::vector<std::pair<std::string, std::string>> default_slider_pairs(const std::vector<std::string>& methods,
                                                                      const std::vector<eval::EvalResult>& results = {});

/// The centre (x, y) of the side x side window (clipped to the image) where the images `a` and `b` (same
/// size, any channel count, 8-bit) differ most in mean absolute difference; the image centre when they
/// are equal. Used to start the report's zoom where two methods differ.
/// @throws srlab::Error when the sizes differ or side < 1.
std::array<int64_t, 2> largest_difference_centre(const cv::Mat& a, const cv::Mat& b, int side);

/// Whether a metric is better when higher: true for "psnr" and "ssim", false for "lpips" and "niqe".
bool higher_is_better(const std::string& metric);

/// The JSON the page is built from: {"title", "methods", "pairs" [[a, b], ...], "crop_methods",
/// "provenance", "datasets" [{"name", "scale", "columns" ["psnr", "ssim", "lpips", "niqe"] (the computed
/// ones), "rows" [{"method", "values" {metric: number | "inf"}, "best" [metrics where this row is best]}],
/// "plot_svg" (pd_plot_svg() of the rows; "" without LPIPS and NIQE), "images" [{"name", "w", "h", "lr",
/// "hr", "sr" {method: path}}], "crops" [{"image", "y", "x", "size"}]}]}. Best: the highest PSNR/SSIM,
/// lowest LPIPS/NIQE among the dataset's rows (ties all marked).
/// @throws srlab::Error when a result names a dataset or method not in the report, or a slider/crop
///         method is neither a method nor "HR"/"LR".
nlohmann::json report_page_data(const HtmlReport& report);

/// The complete HTML page (the JSON of report_page_data() embedded, "</" escaped).
std::string render_html(const HtmlReport& report);

/// Writes render_html() to `file` atomically (core::write_file_atomic). @throws srlab::Error as above
/// or naming the file when it cannot be written.
void write_html(const std::filesystem::path& file, const HtmlReport& report);

/// A report dataset for `ds` whose SR images were written by eval::evaluate() with save_images_dir =
/// `html_dir / sr_dir` (eval::saved_image_path): copies each LR and HR image into
/// `html_dir / sr_dir / "LR" | "HR"` as 8-bit PNG (atomically) and records the relative paths.
/// @param methods  the methods whose SR images are expected.
/// @throws srlab::Error naming the file when an SR image is missing or an image cannot be written.
ReportDataset collect_dataset(const data::PairedImageDataset& ds, const std::string& name,
                              const std::vector<std::string>& methods, const std::filesystem::path& html_dir,
                              const std::filesystem::path& sr_dir);

}  // namespace srlab::reports
