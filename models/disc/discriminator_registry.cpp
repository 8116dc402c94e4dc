#include "models/disc/discriminator_registry.h"

#include "core/error.h"
#include "core/registry.h"

namespace srlab::models {

void register_builtin_discriminators();  // builtin_discriminators.cpp

namespace {
core::Registry<DiscriminatorFactory>& discriminator_registry() {
  static core::Registry<DiscriminatorFactory> r("discriminator", register_builtin_discriminators);
  return r;
}
}  // namespace

void register_discriminator(const std::string& type, DiscriminatorFactory factory, const std::string& summary) {
  discriminator_registry().add(type, std::move(factory), summary);
}

Discriminator make_discriminator(const core::Config& cfg) {
  Discriminator d = discriminator_registry().find(cfg)(cfg);
  cfg.check_known();
  return d;
}

std::vector<std::pair<std::string, std::string>> discriminator_types() { return discriminator_registry().list(); }

void check_discriminator_batch(const torch::Tensor& x, const std::string& arch, int64_t channels) {
  if (!x.defined())
    throw Error(arch + ": input tensor is undefined; pass an (N," + std::to_string(channels) + ",H,W) float batch in [0,1]");
  if (x.dim() != 4 || x.size(1) != channels || x.size(0) < 1 || x.size(2) < 1 || x.size(3) < 1)
    throw Error(arch + ": expected an image batch of shape (N," + std::to_string(channels) + ",H,W) with N,H,W >= 1, got " +
                c10::str(x.sizes()) + "; add a batch dimension with unsqueeze(0) or set num_in_ch");
  if (!x.is_floating_point())
    throw Error(arch + ": expected a floating-point batch in [0,1], got dtype " +
                std::string(c10::toString(x.scalar_type())) + "; convert with to(torch::kFloat32).div(255)");
}

}  // namespace srlab::models
