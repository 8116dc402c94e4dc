#include "models/weights/pickle_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace srlab::models {
namespace {

// Pickle opcodes (Python's Lib/pickle.py, protocols 0-2).
constexpr char kProto = '\x80', kStop = '.', kMark = '(', kEmptyDict = '}', kEmptyTuple = ')', kSetItems = 'u',
               kGlobal = 'c', kReduce = 'R', kBinUnicode = 'X', kBinInt1 = 'K', kBinInt2 = 'M', kBinInt = 'J',
               kLong1 = '\x8a', kTuple = 't', kTuple1 = '\x85', kTuple2 = '\x86', kTuple3 = '\x87',
               kNewFalse = '\x89', kBinPersId = 'Q';

class Pickler {
 public:
  Pickler() { out_ += {kProto, '\x02'}; }
  void op(char c) { out_ += c; }
  void global(const char* module, const char* name) { out_ += fmt::format("{}{}\n{}\n", kGlobal, module, name); }
  void str(const std::string& s) {
    if (s.size() > std::numeric_limits<uint32_t>::max()) throw Error("pickle writer: string too long");
    op(kBinUnicode);
    le(static_cast<uint32_t>(s.size()), 4);
    out_ += s;
  }
  // Python ints as pickle.py writes them: BININT1 / BININT2 / BININT, else LONG1 (two's complement).
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op(kBinInt1);
      le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      op(kBinInt2);
      le(static_cast<uint64_t>(v), 2);
    } else if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
      op(kBinInt);
      le(static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(v))), 4);
    } else {
      op(kLong1);
      out_ += '\x08';
      le(static_cast<uint64_t>(v), 8);
    }
  }
  void int_tuple(const std::vector<int64_t>& values) {
    static const char kSmall[] = {kEmptyTuple, kTuple1, kTuple2, kTuple3};
    if (values.size() > 3) op(kMark);
    for (int64_t v : values) integer(v);
    op(values.size() <= 3 ? kSmall[values.size()] : kTuple);
  }
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    op(kEmptyTuple);
    op(kReduce);
  }
  std::string finish() {
    op(kStop);
    return std::move(out_);
  }

 private:
  void le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string out_;
};

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> strides(sizes.size());
  int64_t s = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(sizes[i], 1);
  }
  return strides;
}

void check(const PickledTensor& t, const std::string& dict) {
  if (t.key.empty() || t.storage_key.empty())
    throw Error(fmt::format("pickle writer: state dict '{}' has a tensor with an empty key or storage key", dict));
  int64_t numel = 1;
  for (int64_t s : t.sizes) {
    if (s < 0) throw Error(fmt::format("pickle writer: tensor '{}' of '{}' has a negative size", t.key, dict));
    numel *= s;
  }
  if (t.storage_numel < numel)
    throw Error(fmt::format("pickle writer: tensor '{}' of '{}' has {} elements but its storage holds {}", t.key,
                            dict, numel, t.storage_numel));
}

// _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()) with a persistent-id storage.
void tensor(Pickler& p, const PickledTensor& t) {
  p.global("torch._utils", "_rebuild_tensor_v2");
  p.op(kMark);
  p.op(kMark);
  p.str("storage");
  p.global("torch", "FloatStorage");
  p.str(t.storage_key);
  p.str("cpu");
  p.integer(t.storage_numel);
  p.op(kTuple);
  p.op(kBinPersId);
  p.integer(0);
  p.int_tuple(t.sizes);
  p.int_tuple(contiguous_strides(t.sizes));
  p.op(kNewFalse);
  p.empty_ordered_dict();
  p.op(kTuple);
  p.op(kReduce);
}

}  // namespace

std::string torch_save_pickle(const std::vector<PickledStateDict>& entries) {
  Pickler p;
  p.op(kEmptyDict);
  p.op(kMark);
  for (const auto& [name, tensors] : entries) {
    p.str(name);
    p.empty_ordered_dict();
    p.op(kMark);
    for (const PickledTensor& t : tensors) {
      check(t, name);
      p.str(t.key);
      tensor(p, t);
    }
    p.op(kSetItems);
  }
  p.op(kSetItems);
  return p.finish();
}

}  // namespace srlab::models
