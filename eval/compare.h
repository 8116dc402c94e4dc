#pragma once
// `srlab compare`: a crisp (PSNR-oriented) model against a creative (GAN/perceptual) model on benchmark
// folders, with the classic baselines, network-interpolation blends between the two (Wang et al.,
// "Deep Network Interpolation for Continuous Imagery Effect Transition", CVPR 2019, Eq. 1; models/
// interpolate.h) and unsharp-mask variants, scored with Y-PSNR, SSIM, LPIPS and NIQE (eval/evaluate.h).
// This file parses the config and runs the evaluation (evaluate_compare); the report (Markdown/JSON
// tables, perception-distortion plots, crop grids, report.html) is written by reports/compare_report.h.
//
// Config (YAML; every key is validated, unknown keys are errors):
//   name: crisp_vs_creative_x4                 # required; default output folder experiments/runs/<name>
//   scale: 4                                   # required, integer >= 1
//   datasets: ["${data}/benchmarks/Set5/x4"]   # required, benchmark folders or HDF5 test files
//                                              # (data::open_benchmark), distinct display names
//   crisp: runs/crisp_x4/checkpoints/best.pt   # required: checkpoint A (alpha 0)
//   creative: runs/creative_x4/checkpoints/best.pt   # required: checkpoint B (alpha 1)
//   extra: {creative_noperc: path.pt}          # optional name -> checkpoint ([A-Za-z0-9._-] names)
//   interpolation_alphas: [0.2, 0.4, 0.6, 0.8] # optional, each in [0,1], distinct (default none)
//   sharpen: {amount: 0.5, sigma: 1.0, threshold: 0}   # optional unsharp-mask options (eval/sharpen.h)
//   crops: {count: 3, size: 64}                # optional; count 0 = no crop grid; size in HR pixels, a
//                                              # multiple of scale; optional `at`: explicit crops
//                                              # [[image index (0-based), y, x], ...] for every dataset,
//                                              # or {<dataset name>: [[i, y, x], ...]} per dataset (others
//                                              # chosen automatically); y, x multiples of scale
//   lpips_weights: ""                          # optional; "" = models::resolve_lpips_weights("")
//   niqe: true                                 # optional; false leaves NIQE out (images < 2 blocks of 96 px)
//   niqe_model: ""                             # optional; "" = resolve_niqe_model("") (eval/niqe.h)
//   device: auto                               # optional: cpu | cuda | cuda:N | auto
// "${data}" in paths expands to the shared data folder (core/paths.h); relative paths are relative to
// the current directory.
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/datasets/paired_dataset.h"
#include "eval/evaluate.h"
#include "eval/methods.h"
#include "eval/sharpen.h"
#include "models/weights/interpolate.h"

namespace srlab::eval {

/// One square crop of an HR image for the picture grid: top-left corner (y, x) and side in HR pixels.
struct CropBox {
  size_t image = 0;  ///< index into the dataset (0-based)
  int64_t y = 0;     ///< top row, HR pixels (a multiple of the scale)
  int64_t x = 0;     ///< left column, HR pixels (a multiple of the scale)
  int64_t size = 0;  ///< side, HR pixels (a multiple of the scale)
};

/// The parsed `srlab compare` config (see the file comment for the YAML keys).
struct CompareConfig {
  std::string name;
  int scale = 0;
  std::vector<std::string> datasets;  ///< as written (may contain "${data}")
  std::string crisp, creative;        ///< checkpoint paths as written
  std::vector<std::pair<std::string, std::string>> extra;  ///< (method name, checkpoint path), file order
  std::vector<double> interpolation_alphas;                 ///< as written (validated, not sorted)
  UnsharpOptions sharpen;
  int crop_count = 3;
  int crop_size = 64;
  /// Explicit crops: key "" applies to every dataset, other keys to the dataset of that display name;
  /// each entry (image index, y, x). Empty: chosen by choose_crops().
  std::map<std::string, std::vector<std::array<int64_t, 3>>> crops_at;
  std::string lpips_weights;
  bool niqe = true;        ///< also score NIQE (eval/niqe.h; needs >= 2 blocks of 96 px per SR image)
  std::string niqe_model;  ///< NIQE model file; "" = resolve_niqe_model("")
  std::string device = "auto";
  std::string source;       ///< the config file (for messages)
  std::string yaml;         ///< the config as YAML text (recorded in compare.json)
};

/// Reads a compare config from `cfg` (the document root) and validates it: required keys present,
/// scale >= 1, a non-empty dataset list, alphas finite, in [0,1] and distinct, extra names non-empty,
/// made of [A-Za-z0-9._-], unique and not a built-in method name (bicubic, sharpened, crisp, creative,
/// creative_then_sharpen, sharpen_then_upscale, interp_a*), crop count >= 0, crop size a positive
/// multiple of scale, sharpen options valid, and no unknown key (core::Config::check_known).
/// @throws srlab::Error "config error in <file> at '<key>': ..." naming the offending key.
CompareConfig parse_compare_config(const core::Config& cfg);

/// core::Config::load_file(file) (with the "key=value" `overrides` applied in order, as `--set`), then
/// parse_compare_config(). @throws srlab::Error naming the file or key.
CompareConfig load_compare_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

/// Deterministic crops for the picture grid: crop k is taken from the k-th image (cycling) among the
/// images whose HR side lengths are >= `size`, at the size x size window with the highest variance of
/// the channel-mean intensity among windows on a grid of stride `dataset.scale()` (ties: first in
/// raster order), skipping windows that overlap an earlier crop of the same image while any
/// non-overlapping one remains.
/// @param count  number of crops (>= 0); @param size  side in HR pixels, a positive multiple of the scale.
/// @throws srlab::Error when size is not a positive multiple of the scale or no image is large enough
///         (naming the size and the largest image).
std::vector<CropBox> choose_crops(const data::PairedImageDataset& dataset, int count, int size);

/// How a metric moves along the network-interpolation sweep crisp -> interp_a<alpha>... -> creative.
struct SweepTrend {
  std::string direction;  ///< "decreasing", "increasing" or "flat": the sign of last - first
  bool monotone = true;   ///< every step goes in `direction` or stays equal (NaN values: false)
};

/// The trend of `values`: a metric at alpha 0 (crisp), at the interpolation alphas in increasing order,
/// and at alpha 1 (creative). Fewer than 2 values: "flat", monotone.
SweepTrend sweep_trend(const std::vector<double>& values);

/// One method of the comparison.
struct CompareMethod {
  std::string name;    ///< row label: "bicubic", "sharpened", "crisp", "interp_a0.2", "creative", ...
  std::string kind;    ///< "baseline", "model", "interpolation", "sharpen_variant" or "extra"
  double alpha = -1;   ///< interpolation weight of the creative model (0 crisp, 1 creative), -1 if none
  std::string source;  ///< how it is made (checkpoint path, or a short description)
};

/// What a comparison produced (evaluate_compare fills all but `files`; reports::run_compare adds those).
struct CompareReport {
  std::filesystem::path out_dir;
  std::vector<CompareMethod> methods;  ///< in table order
  std::vector<std::string> datasets;   ///< display names, config order
  std::vector<EvalResult> results;     ///< every dataset x method, dataset-major, methods in table order
  std::vector<std::filesystem::path> files;  ///< every file written
  std::vector<std::vector<CropBox>> crops;    ///< per dataset (order of `datasets`): the crop-grid boxes
  /// Per dataset: the folder, relative to out_dir, holding its SR images (evaluate()'s save_images_dir:
  /// <dir>/<method>/<image>.png, eval::saved_image_path), "images/<d>".
  std::vector<std::filesystem::path> image_dirs;
};

/// One dataset of a comparison: display name, its file-name-safe form <d> (characters outside
/// [A-Za-z0-9._-] replaced by '_'), the expanded path, the opened pairs and the crop-grid boxes.
struct CompareDataset {
  std::string name;
  std::string file_name;
  std::filesystem::path path;
  data::PairedImageDataset ds;
  std::vector<CropBox> crops;
};

/// Everything evaluate_compare() computed, for the report writers: the scores (`report`), the datasets,
/// the methods (row info + how to run them, for crop grids), the loaded checkpoints and sorted alphas.
struct CompareRun {
  CompareReport report;
  std::vector<CompareDataset> datasets;
  std::vector<std::pair<CompareMethod, Method>> methods;
  models::InterpolationEnd crisp, creative;
  std::vector<std::pair<std::string, models::InterpolationEnd>> extras;
  std::vector<double> alphas;  ///< cfg.interpolation_alphas, sorted
  std::string usm;             ///< "unsharp mask (amount a, sigma s, threshold t)", as in the method sources
};

/// Runs the evaluation of the comparison `cfg`.
///
/// Methods, in table order: bicubic (MATLAB bicubic), sharpened (bicubic + unsharp mask `cfg.sharpen`),
/// crisp, interp_a<alpha> for each alpha in increasing order (the blend (1-alpha) crisp + alpha creative
/// of models::interpolate_generators, in memory), creative, creative_then_sharpen (unsharp mask of the
/// creative output), sharpen_then_upscale (unsharp mask of the LR image, then creative), then the extras
/// in config order. Checkpoints contribute their EMA weights when present. Every method is scored on
/// every dataset with evaluate() (8-bit output; Y-PSNR and SSIM with `scale` border pixels cropped;
/// LPIPS v0.1 SqueezeNet on the full RGB image; NIQE of the SR image when cfg.niqe); one log line per
/// dataset x method (core::log). Every SR image is saved under out_dir/images/<d>/ (CompareReport::image_dirs).
/// Crops: cfg.crops_at, else choose_crops().
/// @throws srlab::Error when a dataset or checkpoint cannot be opened (naming it), a checkpoint's scale
///         is not cfg.scale, crisp and creative cannot be interpolated (naming both files; only when
///         alphas are given), two datasets share a display name, an explicit crop lies outside its image
///         or is not aligned to the scale, or LPIPS weights cannot be found.
CompareRun evaluate_compare(const CompareConfig& cfg, const std::filesystem::path& out_dir);

/// A PSNR in dB as the compare tables and logs show it: 2 decimals, or "inf" / "-inf".
std::string psnr_text(double db);

}  // namespace srlab::eval
