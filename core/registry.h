#pragma once
// A name -> factory table used by every SRLab registry (generators, losses, ...): YAML `type:` names
// map to factories with a one-line summary. Built-ins are registered explicitly on first use (static
// initialisers would be dropped when linking static libraries).
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"

namespace srlab::core {

template <typename Factory>
class Registry {
 public:
  /// `kind` names the registry in errors ("generator", "loss"); `builtins` registers the built-ins.
  Registry(std::string kind, void (*builtins)()) : kind_(std::move(kind)), builtins_(builtins) {}

  void add(const std::string& type, Factory factory, const std::string& summary) {
    table_[type] = Entry{std::move(factory), summary};
  }

  /// The factory for `cfg.type`; throws srlab::Error naming the key and listing the known types.
  const Factory& find(const Config& cfg) {
    const std::string type = cfg.req<std::string>("type");
    const Factory* f = lookup(type);
    if (!f) cfg.fail("type", "unknown " + kind_ + " type '" + type + "'; known types: " + known_types());
    return *f;
  }

  /// The factory registered as `type`, or nullptr (lookup by name, for callers without a config).
  const Factory* lookup(const std::string& type) {
    ensure_builtins();
    auto it = table_.find(type);
    return it == table_.end() ? nullptr : &it->second.factory;
  }

  /// The registered types, comma-separated and sorted (for error messages).
  std::string known_types() {
    ensure_builtins();
    std::string known;
    for (const auto& kv : table_) known += (known.empty() ? "" : ", ") + kv.first;
    return known;
  }

  /// (type, summary) pairs, sorted by type.
  std::vector<std::pair<std::string, std::string>> list() {
    ensure_builtins();
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& kv : table_) out.emplace_back(kv.first, kv.second.summary);
    return out;
  }

 private:
  struct Entry {
    Factory factory;
    std::string summary;
  };
  void ensure_builtins() {
    std::call_once(once_, [this] {
      // Built-ins first, so that a user registration made before first use is not overwritten.
      std::map<std::string, Entry> user = std::move(table_);
      table_.clear();
      builtins_();
      for (auto& kv : user) table_[kv.first] = std::move(kv.second);
    });
  }
  std::string kind_;
  void (*builtins_)();
  std::map<std::string, Entry> table_;
  std::once_flag once_;
};

}  // namespace srlab::core
