#include "losses/registry.h"

#include <map>
#include <mutex>

#include "core/error.h"

namespace srlab::losses {

void register_builtin_losses();  // builtin_losses.cpp

namespace {
struct Entry {
  LossFactory factory;
  std::string summary;
};
std::map<std::string, Entry>& table() {
  static std::map<std::string, Entry> t;
  return t;
}
void ensure_builtins() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_losses(); });
}
}  // namespace

void register_loss(const std::string& type, LossFactory factory, const std::string& summary) {
  table()[type] = Entry{std::move(factory), summary};
}

LossPtr make_loss(const core::Config& cfg) {
  ensure_builtins();
  if (!cfg.is_map()) cfg.fail("", "expected a mapping such as {type: l1, weight: 1.0}");
  const std::string type = cfg.req<std::string>("type");
  auto it = table().find(type);
  if (it == table().end()) {
    std::string known;
    for (const auto& kv : table()) known += (known.empty() ? "" : ", ") + kv.first;
    cfg.fail("type", "unknown loss type '" + type + "'; known types: " + known);
  }
  return it->second.factory(cfg);
}

std::vector<std::pair<std::string, std::string>> loss_types() {
  ensure_builtins();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : table()) out.emplace_back(kv.first, kv.second.summary);
  return out;
}

}  // namespace srlab::losses
