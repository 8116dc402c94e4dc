#pragma once
// Community weight files (.pth / .pt from torch.save, zip or legacy format, and .safetensors) reduced
// to a generator state dict: the wrapper dict is unwrapped and training-wrapper prefixes are stripped.
//   wrapper keys, in order of preference: params_ema, params, state_dict, model_state_dict, model, net
//     (BasicSR / Real-ESRGAN save {'params_ema': .., 'params': ..}; other trainers use the rest);
//     with prefer_ema = false, params is preferred over params_ema. Unwrapping repeats (nested wrappers).
//   prefixes: "module." (torch.nn.DataParallel / DistributedDataParallel) and "netG." (some GAN
//     trainers), stripped when every key carries them.
// Entries beside the state dict (e.g. BasicSR's `iter`) and non-tensor values are kept as descriptions.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "models/arch/registry.h"
#include "models/weights/torch_file.h"

namespace srlab::models {

struct WeightFileContents {
  WeightContainer container = WeightContainer::kUnknown;
  std::string wrapper_key;        ///< e.g. "params_ema", "state_dict/model"; "" for a bare state dict
  std::vector<std::string> stripped_prefixes;  ///< e.g. {"module."}
  StateDict state_dict;           ///< key -> CPU tensor (torch files: dtype as stored; safetensors: float32)
  std::map<std::string, std::string> stored_dtypes;  ///< key -> stored dtype name ("Float", "F16", ...)
  std::vector<std::string> other_entries;  ///< "iter: int 5000", "params: dict (not used)", ...
  std::map<std::string, std::string> metadata;  ///< safetensors __metadata__
  bool has_ema_and_raw = false;   ///< both params_ema and params were present
};

/// Reads a torch.save file (zip or legacy) or a .safetensors file (by content) and unwraps it.
/// Every floating-point tensor is checked for NaN/Inf (models/weights/finite.h).
/// @throws srlab::Error naming `path` for unreadable files (see torch_file.h, safetensors.h), a file that
///         holds no dict (e.g. a pickled list or string) or no tensors, non-string keys, or a tensor with
///         NaN/Inf values (naming the key).
WeightFileContents read_weight_file(const std::filesystem::path& path, bool prefer_ema = true);

/// Unwraps an unpickled object (see the file comment) into `out` (wrapper_key, state_dict, ...).
/// @throws srlab::Error naming `source` when `root` is no dict or the chosen level holds no tensors.
void unwrap_weights(const PickleValue& root, bool prefer_ema, const std::string& source, WeightFileContents& out);

/// Strips "module." / "netG." when every key starts with it (repeatedly); returns the prefixes removed.
std::vector<std::string> strip_wrapper_prefixes(StateDict& state_dict);

/// Removes the profiling buffers that the `thop` FLOP counter registers on every module and that some
/// community files (OmniSR, DAT releases) were saved with: keys whose last component is `total_ops` or
/// `total_params` (spandrel drops them the same way). Returns how many were removed.
size_t drop_profiling_buffers(StateDict& state_dict);

}  // namespace srlab::models
