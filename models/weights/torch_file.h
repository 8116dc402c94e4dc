#pragma once
// Reading files written by Python's torch.save without Python, through the restricted unpickler
// (models/weights/pickle_reader.h): nothing in the file is ever executed.
//   zip format (PyTorch >= 1.6): records <archive>/data.pkl (the object pickle) and <archive>/data/<key>
//     (raw little-endian storage bytes), read with libzip, every record checked against its CRC-32.
//   legacy format (PyTorch < 1.6): consecutive pickles: magic number 0x1950a86a20f9469cfc6c, protocol
//     version 1001, sys_info dict (little_endian must be True), the object pickle, the list of storage
//     keys, then per key in that order an int64 element count and the raw storage bytes
//     (layout as PyTorch's torch/serialization.py `_legacy_save` / `_legacy_load`).
// Storage locations ('cpu', 'cuda:0', ...) are ignored: tensors are always loaded on the CPU.
#include <filesystem>
#include <string>

#include "models/weights/pickle_reader.h"

namespace srlab::models {

/// What kind of weight file a file is, judged by its first bytes (not its extension).
enum class WeightContainer { kUnknown, kTorchZip, kTorchLegacy, kSafetensors, kSrlabCheckpoint };

/// "torch zip", "torch legacy", "safetensors", "srlab checkpoint" or "unknown".
std::string container_name(WeightContainer c);

/// Classifies `path` by content: a zip holding data.pkl but no TorchScript constants.pkl is a torch.save
/// zip, a zip with constants.pkl is a LibTorch archive (SRLab checkpoint), the legacy magic pickle is a
/// legacy torch.save file, an 8-byte little-endian length followed by '{' or '[' (or any file named
/// *.safetensors that is none of the others) is safetensors.
/// @throws srlab::Error naming `path` when it does not exist or cannot be read.
WeightContainer sniff_weight_container(const std::filesystem::path& path);

/// Checks that `path` is an existing regular file; `what` names it in messages ("checkpoint", "weight file").
/// @throws srlab::Error (core::require_path_kind) "<what> 'p' is a folder; expected a file; pass the .pt
///         file inside it (e.g. p/checkpoints/best.pt)", "<what> 'p' does not exist; expected ..." or
///         "... is a FIFO (named pipe) ..., not a regular file".
void check_weight_path(const std::filesystem::path& path, const std::string& what);

/// Reads the object a torch.save file (zip or legacy format) holds, tensors included (CPU, stored dtype).
/// @param container  set to kTorchZip or kTorchLegacy when non-null
/// @throws srlab::Error naming `path`: missing, truncated, not a torch.save file, big-endian data,
///         forbidden globals (see pickle_reader.h), storages missing or of the wrong size.
PickleValue read_torch_file(const std::filesystem::path& path, WeightContainer* container = nullptr);

}  // namespace srlab::models
