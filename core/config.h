#pragma once
// Validated access to YAML configuration files.
//
// A Config is a view of one node of a YAML document plus its key path ("train.lr", "losses[1].type")
// and source file. Every read records the key as used; after all factories have read their
// parameters, check_known() reports any key nobody read ("unknown key") — so a typo never silently
// falls back to a default. Type errors name the file, the key and the expected type.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace srlab::core {

class Config {
 public:
  Config();
  Config(YAML::Node node, std::string source);

  /// Parses a YAML file; throws srlab::Error naming the file (and line) when missing or malformed.
  static Config load_file(const std::filesystem::path& file);
  /// Parses YAML text; `source` names it in error messages.
  static Config parse(const std::string& yaml, const std::string& source = "<string>");

  /// Applies a command-line override "a.b.c=VALUE" (VALUE parsed as YAML, so 3, 1e-3, true, [1,2]
  /// keep their types). Missing intermediate maps are created. Throws srlab::Error on bad syntax.
  void set_override(const std::string& assignment);

  bool has(const std::string& key) const;
  /// The child node `key` (must exist and be a mapping when `require_map`).
  Config at(const std::string& key) const;
  /// The child node `key` if present, else an empty (null) Config with the right path.
  Config child(const std::string& key) const;
  /// Elements of a sequence node (paths "key[i]"); empty for a null node. Throws if not a sequence.
  std::vector<Config> items() const;
  /// Keys of a mapping node, in file order.
  std::vector<std::string> keys() const;

  template <typename T>
  T get(const std::string& key, const T& fallback) const {
    if (!has(key)) return fallback;
    return req<T>(key);
  }
  template <typename T>
  T req(const std::string& key) const;
  /// The scalar value of this node itself.
  template <typename T>
  T as() const;

  bool is_null() const { return !node_ || node_.IsNull(); }
  bool is_map() const { return node_ && node_.IsMap(); }
  bool is_sequence() const { return node_ && node_.IsSequence(); }
  bool is_scalar() const { return node_ && node_.IsScalar(); }

  const std::string& path() const { return path_; }
  const std::string& source() const { return state_->source; }
  const YAML::Node& node() const { return node_; }
  /// Marks this node and everything below it as used (for nodes consumed wholesale).
  void mark_all_used() const;

  /// Throws srlab::Error naming the first key below this node that was never read.
  void check_known() const;
  /// Throws srlab::Error "config error in <file> at '<path.key>': <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  /// The YAML text of this node (block style), e.g. for saving the resolved config of a run.
  std::string dump() const;
  /// A deep copy (overrides applied to it do not affect this one).
  Config clone() const;

 private:
  struct State {
    std::string source;
    std::set<std::string> used;
  };
  Config(YAML::Node node, std::string path, std::shared_ptr<State> state);
  std::string key_path(const std::string& key) const;
  void check_known_rec(const YAML::Node& node, const std::string& path) const;

  YAML::Node node_;
  std::string path_;
  std::shared_ptr<State> state_;
};

template <>
int Config::as<int>() const;
template <>
int64_t Config::as<int64_t>() const;
template <>
double Config::as<double>() const;
template <>
bool Config::as<bool>() const;
template <>
std::string Config::as<std::string>() const;
template <>
std::vector<int> Config::as<std::vector<int>>() const;
template <>
std::vector<double> Config::as<std::vector<double>>() const;
template <>
std::vector<std::string> Config::as<std::vector<std::string>>() const;

template <typename T>
T Config::req(const std::string& key) const {
  if (!has(key)) fail(key, "required key is missing");
  return at(key).as<T>();
}

}  // namespace srlab::core
