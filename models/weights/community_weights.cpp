#include "models/weights/community_weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "models/weights/finite.h"
#include "models/weights/safetensors.h"

namespace srlab::models {
namespace fs = std::filesystem;

namespace {
const std::vector<std::string> kPrefixes{"module.", "netG."};

/// The entries of a dict with string keys; throws for other key types.
std::vector<std::pair<std::string, const PickleValue*>> string_entries(const PickleValue& d, const std::string& source) {
  std::vector<std::pair<std::string, const PickleValue*>> out;
  for (const auto& [k, v] : *d.entries) {
    if (!k.is_string())
      throw Error(fmt::format("weight file '{}': a dict key is a {}, expected state-dict names (strings)", source,
                              k.describe()));
    out.emplace_back(k.text, &v);
  }
  return out;
}

const PickleValue* find(const std::vector<std::pair<std::string, const PickleValue*>>& e, const std::string& key) {
  const PickleValue* found = nullptr;
  for (const auto& [k, v] : e)
    if (k == key) found = v;  // the last one wins, as in a Python dict
  return found;
}
}  // namespace

std::vector<std::string> strip_wrapper_prefixes(StateDict& sd) {
  std::vector<std::string> removed;
  for (bool changed = true; changed && !sd.empty();) {
    changed = false;
    for (const auto& p : kPrefixes) {
      bool all = true;
      for (const auto& kv : sd) all = all && kv.first.rfind(p, 0) == 0;
      if (!all) continue;
      StateDict stripped;
      for (auto& [k, v] : sd) stripped[k.substr(p.size())] = v;
      sd = std::move(stripped);
      removed.push_back(p);
      changed = true;
    }
  }
  return removed;
}

size_t drop_profiling_buffers(StateDict& sd) {
  size_t n = 0;
  for (auto it = sd.begin(); it != sd.end();) {
    const std::string& k = it->first;
    const std::string last = k.substr(k.rfind('.') == std::string::npos ? 0 : k.rfind('.') + 1);
    if (last == "total_ops" || last == "total_params") {
      it = sd.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

namespace {
/// Prefixes and profiling buffers off; the removed buffers are listed among the file's other entries.
void clean_state_dict(WeightFileContents& out) {
  out.stripped_prefixes = strip_wrapper_prefixes(out.state_dict);
  if (const size_t n = drop_profiling_buffers(out.state_dict); n > 0)
    out.other_entries.push_back(fmt::format("{} thop profiling buffers (total_ops/total_params): dropped", n));
}
}  // namespace

void unwrap_weights(const PickleValue& root, bool prefer_ema, const std::string& source, WeightFileContents& out) {
  if (!root.is_dict())
    throw Error(fmt::format("weight file '{}' holds a {}, not a state dict (a dict of tensors); it is no model "
                            "weight file", source, root.describe()));
  std::vector<std::string> order{"params_ema", "params", "state_dict", "model_state_dict", "model", "net"};
  if (!prefer_ema) std::swap(order[0], order[1]);
  const PickleValue* level = &root;
  for (int depth = 0; depth < 4; ++depth) {
    const auto entries = string_entries(*level, source);
    if (depth == 0) out.has_ema_and_raw = find(entries, "params_ema") && find(entries, "params");
    const PickleValue* next = nullptr;
    std::string chosen;
    for (const auto& key : order)
      if (const PickleValue* v = find(entries, key); v && v->is_dict()) {
        next = v;
        chosen = key;
        break;
      }
    if (!next) break;
    for (const auto& [k, v] : entries)
      if (k != chosen) out.other_entries.push_back(k + ": " + v->describe() + (v->is_dict() ? " (not used)" : ""));
    out.wrapper_key += (out.wrapper_key.empty() ? "" : "/") + chosen;
    level = next;
  }
  for (const auto& [k, v] : string_entries(*level, source)) {
    if (v->is_tensor()) {
      out.state_dict[k] = v->tensor;
      out.stored_dtypes[k] = c10::toString(v->tensor.scalar_type());
    } else {
      out.other_entries.push_back(k + ": " + v->describe());
    }
  }
  if (out.state_dict.empty())
    throw Error(fmt::format("weight file '{}' holds no tensors{} (entries: {}); it is no model weight file", source,
                            out.wrapper_key.empty() ? "" : " under '" + out.wrapper_key + "'",
                            out.other_entries.empty() ? "none" : fmt::format("{}", fmt::join(out.other_entries, ", "))));
  clean_state_dict(out);
}

namespace {
WeightFileContents read_contents(const fs::path& path, bool prefer_ema) {
  WeightFileContents out;
  const WeightContainer kind = sniff_weight_container(path);
  if (kind == WeightContainer::kSafetensors) {
    SafetensorsContents st = read_safetensors(path);
    out.container = kind;
    out.state_dict = std::move(st.tensors);
    out.stored_dtypes = std::move(st.dtypes);
    out.metadata = std::move(st.metadata);
    if (out.state_dict.empty()) throw Error("safetensors file '" + path.string() + "' holds no tensors");
    clean_state_dict(out);
    return out;
  }
  if (kind == WeightContainer::kSrlabCheckpoint)
    throw Error("'" + path.string() + "' is an SRLab checkpoint, not a community weight file; load it with "
                "models::load_generator");
  const PickleValue root = read_torch_file(path, &out.container);
  unwrap_weights(root, prefer_ema, path.string(), out);
  return out;
}
}  // namespace

WeightFileContents read_weight_file(const fs::path& path, bool prefer_ema) {
  WeightFileContents out = read_contents(path, prefer_ema);
  for (const auto& [key, t] : out.state_dict) require_finite(t, key, path.string());
  return out;
}

}  // namespace srlab::models
