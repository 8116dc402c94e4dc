#include "models/registry.h"

#include "core/registry.h"

namespace srlab::models {

void register_builtin_generators();  // builtin_generators.cpp

namespace {
core::Registry<GeneratorFactory>& registry() {
  static core::Registry<GeneratorFactory> r("generator", register_builtin_generators);
  return r;
}
}  // namespace

void register_generator(const std::string& type, GeneratorFactory factory, const std::string& summary) {
  registry().add(type, std::move(factory), summary);
}

Generator make_generator(const core::Config& model_cfg, int scale) {
  Generator g = registry().find(model_cfg)(model_cfg, scale);
  model_cfg.check_known();
  return g;
}

std::vector<std::pair<std::string, std::string>> generator_types() { return registry().list(); }

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace srlab::models
