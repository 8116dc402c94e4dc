// srlab export --format pth|safetensors: community weight files from an SRLab checkpoint, or a community
// weight file converted to the other format (its architecture detected, models/weights/detect.h).
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_generator.h"
#include "models/weights/export_weights.h"

namespace srlab::cli {
namespace {

// The generator(s) to write and where they came from.
struct ExportSource {
  models::Generator raw, ema;  ///< ema null when there is none (or --raw-weights)
  models::CheckpointInfo info;
};

// load_generator refuses model options for SRLab checkpoints (their config fixes every hyperparameter).
ExportSource srlab_checkpoint_source(const std::string& checkpoint, bool raw_weights,
                                     const models::GeneratorLoadOptions& lo) {
  ExportSource s;
  s.raw = models::load_generator(checkpoint, torch::kCPU, /*prefer_ema=*/false, lo);
  torch::serialize::InputArchive archive;
  models::open_checkpoint(checkpoint, archive);
  s.info = models::read_checkpoint_info(archive, checkpoint);
  if (s.info.has_ema && !raw_weights) s.ema = models::load_generator(checkpoint, torch::kCPU, /*prefer_ema=*/true, lo);
  return s;
}

// A .pth/.safetensors file: one state dict is read (params_ema unless --raw-weights), so the output holds
// that one set of weights (a BasicSR .pth gets it under both params_ema and params).
ExportSource community_source(const std::string& file, bool raw_weights, const models::GeneratorLoadOptions& lo) {
  const models::CommunityGenerator c = models::load_community_generator(file, /*prefer_ema=*/!raw_weights, lo);
  ExportSource s;
  s.raw = c.detected.generator;
  s.info.model_yaml = c.detected.model.model_yaml;
  s.info.scale = c.detected.model.scale;
  s.info.iteration = -1;
  if (c.contents.wrapper_key.find("params_ema") != std::string::npos) {
    s.ema = s.raw;
    s.info.has_ema = true;
  }
  return s;
}

}  // namespace

int export_weight_file(models::ExportFormat format, const std::string& checkpoint, const std::string& output,
                       bool raw_weights, const models::GeneratorLoadOptions& load_options) {
  if (checkpoint.empty())
    throw Error("--checkpoint FILE is required (a .pt written by srlab train, or a .pth/.safetensors weight file)");
  const bool srlab = models::is_srlab_checkpoint(checkpoint);
  const ExportSource s = srlab ? srlab_checkpoint_source(checkpoint, raw_weights, load_options)
                               : community_source(checkpoint, raw_weights, load_options);
  const bool ema = static_cast<bool>(s.ema);
  const models::Generator& g = ema ? s.ema : s.raw;
  const std::string iteration = s.info.iteration >= 0 ? "iteration " + std::to_string(s.info.iteration) : checkpoint;
  if (format == models::ExportFormat::kPth) {
    models::export_pth(output, s.raw, srlab ? s.ema : nullptr);
    std::cout << "wrote " << output << " (" << g->type() << " x" << g->scale() << ", BasicSR layout: params_ema = "
              << (ema ? "EMA" : "raw") << " weights, params = " << (srlab ? "raw" : "the same") << " weights, from "
              << iteration << ", " << models::count_parameters(*g) << " parameters)\n";
  } else {
    models::export_safetensors(output, g,
                               models::safetensors_metadata(g, s.info.model_yaml, ema ? "ema" : "raw", s.info.run_id,
                                                            s.info.iteration));
    std::cout << "wrote " << output << " (" << g->type() << " x" << g->scale() << ", " << (ema ? "EMA" : "raw")
              << " weights from " << iteration << ", " << models::count_parameters(*g)
              << " parameters, metadata: architecture, scale, model_yaml)\n";
  }
  return 0;
}

}  // namespace srlab::cli
