// srlab export --format pth|safetensors: community weight files from an SRLab checkpoint.
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "models/weights/checkpoint.h"
#include "models/weights/export_weights.h"

namespace srlab::cli {

int export_weight_file(models::ExportFormat format, const std::string& checkpoint, const std::string& output,
                       bool raw_weights) {
  if (checkpoint.empty()) throw Error("--checkpoint CKPT is required (a .pt file written by srlab train)");
  torch::serialize::InputArchive archive;
  models::open_checkpoint(checkpoint, archive);
  const models::CheckpointInfo info = models::read_checkpoint_info(archive, checkpoint);
  const bool ema = info.has_ema && !raw_weights;
  const models::Generator raw = models::load_generator(checkpoint, torch::kCPU, /*prefer_ema=*/false);
  const models::Generator avg = ema ? models::load_generator(checkpoint, torch::kCPU, /*prefer_ema=*/true) : nullptr;
  const models::Generator& g = ema ? avg : raw;
  if (format == models::ExportFormat::kPth) {
    models::export_pth(output, raw, avg);
    std::cout << "wrote " << output << " (" << g->type() << " x" << g->scale() << ", BasicSR layout: params_ema = "
              << (ema ? "EMA" : "raw") << " weights, params = raw weights, iteration " << info.iteration << ", "
              << models::count_parameters(*g) << " parameters)\n";
  } else {
    models::export_safetensors(output, g,
                               models::safetensors_metadata(g, info.model_yaml, ema ? "ema" : "raw", info.run_id,
                                                            info.iteration));
    std::cout << "wrote " << output << " (" << g->type() << " x" << g->scale() << ", " << (ema ? "EMA" : "raw")
              << " weights of iteration " << info.iteration << ", " << models::count_parameters(*g)
              << " parameters, metadata: architecture, scale, model_yaml)\n";
  }
  return 0;
}

}  // namespace srlab::cli
