#include "models/weights/checkpoint.h"

#include <algorithm>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "models/disc/discriminator_registry.h"
#include "models/arch/registry.h"
#include "models/weights/finite.h"
#include "models/weights/torch_file.h"

namespace srlab::models {

namespace {
std::string read_string(torch::serialize::InputArchive& ar, const std::string& key, const std::filesystem::path& path) {
  c10::IValue v;
  if (!ar.try_read(key, v) || !v.isString())
    throw Error("'" + path.string() + "' is not an SRLab checkpoint (entry '" + key + "' missing)");
  return v.toStringRef();
}
int64_t read_int(torch::serialize::InputArchive& ar, const std::string& key, const std::filesystem::path& path) {
  c10::IValue v;
  if (!ar.try_read(key, v) || !v.isInt())
    throw Error("'" + path.string() + "' is not an SRLab checkpoint (entry '" + key + "' missing)");
  return v.toInt();
}
}  // namespace

void write_generator_entries(torch::serialize::OutputArchive& archive, const CheckpointInfo& info,
                             const Generator& generator, const Generator& ema) {
  archive.write("srlab_format", c10::IValue(std::string(kCheckpointFormat)));
  archive.write("model_yaml", c10::IValue(info.model_yaml));
  archive.write("scale", c10::IValue(static_cast<int64_t>(info.scale)));
  archive.write("run_id", c10::IValue(info.run_id));
  archive.write("iteration", c10::IValue(info.iteration));
  torch::serialize::OutputArchive g;
  generator->save(g);
  archive.write("generator", g);
  if (ema) {
    torch::serialize::OutputArchive e;
    ema->save(e);
    archive.write("generator_ema", e);
  }
}

namespace {
// Why a file that LibTorch's archive reader refused is not a checkpoint: not a zip at all, a zip without
// its end-of-central-directory record (truncated), or a complete zip (a Python torch.save file).
std::string unreadable_reason(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0};
  in.read(magic, 4);
  if (in.gcount() < 4 || std::string(magic, 4) != std::string("PK\x03\x04", 4))
    return "not a LibTorch archive (no zip header); pass a .pt file written by srlab train";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 65536 + 22);
  std::string end(static_cast<size_t>(tail), '\0');
  in.seekg(size - tail);
  in.read(end.data(), tail);
  if (end.find(std::string("PK\x05\x06", 4)) == std::string::npos)
    return "the file is truncated (its zip directory is missing); copy or train it again";
  return "it is a complete PyTorch file but not an SRLab checkpoint (e.g. a Python torch.save of a state dict "
         "such as LPIPS weights); pass a .pt file written by srlab train or srlab interpolate";
}
}  // namespace

void open_checkpoint(const std::filesystem::path& path, torch::serialize::InputArchive& archive) {
  check_weight_path(path, "checkpoint");
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    throw Error("cannot read checkpoint '" + path.string() + "': " + unreadable_reason(path));
  }
}

CheckpointInfo read_checkpoint_info(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  const std::string fmt = read_string(archive, "srlab_format", path);
  if (fmt != kCheckpointFormat)
    throw Error("checkpoint '" + path.string() + "' has format '" + fmt + "', this SRLab reads '" + kCheckpointFormat + "'");
  CheckpointInfo info;
  info.model_yaml = read_string(archive, "model_yaml", path);
  info.scale = static_cast<int>(read_int(archive, "scale", path));
  info.run_id = read_string(archive, "run_id", path);
  info.iteration = read_int(archive, "iteration", path);
  torch::serialize::InputArchive probe;
  info.has_ema = archive.try_read("generator_ema", probe);
  return info;
}

namespace {
// Reads every parameter and buffer of `m` (recursively, nested modules = nested archives as written by
// Module::save) with explicit name and shape checks; Module::load would silently accept other shapes.
void load_module(torch::serialize::InputArchive& ar, torch::nn::Module& m, const std::string& prefix,
                 const std::string& arch, const std::filesystem::path& path) {
  torch::NoGradGuard no_grad;
  auto load_tensors = [&](const torch::OrderedDict<std::string, torch::Tensor>& tensors, bool is_buffer) {
    for (const auto& p : tensors) {
      torch::Tensor t;
      if (!ar.try_read(p.key(), t, is_buffer))
        throw Error("checkpoint '" + path.string() + "': " + (is_buffer ? "buffer '" : "parameter '") + prefix + p.key() +
                    "' of the " + arch + " architecture is missing (checkpoint of a different architecture?)");
      if (t.sizes() != p.value().sizes())
        throw Error("checkpoint '" + path.string() + "': '" + prefix + p.key() + "' has shape " + c10::str(t.sizes()) +
                    " but the " + arch + " architecture expects " + c10::str(p.value().sizes()));
      require_finite(t, prefix + p.key(), path.string());
      p.value().copy_(t);
    }
  };
  load_tensors(m.named_parameters(/*recurse=*/false), false);
  load_tensors(m.named_buffers(/*recurse=*/false), true);
  for (const auto& child : m.named_children()) {
    torch::serialize::InputArchive sub;
    if (!ar.try_read(child.key(), sub))
      throw Error("checkpoint '" + path.string() + "': module '" + prefix + child.key() + "' of the " + arch +
                  " architecture is missing (checkpoint of a different architecture?)");
    load_module(sub, *child.value(), prefix + child.key() + ".", arch, path);
  }
}
}  // namespace

void load_generator_weights(torch::serialize::InputArchive& archive, const std::string& key, Generator& generator,
                            const std::filesystem::path& path) {
  torch::serialize::InputArchive sub;
  if (!archive.try_read(key, sub))
    throw Error("checkpoint '" + path.string() + "' has no '" + key + "' weights");
  try {
    load_module(sub, *generator, "", generator->type(), path);
  } catch (const c10::Error& e) {
    throw Error("checkpoint '" + path.string() + "' does not match the " + generator->type() +
                " architecture: " + e.what_without_backtrace());
  }
}

void write_discriminator_entries(torch::serialize::OutputArchive& archive, const std::string& discriminator_yaml,
                                 const Discriminator& discriminator) {
  if (!discriminator) throw Error("write_discriminator_entries: the discriminator is null");
  archive.write("discriminator_yaml", c10::IValue(discriminator_yaml));
  torch::serialize::OutputArchive d;
  discriminator->save(d);  // parameters, then buffers (is_buffer), then child modules
  archive.write("discriminator", d);
}

std::string read_discriminator_yaml(torch::serialize::InputArchive& archive) {
  c10::IValue v;
  if (!archive.try_read("discriminator_yaml", v) || !v.isString()) return "";
  return v.toStringRef();
}

void load_discriminator_weights(torch::serialize::InputArchive& archive, DiscriminatorImpl& discriminator,
                                const std::filesystem::path& path) {
  torch::serialize::InputArchive sub;
  if (!archive.try_read("discriminator", sub))
    throw Error("checkpoint '" + path.string() + "' has no 'discriminator' weights (not a checkpoint of a GAN run)");
  try {
    load_module(sub, discriminator, "", discriminator.type() + " discriminator", path);
  } catch (const c10::Error& e) {
    throw Error("checkpoint '" + path.string() + "' does not match the " + discriminator.type() +
                " discriminator: " + e.what_without_backtrace());
  }
}

Discriminator load_discriminator(const std::filesystem::path& path, torch::Device device) {
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  read_checkpoint_info(archive, path);
  const std::string yaml = read_discriminator_yaml(archive);
  if (yaml.empty())
    throw Error("checkpoint '" + path.string() + "' holds no discriminator (not a checkpoint of a GAN run)");
  Discriminator d = make_discriminator(core::Config::parse(yaml, path.string() + " (discriminator_yaml)"));
  load_discriminator_weights(archive, *d, path);
  d->to(device);
  return d;
}

bool is_srlab_checkpoint(const std::filesystem::path& path) {
  return std::filesystem::is_regular_file(path) && sniff_weight_container(path) == WeightContainer::kSrlabCheckpoint;
}

Generator load_generator(const std::filesystem::path& path, torch::Device device, bool prefer_ema,
                         const GeneratorLoadOptions& options) {
  check_weight_path(path, "checkpoint");
  const WeightContainer kind = sniff_weight_container(path);
  if (kind == WeightContainer::kTorchZip || kind == WeightContainer::kTorchLegacy || kind == WeightContainer::kSafetensors) {
    Generator g = load_community_generator(path, prefer_ema, options).detected.generator;
    g->to(device);
    return g;
  }
  if (kind == WeightContainer::kUnknown)
    throw Error("cannot read '" + path.string() + "': truncated, damaged, or neither an SRLab checkpoint nor a "
                "torch.save (.pth/.pt) or .safetensors weight file");
  if (!options.model_options.empty())
    throw Error("--model-option applies to community weight files (.pth, .safetensors); '" + path.string() +
                "' is an SRLab checkpoint, which stores its model section");
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  const CheckpointInfo info = read_checkpoint_info(archive, path);
  core::Config model_cfg = core::Config::parse(info.model_yaml, path.string() + " (model_yaml)");
  Generator g = make_generator(model_cfg, info.scale);
  load_generator_weights(archive, (prefer_ema && info.has_ema) ? "generator_ema" : "generator", g, path);
  g->to(device);
  g->eval();
  return g;
}

}  // namespace srlab::models
