#include "models/weights/community_generator.h"

#include "core/config.h"
#include "core/error.h"

namespace srlab::models {
namespace fs = std::filesystem;

fs::path sidecar_path(const fs::path& file) { return fs::path(file.string() + ".yaml"); }

CommunityGenerator load_community_generator(const fs::path& file, bool prefer_ema, const GeneratorLoadOptions& options) {
  CommunityGenerator out;
  out.contents = read_weight_file(file, prefer_ema);
  std::string sidecar_yaml;
  if (const fs::path side = sidecar_path(file); fs::is_regular_file(side)) {
    const core::Config cfg = core::Config::load_file(side);
    if (!cfg.has("model") || !cfg.at("model").is_map())
      throw Error("sidecar '" + side.string() + "' must hold a `model:` mapping (e.g. model: {res_scale: 0.1})");
    sidecar_yaml = cfg.at("model").dump();
    cfg.mark_all_used();
    out.sidecar = side;
  }
  out.detected = detect_generator(out.contents.state_dict, sidecar_yaml, options.model_options, file.string());
  Generator& g = out.detected.generator;
  load_state_dict_strict(*g, out.contents.state_dict, g->type(), file.string());
  g->eval();
  return out;
}

}  // namespace srlab::models
