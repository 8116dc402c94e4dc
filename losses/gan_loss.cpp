#include "losses/gan_loss.h"

#include <fmt/format.h>

#include <sstream>

#include "core/error.h"
#include "core/shape.h"
#include "losses/registry.h"

namespace srlab::losses {
using core::shape_text;

namespace {
namespace F = torch::nn::functional;

constexpr const char* kKnownTypes = "vanilla, lsgan, hinge, ragan";

// `what` names the tensor in messages ("real_logits", "fake_logits").
void check_logits(const torch::Tensor& t, const char* what, const char* step) {
  if (!t.defined())
    throw Error(fmt::format("gan loss ({}): {} is undefined; pass the discriminator's output", step, what));
  if (t.numel() == 0) throw Error(fmt::format("gan loss ({}): {} is empty (shape {})", step, what, shape_text(t)));
  if (!t.is_floating_point())
    throw Error(fmt::format("gan loss ({}): {} must be floating-point logits, got {}", step, what,
                            std::string(c10::toString(t.scalar_type()))));
}

void check_pair(const torch::Tensor& real, const torch::Tensor& fake, const char* step) {
  if (real.sizes() != fake.sizes())
    throw Error(fmt::format("gan loss ({}): real_logits {} and fake_logits {} have different shapes; run the "
                            "discriminator on hr and sr batches of the same size",
                            step, shape_text(real), shape_text(fake)));
  if (real.device() != fake.device())
    throw Error(fmt::format("gan loss ({}): real_logits and fake_logits are on different devices", step));
}

// BCE with logits against a constant target (mean over all elements).
torch::Tensor bce(const torch::Tensor& logits, bool target_real) {
  const torch::Tensor target = target_real ? torch::ones_like(logits) : torch::zeros_like(logits);
  return F::binary_cross_entropy_with_logits(logits, target);
}
}  // namespace

GanType parse_gan_type(const std::string& name) {
  if (name == "vanilla") return GanType::kVanilla;
  if (name == "lsgan") return GanType::kLsgan;
  if (name == "hinge") return GanType::kHinge;
  if (name == "ragan") return GanType::kRagan;
  throw Error(fmt::format("unknown gan_type '{}'; known: {}", name, kKnownTypes));
}

std::string gan_type_name(GanType type) {
  switch (type) {
    case GanType::kVanilla: return "vanilla";
    case GanType::kLsgan: return "lsgan";
    case GanType::kHinge: return "hinge";
    case GanType::kRagan: return "ragan";
  }
  return "?";
}

torch::Tensor GanLoss::generator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits) const {
  const char* step = "generator step";
  check_logits(fake_logits, "fake_logits", step);
  if (relativistic() || real_logits.defined()) {
    check_logits(real_logits, "real_logits", step);  // required for ragan
    check_pair(real_logits, fake_logits, step);
  }
  const torch::Tensor& fake = fake_logits;
  switch (type_) {
    case GanType::kVanilla: return bce(fake, true);
    case GanType::kLsgan: return (fake - 1).square().mean();
    case GanType::kHinge: return -fake.mean();
    case GanType::kRagan: {
      const torch::Tensor real = real_logits.detach();
      // Gradient reaches sr through both terms: via E[fake] in the first, via fake in the second.
      return 0.5 * (bce(real - fake.mean(), false) + bce(fake - real.mean(), true));
    }
  }
  throw Error("gan loss: unhandled gan type");
}

torch::Tensor GanLoss::discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits) const {
  const char* step = "discriminator step";
  check_logits(real_logits, "real_logits", step);
  check_logits(fake_logits, "fake_logits", step);
  check_pair(real_logits, fake_logits, step);
  const torch::Tensor &real = real_logits, &fake = fake_logits;
  switch (type_) {
    case GanType::kVanilla: return bce(real, true) + bce(fake, false);
    case GanType::kLsgan: return (real - 1).square().mean() + fake.square().mean();
    case GanType::kHinge: return torch::relu(1 - real).mean() + torch::relu(1 + fake).mean();
    case GanType::kRagan:
      return 0.5 * (bce(real - fake.detach().mean(), true) + bce(fake - real.detach().mean(), false));
  }
  throw Error("gan loss: unhandled gan type");
}

torch::Tensor AdversarialLoss::forward(const LossInputs& in) const {
  if (!in.fake_logits.defined())
    throw Error("gan loss: LossInputs::fake_logits (discriminator output D(sr)) is undefined; the `type: gan` "
                "term needs a discriminator, run by the trainer before the loss");
  if (gan_.relativistic() && !in.real_logits.defined())
    throw Error("gan loss (ragan): LossInputs::real_logits (detached discriminator output D(hr)) is undefined; "
                "the relativistic loss compares D(sr) with D(hr)");
  return gan_.generator_loss(in.real_logits, in.fake_logits);
}

void register_gan_loss() {
  register_loss(
      "gan",
      [](const core::Config& params) -> LossPtr {
        const std::string name = params.get<std::string>("gan_type", "vanilla");
        GanType t;
        try {
          t = parse_gan_type(name);
        } catch (const Error& e) {
          params.fail("gan_type", e.what());
        }
        return std::make_shared<AdversarialLoss>(t);
      },
      "adversarial generator loss (SRGAN/ESRGAN); parameter gan_type vanilla|lsgan|hinge|ragan (default vanilla)");
}

}  // namespace srlab::losses
