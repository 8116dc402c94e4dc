#pragma once
// The report of `srlab compare` (config and evaluation: eval/compare.h): Markdown/JSON tables,
// perception-distortion plots (Blau & Michaeli, "The Perception-Distortion Tradeoff", CVPR 2018, Fig. 1:
// distortion against perceptual quality) drawn by gnuplot, and captioned crop grids. report.html is
// written from the returned CompareReport by write_compare_html (reports/run_reports.h).
#include <filesystem>

#include "eval/compare.h"

namespace srlab::reports {

/// Runs the comparison of `cfg` (eval::evaluate_compare: methods, scoring, SR images under
/// out_dir/images/<d>/) and writes its report into `out_dir` (created; existing files of the same names
/// are replaced atomically).
///
/// Files: compare.md (per dataset a table method | PSNR | SSIM | LPIPS [| NIQE] with the best value of each
/// column, as displayed, in bold, then one "sweep" line per metric: its values along crisp -> interp ->
/// creative with eval::sweep_trend(); plus a note that SRLab's perceptual loss and LPIPS share the
/// SqueezeNet backbone); compare.json ({"name", "scale", "config" (YAML text), "checkpoints" {"crisp",
/// "creative", "extra": {name: ...}} each {"path", "run_id", "iteration", "weights": "ema"|"raw"},
/// "sharpen", "interpolation_alphas" (sorted), "methods" [{"name","kind","source"[, "alpha"]}],
/// "datasets" [{"name","path","images","plot","crops","crop_boxes"[{"image","name","y","x","size"}],
/// "sweep" {"alphas" [0, .., 1], "psnr"|"ssim"|"lpips"[|"niqe"] {"values", "direction", "monotone"}}}],
/// "results" [eval::to_json() of each result]}); per dataset <d> (eval::CompareDataset::file_name):
/// pd_plot_<d>.dat and pd_plot_<d>.gp (data and gnuplot script, run in out_dir: `cd out_dir && gnuplot
/// pd_plot_<d>.gp`), pd_plot_<d>.png (900 x 650 px: x = LPIPS, lower is better, y = Y-PSNR in dB, one
/// labelled point per method, the crisp -> interp -> creative path joined by a line) and, when crop_count
/// > 0 or explicit crops are given, crops_<d>.png: one row per crop of 6 tiles LR (nearest-upscaled) |
/// bicubic | sharpened | crisp | creative | HR, each tile the crop enlarged by nearest neighbour by z =
/// max(1, ceil(128 / size)) to T = size * z pixels, under an 18-px caption band, with 4-px white gaps:
/// width 6 T + 28, height 4 + rows * (T + 22) (8-bit RGB PNG, data::write_image).
///
/// gnuplot is `$SRLAB_GNUPLOT` when set, else `gnuplot` on the PATH, with the pngcairo terminal (png when
/// pngcairo is missing); it is checked before any evaluation.
/// @return the evaluation's CompareReport with `files` listing every file written.
/// @throws srlab::Error when gnuplot is missing ("install gnuplot-nox (scripts/setup.sh does)") or has
///         no PNG terminal, as eval::evaluate_compare(), when gnuplot fails (with its output), or when a
///         file cannot be written.
eval::CompareReport run_compare(const eval::CompareConfig& cfg, const std::filesystem::path& out_dir);

}  // namespace srlab::reports
