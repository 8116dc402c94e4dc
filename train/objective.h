#pragma once
// How the generator is trained, as a strategy the one trainer composes (train/trainer.h): the loss of
// the generator step, the work after it on the same batch, and the state it adds to checkpoints.
//   - pixel objective (no `discriminator:` section): the run's weighted loss (L1, perceptual, ...), nothing
//     after the generator step, nothing in the checkpoint beyond the generator's.
//   - GAN objective (train/gan_step.h): D frozen for the generator loss with D's logits, then the
//     discriminator update(s); the discriminator and its optimizer state go into the checkpoint.
// The trainer never asks which one it holds; make_objective is the one place that chooses.
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "losses/weighted_loss.h"
#include "models/disc/discriminator.h"
#include "train/distributed.h"
#include "train/train_config.h"

namespace srlab::train {

/// What the discriminator update(s) of one iteration did; means are over the updates that were done.
/// Objectives without a discriminator return the default (steps 0, skipped 0).
struct DiscriminatorStats {
  int steps = 0;       ///< updates done (finite loss)
  int skipped = 0;     ///< updates skipped because the D loss was non-finite
  double loss = 0.0;   ///< mean D loss (GanLoss::discriminator_loss, unweighted); 0 when steps == 0
  double real = 0.0;   ///< mean logit D(hr) (before the update); 0 when steps == 0
  double fake = 0.0;   ///< mean logit D(sr) (before the update); 0 when steps == 0
  double lr = 0.0;     ///< D learning rate used
};

class TrainingObjective {
 public:
  virtual ~TrainingObjective() = default;

  /// The generator-step loss at 0-based iteration `it`. `in` holds sr (N,3,H,W) with its graph, hr
  /// (N,3,H,W) and lr, float in [0,1] on the training device. Result::terms lists every loss term of the
  /// config, in order. Throws srlab::Error from the loss terms or the discriminator (input size).
  virtual losses::WeightedLoss::Result generator_loss(losses::LossInputs in, int64_t it) = 0;

  /// The work after a finite generator update of iteration `it` on the same batch (sr (N,3,H,W), detached
  /// here, and hr): the discriminator update(s) of a GAN run; nothing (default stats) otherwise.
  virtual DiscriminatorStats after_generator_step(const torch::Tensor& sr, const torch::Tensor& hr, int64_t it) = 0;

  /// True when after_generator_step trains a discriminator (the log and metrics.csv then carry its
  /// columns d_lr, d_loss, d_real, d_fake).
  virtual bool has_discriminator() const = 0;

  /// Writes this objective's own checkpoint entries (none for the pixel objective).
  virtual void save(torch::serialize::OutputArchive& archive) const = 0;
  /// Restores what save() wrote. Throws srlab::Error naming `path` when an entry is missing or does not
  /// match the config.
  virtual void load(torch::serialize::InputArchive& archive, const std::filesystem::path& path) = 0;

  /// Data-parallel runs: collectives for the objective's own updates (null: one process).
  virtual void set_data_parallel(DataParallel* dp) = 0;

  /// The config keys that tame a diverging run, for error messages: the learning rates and the
  /// gradient-clipping switches, e.g. {"optimizer.lr", "optimizer.grad_clip"}.
  struct TuningKeys {
    std::string lr;
    std::string grad_clip;
  };
  virtual TuningKeys tuning_keys() const = 0;
};

/// The objective of config `c`: the GAN objective (GanStep, taking `discriminator`, moved to `device`)
/// when c has a `discriminator:` section, the pixel objective otherwise; logs the discriminator's size.
/// `loss` is the run's weighted loss on `device` (shared with the trainer). Throws srlab::Error when a
/// GAN run lacks its discriminator or adversarial loss term.
std::unique_ptr<TrainingObjective> make_objective(const TrainConfig& c, std::shared_ptr<losses::WeightedLoss> loss,
                                                  models::Discriminator discriminator, torch::Device device);

}  // namespace srlab::train
