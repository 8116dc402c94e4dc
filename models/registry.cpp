#include "models/registry.h"

#include <map>
#include <mutex>

#include "core/error.h"

namespace srlab::models {

void register_builtin_generators();  // builtin_generators.cpp

namespace {
struct Entry {
  GeneratorFactory factory;
  std::string summary;
};
std::map<std::string, Entry>& table() {
  static std::map<std::string, Entry> t;
  return t;
}
void ensure_builtins() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_generators(); });
}
}  // namespace

void register_generator(const std::string& type, GeneratorFactory factory, const std::string& summary) {
  table()[type] = Entry{std::move(factory), summary};
}

Generator make_generator(const core::Config& model_cfg, int scale) {
  ensure_builtins();
  const std::string type = model_cfg.req<std::string>("type");
  auto it = table().find(type);
  if (it == table().end()) {
    std::string known;
    for (const auto& kv : table()) known += (known.empty() ? "" : ", ") + kv.first;
    model_cfg.fail("type", "unknown generator type '" + type + "'; known types: " + known);
  }
  Generator g = it->second.factory(model_cfg, scale);
  model_cfg.check_known();
  return g;
}

std::vector<std::pair<std::string, std::string>> generator_types() {
  ensure_builtins();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : table()) out.emplace_back(kv.first, kv.second.summary);
  return out;
}

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace srlab::models
