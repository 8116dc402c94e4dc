#include "train/gan_step.h"

#include <cmath>

#include "core/error.h"
#include "models/weights/checkpoint.h"
#include "train/optimizer.h"

namespace srlab::train {

namespace {
const losses::WeightedLoss::Term& adversarial_term(const losses::WeightedLoss& loss) {
  const losses::WeightedLoss::Term* t = loss.discriminator_term();
  if (t == nullptr || t->weight <= 0)
    throw Error("GAN training needs an adversarial loss term (type: gan) with weight > 0 in losses:");
  return *t;
}

losses::GanLoss gan_of(const losses::WeightedLoss& loss) {
  const auto* adv = dynamic_cast<const losses::AdversarialLoss*>(adversarial_term(loss).loss.get());
  if (adv == nullptr) throw Error("GAN training: the adversarial loss term is not a `type: gan` term");
  return adv->gan();
}
}  // namespace

GanStep::GanStep(const TrainConfig& c, const losses::WeightedLoss& loss, models::Discriminator d, torch::Device device)
    : gan_(gan_of(loss)), loss_(loss) {
  if (!c.gan.enabled()) throw Error("GanStep: the config has no `discriminator:` section (not a GAN run)");
  if (!d) throw Error("GanStep: no discriminator given (TrainConfig::from_config builds it: c.built->discriminator)");
  d_ = std::move(d);
  yaml_ = c.gan.discriminator.dump();
  d_->to(device);
  d_->train();
  opt_ = make_optimizer(c.gan.d_optimizer, d_->parameters());
  schedule_ = c.gan.d_schedule;
  grad_clip_ = c.gan.d_optimizer.grad_clip;
  d_steps_ = c.gan.d_steps;
  d_start_ = c.gan.d_start;
  if (d_start_ > 0) {
    std::vector<losses::WeightedLoss::Term> terms = loss.terms();
    for (auto& t : terms)
      if (t.loss->needs_discriminator()) t.weight = 0.0;
    pre_loss_.emplace(std::move(terms));  // throws if nothing else has weight > 0 (checked by the config)
  }
}

void GanStep::set_trainable(bool trainable) {
  for (auto& p : d_->parameters()) p.set_requires_grad(trainable);
}

losses::WeightedLoss::Result GanStep::generator_loss(losses::LossInputs in, int64_t it) {
  set_trainable(false);
  if (!adversarial_at(it)) return (*pre_loss_)(in);
  in.fake_logits = d_->forward(in.sr);
  if (gan_.relativistic()) {
    torch::NoGradGuard no_grad;
    in.real_logits = d_->forward(in.hr).detach();
  }
  return loss_(in);
}

DiscriminatorStats GanStep::discriminator_step(const torch::Tensor& sr, const torch::Tensor& hr, int64_t it) {
  DiscriminatorStats s;
  s.lr = schedule_.at(it);
  set_lr(*opt_, s.lr);
  set_trainable(true);
  const torch::Tensor fake_in = sr.detach();
  for (int k = 0; k < d_steps_; ++k) {
    const torch::Tensor real = d_->forward(hr);
    const torch::Tensor fake = d_->forward(fake_in);
    const torch::Tensor d_loss = gan_.discriminator_loss(real, fake);
    double v = d_loss.item<double>();
    if (dp_) v = dp_->sum_scalars({v})[0] / dp_->world_size();  // NaN on any rank -> every rank skips
    opt_->zero_grad();
    if (!std::isfinite(v)) {
      ++s.skipped;
      continue;
    }
    d_loss.backward();
    if (dp_) dp_->average_gradients(d_->parameters());
    if (grad_clip_ > 0) torch::nn::utils::clip_grad_norm_(d_->parameters(), grad_clip_);
    opt_->step();
    ++s.steps;
    s.loss += v;
    s.real += real.detach().mean().item<double>();
    s.fake += fake.detach().mean().item<double>();
  }
  if (s.steps > 0) {
    s.loss /= s.steps;
    s.real /= s.steps;
    s.fake /= s.steps;
  }
  return s;
}

void GanStep::save(torch::serialize::OutputArchive& archive) const {
  models::write_discriminator_entries(archive, yaml_, d_);
  torch::serialize::OutputArchive o;
  opt_->save(o);
  archive.write("d_optimizer", o);
}

void GanStep::load(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  if (models::read_discriminator_yaml(archive).empty())
    throw Error("checkpoint '" + path.string() + "' holds no discriminator, but the config describes a GAN run; "
                "resume GAN runs from their own checkpoints (start a new run with gan.init_from to begin from a "
                "pixel-trained generator)");
  models::load_discriminator_weights(archive, *d_, path);
  torch::serialize::InputArchive o;
  if (!archive.try_read("d_optimizer", o))
    throw Error("checkpoint '" + path.string() + "' has no discriminator optimizer state (d_optimizer); cannot resume exactly");
  opt_->load(o);
}

}  // namespace srlab::train
