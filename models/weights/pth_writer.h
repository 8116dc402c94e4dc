#pragma once
// Writing PyTorch weight files (.pth) as torch.save writes them (PyTorch >= 1.6 zip format), so that
// Python's `torch.load(f, weights_only=True)` opens them and the reference architectures load the state
// dicts with `load_state_dict(..., strict=True)`.
//
// Layout (torch/serialization.py `_save`, reference: pytorch/pytorch): a zip archive written by
// LibTorch's caffe2::serialize::PyTorchStreamWriter (records 64-byte aligned, stored uncompressed) with
//   archive/data.pkl    the pickle (models/weights/pickle_writer.h)
//   archive/byteorder   "little" (as torch.save >= 2.1 writes it)
//   archive/data/<k>    raw little-endian float32 storage k = 0, 1, ...
//   archive/version     "3\n" (written by PyTorchStreamWriter::writeEndOfFile)
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "models/arch/registry.h"

namespace srlab::models {

/// A named state dict of the top-level dict, e.g. {"params_ema", sd}.
using NamedStateDict = std::pair<std::string, StateDict>;

/// Writes `file` (atomically, core/fs.h) as torch.save({entries[0].first: OrderedDict(entries[0].second),
/// ...}) would, keys in StateDict (sorted) order. Every tensor is stored as float32 (converted from any
/// floating or integer type, moved to the CPU, made contiguous); tensors of different entries that
/// share memory (same data pointer and size, e.g. one StateDict given twice) share one storage, as
/// torch.save does for shared tensors.
/// @throws srlab::Error naming `file` when it cannot be written, `entries` is empty, a tensor is
///         undefined or complex, or two entries have the same name.
void write_pth(const std::filesystem::path& file, const std::vector<NamedStateDict>& entries);

}  // namespace srlab::models
