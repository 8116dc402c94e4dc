#pragma once
// Scoring an upscaling method on a paired benchmark set (Set5, Set14, ...) with the published-table
// protocol (eval/metrics.h), JSON reports and comparison tables.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/datasets/paired_dataset.h"
#include "eval/methods.h"
#include "eval/niqe.h"
#include "models/features/lpips.h"

namespace srlab::eval {

/// Which metrics evaluate() computes.
struct MetricSelection {
  bool psnr = true;   ///< Y-PSNR (dB), published protocol (eval/metrics.h)
  bool ssim = true;   ///< SSIM, published protocol (eval/metrics.h)
  bool lpips = false; ///< LPIPS v0.1 SqueezeNet (models/features/lpips.h) on the full RGB image, lower is better
  bool niqe = false;  ///< NIQE (eval/niqe.h), no-reference, on the SR image with the border crop, lower is better
};

/// Parses a comma-separated list of metric names ("psnr", "ssim", "lpips", "niqe"; case-sensitive, spaces
/// around names ignored, repeats allowed), e.g. "psnr,ssim,lpips".
/// @throws srlab::Error for an empty list, an empty item or an unknown name (listing the valid names).
MetricSelection parse_metrics(const std::string& list);

/// Scores of one image. A metric that was not selected (EvalResult::metrics) holds NaN (psnr, ssim)
/// or std::nullopt (lpips).
struct ImageScore {
  std::string name;  ///< image name as given by the dataset (e.g. "img_001")
  double psnr;       ///< dB; +infinity when SR and HR are identical after quantisation
  double ssim;       ///< unitless, [-1,1]
  std::optional<double> lpips{};  ///< LPIPS distance (unitless, >= 0, lower is better) when computed
  std::optional<double> niqe{};   ///< NIQE of the SR image (unitless, >= 0, lower is more natural) when computed
};

/// Result of evaluating one method on one dataset at one scale.
struct EvalResult {
  std::string dataset;  ///< display name, e.g. "Set5"
  int scale = 0;
  std::string method;   ///< Method::name
  std::vector<ImageScore> images;
  double mean_psnr = 0;  ///< arithmetic mean of the per-image PSNR in dB (+inf if any image is +inf)
  double mean_ssim = 0;  ///< arithmetic mean of the per-image SSIM
  std::optional<double> mean_lpips{};  ///< arithmetic mean of the per-image LPIPS, when computed
  std::optional<double> mean_niqe{};   ///< arithmetic mean of the per-image NIQE, when computed
  MetricSelection metrics{};  ///< which metrics were computed (others: NaN / nullopt, left out of JSON and tables)
};

/// Evaluation settings.
struct EvalOptions {
  /// Pixels cropped from each border before scoring; -1 => the dataset's scale (the SR convention).
  int crop_border = -1;
  /// Score colour images on MATLAB BT.601 luma (true, published protocol) or on RGB (false).
  bool y_channel = true;
  /// When non-empty, every SR image is also written as an 8-bit PNG to
  /// <save_images_dir>/<method name, characters other than [A-Za-z0-9._-] written as ~XX hex>/<name>.png
  /// (atomically, via data::write_image).
  std::filesystem::path save_images_dir;
  /// Metrics to compute (default PSNR and SSIM).
  MetricSelection metrics{};
  /// LPIPS network used when metrics.lpips (shared between calls to avoid reloading); when empty,
  /// evaluate() loads models::load_lpips(models::resolve_lpips_weights("")).
  models::Lpips lpips{nullptr};
  /// NIQE pristine model used when metrics.niqe; when null, evaluate() loads
  /// load_niqe_model(resolve_niqe_model("")).
  std::shared_ptr<const NiqeModel> niqe_model;
};

/// Runs `method` on every LR image of `dataset`, quantises the output to 8 bit (data::quantize) and
/// scores it against the HR image with the selected metrics: psnr()/ssim() (crop and channel per
/// `opts`) and LPIPS (Zhang et al. 2018, models/features/lpips.h) on the full RGB image without crop (gray images
/// replicated to 3 channels; computed under torch::NoGradGuard on the CPU) and NIQE (eval/niqe.h; of the
/// 8-bit SR image alone, with the same border crop as PSNR); the means are the arithmetic
/// means over images.
/// @throws srlab::Error when the dataset is empty, a method output does not have the HR shape (naming
///         the image, method and both shapes) or is not a float tensor, crop_border < -1, an image cannot
///         be written, no metric is selected, or LPIPS is selected and its weights cannot be found/loaded
///         or an image is smaller than 17 px, or NIQE is selected and its model cannot be loaded or an
///         SR image (after the crop) has fewer than two 96x96 blocks.
EvalResult evaluate(const data::PairedImageDataset& dataset, const std::string& dataset_name, const Method& method,
                    const EvalOptions& opts = {});

/// Where evaluate() writes the SR image of `image_name` by `method` under EvalOptions::save_images_dir:
/// <method>/<image name without an image-file extension>.png, both with characters other than
/// [A-Za-z0-9._-] (and '~') written as "~XX" hex so that different names never share a file
/// (e.g. ("ESPCN x4", "img_001.png") -> "ESPCN~20x4/img_001.png", "a<b.png" -> "a~3cb.png").
std::filesystem::path saved_image_path(const std::string& method, const std::string& image_name);

/// The result as JSON, exactly:
///   {"dataset": str, "scale": int, "method": str, "mean": {"psnr": num, "ssim": num},
///    "images": [{"name": str, "psnr": num, "ssim": num}, ...]}
/// with only the computed metrics (result.metrics) in "mean" and each image: "lpips": num is added to
/// both when LPIPS was computed, likewise "niqe", "psnr"/"ssim" are left out when not selected.
/// JSON has no infinity: an infinite PSNR (identical images) is written as the string "inf".
nlohmann::json to_json(const EvalResult& result);

/// Markdown table: one row per method (in order of first appearance), one column per (dataset, scale)
/// (in order of first appearance, headed "Set5 ×4"), cells "PSNR / SSIM" (dB with 2 decimals, SSIM with 4;
/// only the computed ones); "–" where a method was not evaluated on that column. When any result has
/// LPIPS, each (dataset, scale) column is followed by a column "Set5 ×4 LPIPS↓" (4 decimals, lower is
/// better; "–" where not computed), and likewise by "Set5 ×4 NIQE↓" when any result has NIQE.
/// @throws srlab::Error when two results share method, dataset and scale.
std::string comparison_table_markdown(const std::vector<EvalResult>& results);

/// The same table as aligned plain ASCII text for the terminal (column headers "Set5 x4", LPIPS
/// columns "Set5 x4 LPIPS(lower=better)", NIQE columns "Set5 x4 NIQE(lower=better)").
/// @throws srlab::Error when two results share method, dataset and scale.
std::string comparison_table_text(const std::vector<EvalResult>& results);

}  // namespace srlab::eval
