#pragma once
// The training state of a run and its checkpoint format (checkpoints/latest.pt, best.pt), in one place.
//
// A checkpoint is one torch::serialize archive holding: the generator header and weights (and EMA
// weights) as models/weights/checkpoint.h writes them (so `srlab eval`/`upscale` load it), "optimizer"
// (Adam/AdamW moments), the objective's entries (GAN runs: the discriminator, its config and optimizer
// state, GanStep::save),
// "best_psnr"/"best_iter", "rng_state" (torch's CPU generator) and the data-parallel world size and fp16
// loss scale (train/parallel_setup.h). Resuming from it continues bit-exactly.
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "losses/weighted_loss.h"
#include "models/arch/generator.h"
#include "train/amp.h"
#include "train/objective.h"
#include "train/train_config.h"

namespace srlab::train {

/// What a run has done so far (restored on resume).
struct TrainState {
  int64_t iteration = 0;  ///< iterations completed
  double best_psnr = 0.0; ///< validation Y-PSNR (dB) of best.pt
  int64_t best_iter = -1;
  int world_size = 1;     ///< data-parallel processes (resume needs the same number)
  LossScaler scaler;      ///< train.amp fp16 loss scale
};

/// The networks and optimizers of a run: generator, its EMA copy (null when train.ema_decay is 0), the
/// generator's optimizer, the weighted loss, and the training objective (pixel or GAN, train/objective.h).
struct TrainingModels {
  models::Generator g{nullptr};
  models::Generator ema{nullptr};
  std::unique_ptr<torch::optim::Optimizer> opt;
  std::shared_ptr<losses::WeightedLoss> loss_fn;
  std::unique_ptr<TrainingObjective> objective;
};

/// The models of config `c` (built once by TrainConfig::from_config, see BuiltModels) made ready to
/// train: torch's CPU generator set to c.built->rng_state, the init_from lines logged unless `resume`,
/// the generator copied into its EMA, everything moved to `device`, the optimizer and the objective
/// (make_objective) made, the sizes logged. The modules are c.built's own (one run per config).
/// Throws srlab::Error when `c` was not made by from_config.
TrainingModels build_training_models(const TrainConfig& c, const torch::Device& device, bool resume);

/// Writes the checkpoint `path` atomically (rank 0 only; other ranks return true). Returns false (and
/// logs) without writing when the generator or its EMA holds a NaN/inf, so that best.pt and latest.pt
/// only ever hold finite weights. Throws srlab::Error when the file cannot be written.
bool save_checkpoint(const std::filesystem::path& path, const TrainConfig& c, const TrainState& st,
                     const TrainingModels& m);

/// Restores `st` and the models from checkpoint `path` (what save_checkpoint wrote). Throws srlab::Error
/// naming the file when an entry is missing (e.g. EMA weights when the config enables EMA, the optimizer
/// state) or does not match the config.
void load_checkpoint(const std::filesystem::path& path, TrainState& st, TrainingModels& m);

}  // namespace srlab::train
