#include "models/arch/registry.h"

#include "core/registry.h"

namespace srlab::models {

void register_builtin_generators();  // builtin_generators.cpp

namespace {
core::Registry<GeneratorFactory>& generator_registry() {
  static core::Registry<GeneratorFactory> r("generator", register_builtin_generators);
  return r;
}
std::map<std::string, GeneratorDetector>& detectors() {
  static std::map<std::string, GeneratorDetector> d;
  return d;
}
}  // namespace

void register_generator(const std::string& type, GeneratorFactory factory, const std::string& summary,
                        GeneratorDetector detect) {
  generator_registry().add(type, std::move(factory), summary);
  if (detect) detectors()[type] = std::move(detect);
}

Generator make_generator(const core::Config& model_cfg, int scale) {
  Generator g = generator_registry().find(model_cfg)(model_cfg, scale);
  model_cfg.check_known();
  return g;
}

std::vector<std::pair<std::string, std::string>> generator_types() { return generator_registry().list(); }

std::vector<std::pair<std::string, GeneratorDetector>> generator_detectors() {
  generator_registry().list();  // registers the built-ins on first use
  return {detectors().begin(), detectors().end()};
}

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace srlab::models
