#include "core/config.h"

#include <cmath>

#include "core/fs.h"

namespace srlab::core {

Config::Config() : node_(YAML::Node(YAML::NodeType::Null)), state_(std::make_shared<State>()) {}

Config::Config(YAML::Node node, std::string source) : node_(std::move(node)), state_(std::make_shared<State>()) {
  state_->source = std::move(source);
}

Config::Config(YAML::Node node, std::string path, std::shared_ptr<State> state)
    : node_(std::move(node)), path_(std::move(path)), state_(std::move(state)) {}

Config Config::load_file(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw Error("config file '" + file.string() + "' does not exist");
  require_regular_file_if_exists(file, "config file");
  return parse(read_file(file), file.string());
}

Config Config::parse(const std::string& yaml, const std::string& source) {
  try {
    YAML::Node n = YAML::Load(yaml);
    if (n && !n.IsNull() && !n.IsMap())
      throw Error("config error in " + source + ": the top level must be a mapping of keys");
    if (!n || n.IsNull()) n = YAML::Node(YAML::NodeType::Map);
    return Config(n, source);
  } catch (const YAML::Exception& e) {
    throw Error("config error in " + source + ": malformed YAML at line " + std::to_string(e.mark.line + 1) +
                ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

void Config::set_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("bad --set '" + assignment + "': expected key.path=value, e.g. --set train.iters=1000");
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw Error("bad --set '" + assignment + "': value is not valid YAML: " + e.msg);
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  // Walk with YAML::Node copies (they alias the same underlying nodes).
  std::vector<YAML::Node> chain{node_};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty()) throw Error("bad --set '" + assignment + "': empty key segment");
    YAML::Node cur = chain.back();
    YAML::Node next = cur[parts[i]];
    if (!next || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = cur[parts[i]];
    } else if (!next.IsMap()) {
      throw Error("bad --set '" + assignment + "': '" + parts[i] + "' is not a mapping in " + source());
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
}

std::string Config::key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool Config::has(const std::string& key) const {
  if (!node_ || !node_.IsMap()) return false;
  const YAML::Node c = node_[key];
  if (!c || c.IsNull()) {
    if (c) state_->used.insert(key_path(key));  // explicit null counts as read
    return false;
  }
  state_->used.insert(key_path(key));
  return true;
}

Config Config::at(const std::string& key) const {
  if (!has(key)) fail(key, "required key is missing");
  return Config(node_[key], key_path(key), state_);
}

Config Config::child(const std::string& key) const {
  if (has(key)) return Config(node_[key], key_path(key), state_);
  return Config(YAML::Node(YAML::NodeType::Null), key_path(key), state_);
}

std::vector<Config> Config::items() const {
  std::vector<Config> out;
  if (is_null()) return out;
  if (!node_.IsSequence()) fail("", "expected a list");
  for (size_t i = 0; i < node_.size(); ++i) {
    const std::string p = path_ + "[" + std::to_string(i) + "]";
    state_->used.insert(p);
    out.push_back(Config(node_[i], p, state_));
  }
  return out;
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  if (!is_map()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.as<std::string>());
  return out;
}

void Config::fail(const std::string& key, const std::string& message) const {
  const std::string p = key.empty() ? path_ : key_path(key);
  throw Error("config error in " + (state_->source.empty() ? std::string("<config>") : state_->source) + " at '" +
              (p.empty() ? std::string("<top>") : p) + "': " + message);
}

namespace {
std::string scalar_text(const YAML::Node& n) {
  if (!n) return "nothing";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "null";
}
}  // namespace

template <>
std::string Config::as<std::string>() const {
  if (!is_scalar()) fail("", "expected a string, got " + scalar_text(node_));
  return node_.Scalar();
}
template <>
double Config::as<double>() const {
  if (is_scalar()) {
    try {
      double v = node_.as<double>();
      if (std::isfinite(v)) return v;
    } catch (const YAML::Exception&) {
    }
  }
  fail("", "expected a finite number, got " + scalar_text(node_));
}
template <>
int64_t Config::as<int64_t>() const {
  if (is_scalar()) {
    try {
      return node_.as<int64_t>();
    } catch (const YAML::Exception&) {
      // Accept 1e4-style integers written as floats when they are whole.
      try {
        const double d = node_.as<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e15) return static_cast<int64_t>(d);
      } catch (const YAML::Exception&) {
      }
    }
  }
  fail("", "expected an integer, got " + scalar_text(node_));
}
template <>
int Config::as<int>() const {
  const int64_t v = as<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) fail("", "integer out of range");
  return static_cast<int>(v);
}
template <>
bool Config::as<bool>() const {
  if (is_scalar()) {
    try {
      return node_.as<bool>();
    } catch (const YAML::Exception&) {
    }
  }
  fail("", "expected true or false, got " + scalar_text(node_));
}

namespace {
template <typename T>
std::vector<T> as_list(const Config& c) {
  std::vector<T> out;
  if (c.is_scalar()) {  // a single value is accepted as a one-element list
    out.push_back(c.as<T>());
    return out;
  }
  for (const auto& item : c.items()) out.push_back(item.as<T>());
  return out;
}
}  // namespace

template <>
std::vector<int> Config::as<std::vector<int>>() const { return as_list<int>(*this); }
template <>
std::vector<double> Config::as<std::vector<double>>() const { return as_list<double>(*this); }
template <>
std::vector<std::string> Config::as<std::vector<std::string>>() const { return as_list<std::string>(*this); }

void Config::mark_all_used() const {
  std::function<void(const YAML::Node&, const std::string&)> rec = [&](const YAML::Node& n, const std::string& p) {
    if (!p.empty()) state_->used.insert(p);
    if (n.IsMap())
      for (const auto& kv : n) rec(kv.second, (p.empty() ? "" : p + ".") + kv.first.as<std::string>());
    else if (n.IsSequence())
      for (size_t i = 0; i < n.size(); ++i) rec(n[i], p + "[" + std::to_string(i) + "]");
  };
  rec(node_, path_);
}

void Config::check_known_rec(const YAML::Node& n, const std::string& p) const {
  if (n.IsMap()) {
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      const std::string kp = p.empty() ? k : p + "." + k;
      if (!state_->used.count(kp))
        throw Error("config error in " + state_->source + ": unknown key '" + kp +
                    "' (misspelt, or not used by the selected type); remove it or check the documentation");
      check_known_rec(kv.second, kp);
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ip = p + "[" + std::to_string(i) + "]";
      if (state_->used.count(ip)) check_known_rec(n[i], ip);
    }
  }
}

void Config::check_known() const { check_known_rec(node_, path_); }

std::string Config::dump() const {
  YAML::Emitter out;
  out << node_;
  return std::string(out.c_str()) + "\n";
}

Config Config::clone() const {
  Config c(YAML::Clone(node_), path_, std::make_shared<State>(*state_));
  return c;
}

}  // namespace srlab::core
