#pragma once
// A restricted unpickler for PyTorch weight files (torch.save's pickles, protocol 2, plus the few
// protocol 3/4 opcodes that other writers emit). It builds plain values only: None, bool, int, float,
// string/bytes, tuple, list, dict (collections.OrderedDict included) and tensors. It never imports or
// calls anything: the only globals it resolves are an allow-list of names, interpreted by SRLab code:
//   collections.OrderedDict             -> an empty dict (its REDUCE args are ignored if empty)
//   torch._utils._rebuild_tensor_v2     -> storage.as_strided(size, stride, offset), bounds-checked
//   torch._utils._rebuild_parameter     -> its tensor (requires_grad and hooks dropped)
//   torch.<T>Storage                    -> a storage dtype (Float, Half, BFloat16, Double, Long, Int,
//                                          Short, Char, Byte, Bool)
// Any other global (e.g. os.system, builtins.eval, a model class) is refused with srlab::Error
// "refusing to load 'os.system' from <file>: weight files may only hold tensors ...".
// Persistent ids (BINPERSID) are torch's storage references ('storage', <T>Storage, key, location,
// numel[, view_metadata]); the caller's StorageLoader resolves a key to its bytes.
// Reference for the format: CPython Lib/pickletools.py (opcode table) and PyTorch
// torch/serialization.py (persistent ids, _legacy_load) and torch/_utils.py (_rebuild_tensor_v2).
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace srlab::models {

/// One unpickled value. Tuples and lists share `items`; dicts keep insertion order in `entries`.
/// Containers are shared (copies alias) because pickle's memo refers to the same object.
struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kBigInt, kFloat, kString, kBytes, kTuple, kList, kDict, kTensor, kGlobal, kStorageType };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;      ///< kInt; kStorageType: the c10::ScalarType as int
  double real = 0;          ///< kFloat
  std::string text;         ///< kString, kBytes, kGlobal ("module.name"), kBigInt (LE two's-complement bytes)
  std::shared_ptr<std::vector<PickleValue>> items;                              ///< kTuple, kList
  std::shared_ptr<std::vector<std::pair<PickleValue, PickleValue>>> entries;   ///< kDict
  torch::Tensor tensor;     ///< kTensor (CPU, dtype as stored)

  bool is_dict() const { return kind == Kind::kDict; }
  bool is_tensor() const { return kind == Kind::kTensor; }
  bool is_string() const { return kind == Kind::kString; }
  /// Short description for messages: "dict", "tensor", "int 5", "string 'x'", ...
  std::string describe() const;
};

/// Resolves a storage key to a 1-D CPU tensor of `dtype` with exactly `numel` elements (the storage);
/// tensors are views of it. Called once per distinct key (results are cached by the unpickler).
using StorageLoader = std::function<torch::Tensor(const std::string& key, c10::ScalarType dtype, int64_t numel)>;

/// Unpickles one pickle starting at `data[pos]`; on return `pos` is just past its STOP opcode.
/// @param source  the file name, for messages
/// @param storages  resolves persistent ids; may be empty when the pickle must hold no tensors
/// @throws srlab::Error naming `source` for truncated data, unknown opcodes, forbidden globals
///         (never called), malformed tensor records or out-of-bounds views.
PickleValue unpickle(const char* data, size_t size, size_t& pos, const std::string& source,
                     const StorageLoader& storages);

}  // namespace srlab::models
