#include "models/weights/inspect.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "core/config.h"
#include "core/error.h"
#include "models/weights/checkpoint.h"

namespace srlab::models {
namespace fs = std::filesystem;

namespace {
/// "num_feat=32, num_block=2" from a `model:` YAML mapping (type excluded).
std::string hyperparameters(const std::string& model_yaml) {
  const core::Config cfg = core::Config::parse(model_yaml, "model");
  std::vector<std::string> parts;
  for (const auto& key : cfg.keys())
    if (key != "type") {
      YAML::Emitter e;
      e << YAML::Flow << cfg.node()[key];
      parts.push_back(key + "=" + e.c_str());
    }
  cfg.mark_all_used();
  return parts.empty() ? "(none: the type's defaults)" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string type_of(const std::string& model_yaml) {
  const core::Config cfg = core::Config::parse(model_yaml, "model");
  cfg.mark_all_used();
  return cfg.get<std::string>("type", "?");
}

void add_generator(WeightFileReport& r, const std::string& model_yaml, int scale, const Generator& g) {
  r.fields.emplace_back("architecture", type_of(model_yaml));
  r.fields.emplace_back("scale", std::to_string(scale));
  r.fields.emplace_back("hyperparameters", hyperparameters(model_yaml));
  r.fields.emplace_back("parameters", std::to_string(count_parameters(*g)));
  r.detected = true;
}

WeightFileReport inspect_checkpoint(const fs::path& file) {
  WeightFileReport r;
  torch::serialize::InputArchive ar;
  open_checkpoint(file, ar);
  const CheckpointInfo info = read_checkpoint_info(ar, file);
  r.fields.emplace_back("container", "srlab checkpoint (" + std::string(kCheckpointFormat) + ")");
  r.fields.emplace_back("weights", info.has_ema ? "EMA (generator_ema; raw generator also present)" : "raw (generator)");
  r.fields.emplace_back("run", fmt::format("{} iteration {}", info.run_id.empty() ? "-" : info.run_id, info.iteration));
  add_generator(r, info.model_yaml, info.scale, load_generator(file));
  return r;
}
}  // namespace

WeightFileReport inspect_weight_file(const fs::path& file, const GeneratorLoadOptions& options) {
  if (is_srlab_checkpoint(file)) return inspect_checkpoint(file);
  WeightFileReport r;
  const WeightFileContents c = read_weight_file(file, /*prefer_ema=*/true);
  r.fields.emplace_back("container", container_name(c.container));
  r.fields.emplace_back("wrapper key", c.wrapper_key.empty() ? "(none: bare state dict)" : c.wrapper_key);
  if (!c.stripped_prefixes.empty()) r.fields.emplace_back("prefixes stripped", fmt::format("{}", fmt::join(c.stripped_prefixes, " ")));
  const bool ema = c.wrapper_key.size() >= 10 && c.wrapper_key.compare(c.wrapper_key.size() - 10, 10, "params_ema") == 0;
  r.fields.emplace_back("weights", ema ? (c.has_ema_and_raw ? "EMA (params_ema; raw params also present)" : "EMA (params_ema)")
                                       : "raw");
  if (!c.other_entries.empty()) r.fields.emplace_back("other entries", fmt::format("{}", fmt::join(c.other_entries, ", ")));
  std::map<std::string, int> dtypes;
  for (const auto& kv : c.stored_dtypes) ++dtypes[kv.second];
  std::vector<std::string> d;
  for (const auto& [t, n] : dtypes) d.push_back(fmt::format("{} x{}", t, n));
  r.fields.emplace_back("tensors", fmt::format("{} ({})", c.state_dict.size(), fmt::join(d, ", ")));
  for (const auto& [k, v] : c.metadata) r.fields.emplace_back("metadata " + k, v);
  try {
    const CommunityGenerator g = load_community_generator(file, true, options);
    if (!g.sidecar.empty()) r.fields.emplace_back("sidecar", g.sidecar.string());
    add_generator(r, g.detected.model.model_yaml, g.detected.model.scale, g.detected.generator);
  } catch (const Error& e) {
    r.fields.emplace_back("architecture", std::string("not detected: ") + e.what());
  }
  return r;
}

}  // namespace srlab::models
