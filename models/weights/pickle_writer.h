#pragma once
// The `data.pkl` record of a torch.save zip archive (PyTorch >= 1.6 "zipfile" serialization, pickle
// protocol 2), for a dict of state dicts: {'params_ema': OrderedDict(key -> tensor), 'params': ...}.
//
// Written opcode for opcode as torch.save does (torch/serialization.py `_save`, pickle protocol 2):
//   top level  EMPTY_DICT, MARK, (BINUNICODE name, <state dict>)..., SETITEMS, STOP
//   state dict GLOBAL 'collections OrderedDict', EMPTY_TUPLE, REDUCE, MARK, (key, <tensor>)..., SETITEMS
//   tensor     GLOBAL 'torch._utils _rebuild_tensor_v2' applied to (persistent storage, storage offset 0,
//              size tuple, contiguous stride tuple, requires_grad False, OrderedDict() backward hooks);
//              the storage is the persistent id ('storage', GLOBAL 'torch FloatStorage', storage key,
//              'cpu', numel) whose bytes are the archive record data/<storage key>.
// Only the globals that `torch.load(weights_only=True)` allows are referenced, so Python loads the
// result with weights_only=True. No memo opcodes are written (pickle does not require them).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace srlab::models {

/// One float32 tensor of a pickled state dict. Its data (C order, little-endian float32, storage_numel
/// values) is stored separately under archive record data/<storage_key>.
struct PickledTensor {
  std::string key;               ///< state-dict key, e.g. "conv_first.weight"
  std::string storage_key;       ///< record name under data/, e.g. "0"
  std::vector<int64_t> sizes;    ///< shape (N,C,H,W for a conv weight); empty for a 0-d tensor
  int64_t storage_numel = 0;     ///< number of float32 values in the storage (>= product of sizes)
};

/// A named state dict in the top-level dict, e.g. {"params_ema", {...}}; tensors keep their order.
using PickledStateDict = std::pair<std::string, std::vector<PickledTensor>>;

/// The pickle bytes (protocol 2) of {entries[0].first: OrderedDict(...), entries[1].first: ...}.
/// @throws srlab::Error when a key or storage key is empty, a size is negative, or storage_numel is
///         smaller than the number of elements of `sizes`.
std::string torch_save_pickle(const std::vector<PickledStateDict>& entries);

}  // namespace srlab::models
