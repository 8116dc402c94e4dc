#include "train/init_from.h"

#include <fmt/format.h>

#include "core/error.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_generator.h"

namespace srlab::train {

namespace {
void check_same(const std::string& file_type, int file_scale, const core::Config& model_cfg, int scale) {
  const std::string type = model_cfg.get<std::string>("type", "?");
  if (file_type != type || file_scale != scale)
    throw Error(fmt::format("its generator is {} x{} but this config trains {} x{}; the generator must have the same "
                            "architecture (model:) and scale", file_type, file_scale, type, scale));
}
}  // namespace

std::string init_generator_from(const std::filesystem::path& file, const core::Config& model_cfg, int scale,
                                models::Generator& g) {
  if (models::is_srlab_checkpoint(file)) {
    torch::serialize::InputArchive ar;
    models::open_checkpoint(file, ar);
    const models::CheckpointInfo info = models::read_checkpoint_info(ar, file);
    const core::Config ck = core::Config::parse(info.model_yaml, file.string() + " (model_yaml)");
    check_same(ck.get<std::string>("type", "?"), info.scale, model_cfg, scale);
    models::load_generator_weights(ar, info.has_ema ? "generator_ema" : "generator", g, file);
    return fmt::format("{} weights, iteration {}", info.has_ema ? "EMA" : "raw", info.iteration);
  }
  const models::CommunityGenerator c = models::load_community_generator(file, /*prefer_ema=*/true);
  check_same(c.detected.generator->type(), c.detected.model.scale, model_cfg, scale);
  models::load_state_dict_strict(*g, c.contents.state_dict, g->type(), file.string());
  return fmt::format("{} of a {} file", c.contents.wrapper_key.empty() ? "bare state dict" : c.contents.wrapper_key,
                     models::container_name(c.contents.container));
}

}  // namespace srlab::train
