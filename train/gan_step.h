#pragma once
// The adversarial half of a GAN training iteration, composed into the one trainer (train/trainer.h):
// the discriminator D, its optimizer and learning-rate schedule, and the GAN loss of the `type: gan`
// loss term (losses/gan_loss.h).
//
// Per iteration, in ESRGAN's / BasicSR's order (Wang et al., "ESRGAN", ECCVW 2018, Sec. 3.2; BasicSR
// SRGANModel/ESRGANModel.optimize_parameters):
//   1. generator step (generator_loss; the trainer then back-propagates, steps G and updates the EMA):
//      D frozen (requires_grad false on its parameters, still in training mode as in BasicSR),
//      fake_logits = D(sr) with the graph to sr, real_logits = D(hr) detached (ragan only: the other GAN
//      types do not read it), loss = weighted sum over LossInputs{sr, hr, lr, fake_logits, real_logits}.
//      Before gan.d_start the adversarial term is left out (weight 0, D not run for G).
//   2. discriminator step(s) (discriminator_step; gan.d_steps times, on the same batch): D unfrozen,
//      real = D(hr), fake = D(sr.detach()), d_loss = GanLoss::discriminator_loss(real, fake),
//      backward, optional gradient-norm clipping (d_optimizer.grad_clip), D optimizer step with the
//      d_scheduler learning rate. D trains from iteration 0, so it is warmed up when d_start is reached.
// A non-finite D loss skips that D update (no optimizer step; the spectral-norm u/v and BatchNorm
// statistics of its forward passes are kept) and is reported in DiscriminatorStats::skipped.
#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "losses/gan_loss.h"
#include "losses/weighted_loss.h"
#include "models/disc/discriminator.h"
#include "train/distributed.h"
#include "train/objective.h"
#include "train/train_config.h"

namespace srlab::train {

/// The GAN objective (file comment). make_objective (train/objective.h) builds it for GAN runs.
class GanStep final : public TrainingObjective {
 public:
  /// Takes the discriminator `d` of c.gan.discriminator (built with the run's other models, see
  /// BuiltModels in train/train_config.h), moves it to `device` and builds its optimizer
  /// (c.gan.d_optimizer). `loss` is the run's full weighted loss; its adversarial term gives the GAN
  /// type. Throws srlab::Error when `c` is no GAN run, `d` is null or `loss` has no adversarial term.
  GanStep(const TrainConfig& c, const losses::WeightedLoss& loss, models::Discriminator d, torch::Device device);

  /// True when the generator loss includes the adversarial term at 0-based iteration `it` (>= d_start).
  bool adversarial_at(int64_t it) const { return it >= d_start_; }

  /// The generator-step loss at iteration `it` (step 1 of the file comment). `in` holds sr (N,3,H,W)
  /// with its graph, hr (N,3,H,W) and lr, float in [0,1] on the training device; fake_logits and
  /// real_logits are filled here. Result::terms lists every term of the config (the adversarial one
  /// as 0 before d_start). Throws srlab::Error from the discriminator (input size) or the loss terms.
  losses::WeightedLoss::Result generator_loss(losses::LossInputs in, int64_t it) override;

  /// The discriminator update(s) of iteration `it` (step 2 of the file comment) on hr and sr (both
  /// (N,3,H,W) float on the training device; sr is detached here).
  DiscriminatorStats discriminator_step(const torch::Tensor& sr, const torch::Tensor& hr, int64_t it);
  DiscriminatorStats after_generator_step(const torch::Tensor& sr, const torch::Tensor& hr, int64_t it) override {
    return discriminator_step(sr, hr, it);
  }
  bool has_discriminator() const override { return true; }
  TuningKeys tuning_keys() const override {
    return {"optimizer.lr / d_optimizer.lr", "optimizer.grad_clip / d_optimizer.grad_clip"};
  }

  /// Writes "discriminator_yaml", "discriminator" (parameters and buffers; models/weights/checkpoint.h) and
  /// "d_optimizer" (the optimizer state) into a checkpoint archive.
  void save(torch::serialize::OutputArchive& archive) const override;
  /// Restores what save() wrote. Throws srlab::Error naming `path` when an entry is missing or does
  /// not match the discriminator of the config.
  void load(torch::serialize::InputArchive& archive, const std::filesystem::path& path) override;

  /// Data-parallel runs: the D loss is averaged over ranks before the finiteness check (so all ranks
  /// skip alike) and D's gradients are averaged (DataParallel::average_gradients) before clipping.
  /// Null (the default): one process.
  void set_data_parallel(DataParallel* dp) override { dp_ = dp; }

  const models::Discriminator& discriminator() const { return d_; }
  torch::optim::Optimizer& optimizer() { return *opt_; }
  const losses::GanLoss& gan_loss() const { return gan_; }

 private:
  void set_trainable(bool trainable);

  std::string yaml_;  // the discriminator section, for checkpoints
  models::Discriminator d_;
  std::unique_ptr<torch::optim::Optimizer> opt_;
  LrSchedule schedule_;
  double grad_clip_ = 0.0;
  int d_steps_ = 1;
  int64_t d_start_ = 0;
  DataParallel* dp_ = nullptr;
  losses::GanLoss gan_;
  losses::WeightedLoss loss_;                     // every term
  std::optional<losses::WeightedLoss> pre_loss_;  // the adversarial weight set to 0 (before d_start)
};

}  // namespace srlab::train
