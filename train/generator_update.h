#pragma once
// One generator update of the trainer (train/trainer.cpp), with gradient accumulation, mixed
// precision and data parallelism composed in:
//   zero_grad; for each of accum_steps micro-batches (consecutive slices of this rank's share of the
//   batch): forward + loss under autocast (train.amp), backward of loss / accum_steps (times the loss
//   scale for fp16); one all-reduce of [stop request, non-finite flag, loss, terms] so that every rank
//   decides alike; then the bucketed gradient average over ranks (DataParallel), fp16 unscale + inf
//   check (LossScaler; on inf the step is skipped and the scale lowered), gradient-norm clipping, the
//   optimizer step and the EMA update. With one process, accum_steps 1 and amp off this is exactly the
//   plain loop (forward, loss, backward, clip, step, EMA).
// Averaging the per-micro-batch mean losses of equal-size micro-batches over micro-batches and ranks
// gives the gradient of the mean loss over the whole batch, i.e. the same update as one large batch
// (the losses are per-sample means; BatchNorm-free generators).
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "data/datasets/loader.h"
#include "losses/weighted_loss.h"
#include "models/arch/generator.h"
#include "train/amp.h"
#include "train/distributed.h"
#include "train/objective.h"

namespace srlab::train {

/// What generator_update works on (pointers are not owned; dp, scaler and ema may be null).
struct GeneratorUpdate {
  models::Generator g{nullptr};
  models::Generator ema{nullptr};
  torch::optim::Optimizer* opt = nullptr;
  const losses::WeightedLoss* loss_fn = nullptr;  ///< the run's loss (its term names)
  TrainingObjective* objective = nullptr;  ///< gives the generator loss (train/objective.h)
  DataParallel* dp = nullptr;   ///< null: one process
  LossScaler* scaler = nullptr; ///< amp fp16 only
  AmpMode amp = AmpMode::off;
  int accum_steps = 1;          ///< must divide the batch
  double grad_clip = 0.0;       ///< max global gradient L2 norm, 0 = off
  double ema_decay = 0.0;
  torch::Device device{torch::kCPU};
  bool channels_last = false;   ///< LR batches in NHWC (train.channels_last, train/speed_settings.h)
};

struct GeneratorUpdateResult {
  bool stop = false;      ///< some rank asked to stop (Ctrl-C): nothing was updated
  bool finite = true;     ///< every rank's loss was finite; false: nothing was updated
  bool overflow = false;  ///< fp16: inf/NaN gradients, step skipped and loss scale lowered (not an error)
  double loss = 0.0;      ///< total loss, mean over micro-batches and ranks (NaN when not finite)
  std::vector<std::pair<std::string, double>> terms;  ///< (name, weighted value), same means
  std::string bad_terms;  ///< this rank's non-finite term names, comma-separated
  torch::Tensor sr, hr;   ///< the last micro-batch's output (with graph) and target, for the GAN D step
};

/// Runs one update on `batch` ((N,C,p,p) LR and (N,C,ps,ps) HR float [0,1], this rank's share) at
/// 0-based iteration `it`. `stop_requested`: this rank wants to stop; then it computes nothing but
/// still takes part in the agreement. Throws srlab::Error from the loss, the model or a failed
/// collective (a dead rank).
GeneratorUpdateResult generator_update(GeneratorUpdate& u, const data::Batch& batch, int64_t it, bool stop_requested);

}  // namespace srlab::train
