#pragma once
// SRLab checkpoint files: one LibTorch serialize archive (zip) per checkpoint holding
//   "srlab_format"   string  "srlab-checkpoint-1"
//   "model_yaml"     string  the generator's `model:` config section (type + parameters)
//   "scale"          int     upscaling factor
//   "run_id"         string  the training run's name (may be empty)
//   "iteration"      int     training iteration the weights belong to
//   "generator"      archive generator parameters/buffers (names = BasicSR state-dict keys where shared)
//   "generator_ema"  archive EMA weights of the generator (optional)
// GAN runs (optional; absent in pixel-loss checkpoints, ignored by load_generator):
//   "discriminator_yaml"  string   the `discriminator:` config section (type + parameters)
//   "discriminator"       archive  discriminator parameters AND buffers (spectral-norm weight_u/weight_v,
//                                  BatchNorm running statistics), nested per module as Module::save writes
// plus trainer-private entries (optimizer, d_optimizer, RNG, ...) that load_generator ignores.
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "models/disc/discriminator.h"
#include "models/arch/generator.h"
#include "models/weights/community_generator.h"

namespace srlab::models {

inline constexpr const char* kCheckpointFormat = "srlab-checkpoint-1";

struct CheckpointInfo {
  std::string model_yaml;  ///< `model:` section, YAML text
  int scale = 0;
  std::string run_id;
  int64_t iteration = 0;
  bool has_ema = false;
};

/// Writes the header entries and the generator (and EMA generator, if non-null) into `archive`.
void write_generator_entries(torch::serialize::OutputArchive& archive, const CheckpointInfo& info,
                             const Generator& generator, const Generator& ema = nullptr);

/// Reads the header of an open archive; throws srlab::Error naming `path` if it is no SRLab checkpoint.
CheckpointInfo read_checkpoint_info(torch::serialize::InputArchive& archive, const std::filesystem::path& path);

/// Opens a checkpoint file; throws srlab::Error naming the file if missing, truncated or not a checkpoint.
void open_checkpoint(const std::filesystem::path& path, torch::serialize::InputArchive& archive);

/// Loads `key` ("generator" or "generator_ema") of `archive` into `generator` (built on CPU, then moved).
/// Throws srlab::Error naming `path` when names or shapes do not match the architecture.
void load_generator_weights(torch::serialize::InputArchive& archive, const std::string& key, Generator& generator,
                            const std::filesystem::path& path);

/// Loads a generator from any weight file, routed by content (not extension):
///   SRLab checkpoint: rebuilds the architecture from its model_yaml via the registry and loads the EMA
///     weights when present and `prefer_ema`, else the raw weights;
///   community weight file (torch.save zip or legacy .pth/.pt, .safetensors): detects the architecture
///     and loads strictly (models/weights/community_generator.h; params_ema preferred when `prefer_ema`).
/// The generator is moved to `device` and put in eval mode. `options.model_options` apply to community
/// files only. Throws srlab::Error naming the file on any problem.
Generator load_generator(const std::filesystem::path& path, torch::Device device = torch::kCPU,
                         bool prefer_ema = true, const GeneratorLoadOptions& options = {});

/// True when `path` is an SRLab checkpoint (a LibTorch archive), false for any other file.
bool is_srlab_checkpoint(const std::filesystem::path& path);

/// Writes "discriminator_yaml" (`discriminator_yaml`, the YAML text of the `discriminator:` section) and
/// "discriminator" (all parameters and buffers of `discriminator`, e.g. spectral-norm u/v vectors).
/// Throws srlab::Error when `discriminator` is null.
void write_discriminator_entries(torch::serialize::OutputArchive& archive, const std::string& discriminator_yaml,
                                 const Discriminator& discriminator);

/// The "discriminator_yaml" entry of an open checkpoint, or "" when it holds no discriminator (a
/// pixel-loss checkpoint).
std::string read_discriminator_yaml(torch::serialize::InputArchive& archive);

/// Loads the "discriminator" entry of `archive` into `discriminator` (parameters and buffers, with the
/// same name and shape checks as load_generator_weights). Throws srlab::Error naming `path` when the entry
/// is missing (no GAN checkpoint) or names/shapes do not match the architecture.
void load_discriminator_weights(torch::serialize::InputArchive& archive, DiscriminatorImpl& discriminator,
                                const std::filesystem::path& path);

/// Rebuilds the discriminator stored in the GAN checkpoint `path` (architecture from its
/// discriminator_yaml via models/disc/discriminator_registry.h), loads its weights and buffers and moves it
/// to `device`; it is left in training mode (as make_discriminator builds it). Throws srlab::Error
/// naming the file when it is missing, no SRLab checkpoint, or holds no discriminator.
Discriminator load_discriminator(const std::filesystem::path& path, torch::Device device = torch::kCPU);

}  // namespace srlab::models
