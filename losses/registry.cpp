#include "losses/registry.h"

#include "core/registry.h"

namespace srlab::losses {

void register_builtin_losses();  // builtin_losses.cpp

namespace {
core::Registry<LossFactory>& registry() {
  static core::Registry<LossFactory> r("loss", register_builtin_losses);
  return r;
}
}  // namespace

void register_loss(const std::string& type, LossFactory factory, const std::string& summary) {
  registry().add(type, std::move(factory), summary);
}

LossPtr make_loss(const core::Config& cfg) {
  if (!cfg.is_map()) cfg.fail("", "expected a mapping such as {type: l1, weight: 1.0}");
  return registry().find(cfg)(cfg);
}

std::vector<std::pair<std::string, std::string>> loss_types() { return registry().list(); }

}  // namespace srlab::losses
