#include "train/objective.h"

#include <utility>

#include "core/log.h"
#include "models/arch/generator.h"
#include "train/gan_step.h"

namespace srlab::train {

namespace {

// Fidelity training: the weighted loss alone, nothing after the generator step, no checkpoint entries.
class PixelObjective final : public TrainingObjective {
 public:
  explicit PixelObjective(std::shared_ptr<losses::WeightedLoss> loss) : loss_(std::move(loss)) {}

  losses::WeightedLoss::Result generator_loss(losses::LossInputs in, int64_t) override { return (*loss_)(in); }
  DiscriminatorStats after_generator_step(const torch::Tensor&, const torch::Tensor&, int64_t) override { return {}; }
  bool has_discriminator() const override { return false; }
  void save(torch::serialize::OutputArchive&) const override {}
  void load(torch::serialize::InputArchive&, const std::filesystem::path&) override {}
  void set_data_parallel(DataParallel*) override {}
  TuningKeys tuning_keys() const override { return {"optimizer.lr", "optimizer.grad_clip"}; }

 private:
  std::shared_ptr<losses::WeightedLoss> loss_;
};

}  // namespace

std::unique_ptr<TrainingObjective> make_objective(const TrainConfig& c, std::shared_ptr<losses::WeightedLoss> loss,
                                                  models::Discriminator discriminator, torch::Device device) {
  if (!c.gan.enabled()) return std::make_unique<PixelObjective>(std::move(loss));
  auto gan = std::make_unique<GanStep>(c, *loss, std::move(discriminator), device);
  core::log("discriminator {}: {} parameters | gan_type {} | d_steps {} | adversarial term from iteration {}",
            gan->discriminator()->type(), models::count_parameters(*gan->discriminator()),
            losses::gan_type_name(gan->gan_loss().type()), c.gan.d_steps, c.gan.d_start);
  return gan;
}

}  // namespace srlab::train
