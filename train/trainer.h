#pragma once
// The trainer for SR generators: pixel-loss (fidelity) and GAN runs in one loop.
//
// Loop (per iteration): next LR/HR batch from the multi-threaded PatchLoader -> generator -> weighted
// pixel losses -> backward -> optional gradient-norm clipping -> Adam/AdamW step with the scheduled LR
// -> EMA update. Non-finite losses skip the step (counted; `max_bad_steps` in a row stop the run with
// the last good checkpoint intact). Every `val_every` iterations the EMA generator (or the raw one when
// EMA is off) is scored on the validation folder with the benchmark protocol (Y-PSNR/SSIM, crop =
// scale) and best.pt is kept. latest.pt is written every `save_every` iterations, at the end, and on
// Ctrl-C; resuming from it continues bit-exactly (weights, EMA, optimizer moments, iteration, loader
// position, RNG state, best score). At the end, the best checkpoint is evaluated on `eval.datasets`
// next to the bicubic/sharpened baselines and report.md/report.json are written.
//
// The loss and what follows the generator update come from the run's objective (train/objective.h).
// GAN runs (a `discriminator:` section, see GanConfig in train/train_config.h): the same loop, with the
// GAN objective (train/gan_step.h): generator loss with D frozen (LossInputs with D's logits) and, after
// the generator update and EMA, the discriminator update(s) on the same batch. A non-finite
// generator loss skips both updates, a non-finite discriminator loss the D update; either counts
// towards `max_bad_steps`. Checkpoints also hold the discriminator (parameters and buffers), its config
// and its optimizer state, so resuming stays bit-exact; metrics.csv gets the columns d_lr, d_loss,
// d_real, d_fake (mean D loss and mean D(hr) / D(sr) logits over the logging window). gan.init_from
// initialises the generator (and its EMA) from a pixel-trained checkpoint (ESRGAN's PSNR-then-GAN
// recipe, Wang et al. ECCVW 2018, Sec. 4.1). best.pt holds the best-PSNR weights, or with
// train.best_by: last (the GAN default) the latest validated / final weights.
#include <filesystem>
#include <string>

#include "core/config.h"
#include "train/scalar_sink.h"

namespace srlab::train {

struct TrainerOptions {
  std::filesystem::path runs_dir = "experiments/runs";
  std::filesystem::path resume_dir;  ///< non-empty: continue this run from checkpoints/latest.pt
  std::string command_line;          ///< recorded in meta.json
  bool final_eval = true;            ///< run the final evaluation/report
  int64_t stop_after = 0;            ///< >0: stop (like Ctrl-C, saving latest.pt) after this many iterations
                                     ///< in this session — for tests and time-boxed sessions
  /// Makes the sink that gets each metrics.csv row's numbers (tags train/loss, train/loss_<term>, train/lr,
  /// train/samples_per_s, val/psnr, val/ssim; GAN runs also train/d_loss, train/d_real, train/d_fake,
  /// train/d_lr), called on rank 0 once the run folder exists, when train.tensorboard is true (the
  /// default). Empty: none. srlab train installs the TensorBoard event-file writer.
  ScalarSinkFactory scalar_sink;
};

struct TrainSummary {
  std::filesystem::path run_dir;
  int64_t iterations = 0;      ///< iterations completed
  double best_psnr = 0.0;      ///< validation Y-PSNR (dB) of best.pt (train.best_by), 0 without validation
  int64_t best_iter = -1;
  bool interrupted = false;    ///< stopped by Ctrl-C (latest.pt saved)
  int scale = 0;               ///< the model's upscaling factor
  bool clean_lr = true;        ///< trained on the stored/bicubic LR (no data.train.degradation)
};

/// Runs (or resumes) a training experiment described by `cfg` (see TrainConfig). Throws srlab::Error
/// for configuration/data problems and when the loss keeps being non-finite.
TrainSummary run_training(const core::Config& cfg, const TrainerOptions& options);

/// The config stored in a run folder (<run_dir>/config.yaml) for --resume; throws if absent.
core::Config load_run_config(const std::filesystem::path& run_dir);

}  // namespace srlab::train
