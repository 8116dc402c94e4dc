#pragma once
// The final evaluation of a training run: checkpoints/best.pt next to the config's baselines
// (eval.methods, e.g. bicubic and sharpened) on every eval dataset (and its degraded copies,
// eval.degradations), with the benchmark protocol (Y-PSNR/SSIM with border crop = scale; LPIPS, NIQE
// when listed). Writes report.md and report.json into the run folder and logs the table.
#include <filesystem>

#include "models/arch/generator.h"
#include "train/train_config.h"

namespace srlab::train {

/// Evaluates `best` (a checkpoint of config `c`; `g` is the run's generator, for its type and size;
/// `ema`: whether the checkpoint's EMA weights are scored) on c.eval_datasets on `device`. Throws
/// srlab::Error for unreadable datasets or missing LPIPS/NIQE weights.
void write_final_report(const TrainConfig& c, const std::filesystem::path& run_dir, const std::filesystem::path& best,
                        const models::Generator& g, bool ema, const torch::Device& device);

}  // namespace srlab::train
