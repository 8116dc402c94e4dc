#pragma once
// Scoring an upscaling method on a paired benchmark set (Set5, Set14, ...) with the published-table
// protocol (eval/metrics.h), JSON reports and comparison tables.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/paired_dataset.h"
#include "eval/methods.h"

namespace srlab::eval {

/// Scores of one image.
struct ImageScore {
  std::string name;  ///< image name as given by the dataset (e.g. "img_001")
  double psnr;       ///< dB; +infinity when SR and HR are identical after quantisation
  double ssim;       ///< unitless, [-1,1]
};

/// Result of evaluating one method on one dataset at one scale.
struct EvalResult {
  std::string dataset;  ///< display name, e.g. "Set5"
  int scale = 0;
  std::string method;   ///< Method::name
  std::vector<ImageScore> images;
  double mean_psnr = 0;  ///< arithmetic mean of the per-image PSNR in dB (+inf if any image is +inf)
  double mean_ssim = 0;  ///< arithmetic mean of the per-image SSIM
};

/// Evaluation settings.
struct EvalOptions {
  /// Pixels cropped from each border before scoring; -1 => the dataset's scale (the SR convention).
  int crop_border = -1;
  /// Score colour images on MATLAB BT.601 luma (true, published protocol) or on RGB (false).
  bool y_channel = true;
  /// When non-empty, every SR image is also written as an 8-bit PNG to
  /// <save_images_dir>/<method name, with characters other than [A-Za-z0-9._-] replaced by '_'>/<name>.png
  /// (atomically, via data::write_image).
  std::filesystem::path save_images_dir;
};

/// Runs `method` on every LR image of `dataset`, quantises the output to 8 bit (data::quantize) and
/// scores it against the HR image with psnr()/ssim() (crop and channel per `opts`); the means are the
/// arithmetic means over images.
/// @throws srlab::Error when the dataset is empty, a method output does not have the HR shape (naming
///         the image, method and both shapes) or is not a float tensor, crop_border < -1, or an image cannot be written.
EvalResult evaluate(const data::PairedImageDataset& dataset, const std::string& dataset_name, const Method& method,
                    const EvalOptions& opts = {});

/// The result as JSON, exactly:
///   {"dataset": str, "scale": int, "method": str, "mean": {"psnr": num, "ssim": num},
///    "images": [{"name": str, "psnr": num, "ssim": num}, ...]}
/// JSON has no infinity: an infinite PSNR (identical images) is written as the string "inf".
nlohmann::json to_json(const EvalResult& result);

/// Markdown table: one row per method (in order of first appearance), one column per (dataset, scale)
/// (in order of first appearance, headed "Set5 ×4"), cells "PSNR / SSIM" (dB with 2 decimals, SSIM with 4);
/// "–" where a method was not evaluated on that column.
/// @throws srlab::Error when two results share method, dataset and scale.
std::string comparison_table_markdown(const std::vector<EvalResult>& results);

/// The same table as aligned plain ASCII text for the terminal (column headers "Set5 x4").
/// @throws srlab::Error when two results share method, dataset and scale.
std::string comparison_table_text(const std::vector<EvalResult>& results);

}  // namespace srlab::eval
