#include "models/weights/pickle_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "core/error.h"

namespace srlab::models {

namespace {
using Kind = PickleValue::Kind;

const std::map<std::string, c10::ScalarType>& storage_types() {
  static const std::map<std::string, c10::ScalarType> t{
      {"torch.FloatStorage", c10::kFloat},   {"torch.HalfStorage", c10::kHalf},   {"torch.BFloat16Storage", c10::kBFloat16},
      {"torch.DoubleStorage", c10::kDouble}, {"torch.LongStorage", c10::kLong},   {"torch.IntStorage", c10::kInt},
      {"torch.ShortStorage", c10::kShort},   {"torch.CharStorage", c10::kChar},   {"torch.ByteStorage", c10::kByte},
      {"torch.BoolStorage", c10::kBool}};
  return t;
}
constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";
// Bounds that no real weight file comes near (a BasicSR training state nests 5 levels and holds a few
// thousand values) but that keep hostile pickles from exhausting the C++ stack (destroying or walking a
// million nested tuples recurses once per level) or memory (a "billion laughs" of shared containers).
constexpr int kMaxDepth = 100;                   // nesting levels of tuples/lists/dicts
constexpr uint64_t kMaxNodes = 10'000'000;       // values reachable from one container, shared ones counted each time
constexpr size_t kMaxStack = 1'000'000;          // values on the unpickler's stack at once
constexpr size_t kMaxMemo = 1'000'000;           // memo entries

PickleValue make(Kind k) {
  PickleValue v;
  v.kind = k;
  if (k == Kind::kTuple || k == Kind::kList) v.items = std::make_shared<std::vector<PickleValue>>();
  if (k == Kind::kDict) v.entries = std::make_shared<std::vector<std::pair<PickleValue, PickleValue>>>();
  return v;
}
PickleValue make_int(int64_t i) {
  PickleValue v = make(Kind::kInt);
  v.integer = i;
  return v;
}
PickleValue make_text(Kind k, std::string s) {
  PickleValue v = make(k);
  v.text = std::move(s);
  return v;
}

class Unpickler {
 public:
  Unpickler(const char* data, size_t size, size_t pos, const std::string& source, const StorageLoader& storages)
      : d_(data), size_(size), pos_(pos), source_(source), storages_(storages) {}

  PickleValue run();
  size_t pos() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("cannot read weight file '{}': {} (pickle offset {}); the file is damaged or not a "
                            "PyTorch weight file", source_, what, op_pos_));
  }
  const char* take(size_t n) {
    if (n > size_ - pos_) fail("truncated data");
    const char* p = d_ + pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T le() {  // little-endian fixed-size integer
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  std::string line() {
    const char* start = d_ + pos_;
    const void* nl = std::memchr(start, '\n', size_ - pos_);
    if (!nl) fail("truncated GLOBAL");
    const size_t n = static_cast<const char*>(nl) - start;
    pos_ += n + 1;
    return std::string(start, n);
  }
  void push(PickleValue v) {
    if (stack_.size() >= kMaxStack) fail(fmt::format("more than {} values on the pickle stack", kMaxStack));
    stack_.push_back(std::move(v));
  }
  void memo_put(uint32_t i) {
    if (memo_.size() >= kMaxMemo && !memo_.count(i)) fail(fmt::format("more than {} memo entries", kMaxMemo));
    memo_[i] = top();
  }
  /// The key of a container's shared storage (nullptr for scalars, strings and tensors).
  static const void* container_id(const PickleValue& v) {
    if (v.items) return v.items.get();
    if (v.entries) return v.entries.get();
    return nullptr;
  }
  /// Nesting depth and node count of a value; containers are measured once, when first placed in
  /// another container ("sealed"), from their children, which are sealed already.
  struct Extent {
    int depth = 0;
    uint64_t nodes = 1;
    std::shared_ptr<const void> keep;  // keeps a sealed container alive, so its address is never reused
  };
  Extent extent(const PickleValue& v) {
    const void* id = container_id(v);
    if (!id) return {};
    if (auto it = sealed_.find(id); it != sealed_.end()) return it->second;
    Extent e;  // children are sealed (see adopt), so this looks one level down only
    auto add = [&](const PickleValue& c) {
      const Extent& x = extent(c);
      e.depth = std::max(e.depth, x.depth + 1);
      e.nodes += x.nodes;
    };
    if (v.items)
      for (const auto& c : *v.items) add(c);
    if (v.entries)
      for (const auto& [k, c] : *v.entries) {
        add(k);
        add(c);
      }
    return e;
  }
  /// Called for every value placed into the container `parent` (nullptr: a new tuple): refuses cycles and
  /// containers changed after being placed elsewhere (only recursive Python objects do that), bounds the
  /// nesting depth and node count, and seals the child.
  void adopt(const void* parent, const PickleValue& child) {
    if (parent && sealed_.count(parent))
      fail("a container is changed after being placed in another one (a recursive object)");
    const void* id = container_id(child);
    if (!id) return;
    if (id == parent) fail("a container is placed inside itself (a recursive object)");
    if (sealed_.count(id)) return;
    const Extent e = extent(child);
    if (e.depth + 1 > kMaxDepth) fail(fmt::format("values nested deeper than {} levels", kMaxDepth));
    if (e.nodes > kMaxNodes) fail(fmt::format("more than {} values in one container", kMaxNodes));
    Extent sealed{e.depth, e.nodes, child.items ? std::shared_ptr<const void>(child.items)
                                                 : std::shared_ptr<const void>(child.entries)};
    sealed_.emplace(id, std::move(sealed));
  }
  PickleValue pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
    PickleValue v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PickleValue& top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<PickleValue> pop_to_mark() {
    if (marks_.empty()) fail("MARK missing");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleValue> out(std::make_move_iterator(stack_.begin() + m), std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return out;
  }
  void push_tuple(std::vector<PickleValue> items) {
    for (const auto& x : items) adopt(nullptr, x);
    PickleValue t = make(Kind::kTuple);
    *t.items = std::move(items);
    push(std::move(t));
  }
  void set_items(PickleValue& dict, std::vector<PickleValue>& kv) {
    if (!dict.is_dict()) fail("SETITEM(S) on a " + dict.describe());
    if (kv.size() % 2) fail("odd number of SETITEMS values");
    for (auto& x : kv) adopt(dict.entries.get(), x);
    for (size_t i = 0; i < kv.size(); i += 2) dict.entries->emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
  }
  void append(PickleValue& list, std::vector<PickleValue>& v) {
    if (list.kind != Kind::kList) fail("APPEND(S) on a " + list.describe());
    for (auto& x : v) adopt(list.items.get(), x);
    for (auto& x : v) list.items->push_back(std::move(x));
  }
  PickleValue memo_get(uint32_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) fail(fmt::format("memo entry {} missing", i));
    return it->second;
  }
  PickleValue global(const std::string& module, const std::string& name);
  PickleValue reduce(const PickleValue& callable, const PickleValue& args);
  PickleValue rebuild_tensor(const std::vector<PickleValue>& a);
  PickleValue persistent_load(const PickleValue& pid);
  PickleValue big_int(size_t n);
  bool step(uint8_t op);

  const char* d_;
  size_t size_, pos_, op_pos_ = 0;
  const std::string& source_;
  const StorageLoader& storages_;
  std::vector<PickleValue> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, PickleValue> memo_;
  std::map<std::string, torch::Tensor> storage_cache_;
  std::unordered_map<const void*, Extent> sealed_;  // containers placed in another container
};

PickleValue Unpickler::global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  if (auto it = storage_types().find(full); it != storage_types().end()) {
    PickleValue v = make(Kind::kStorageType);
    v.integer = static_cast<int64_t>(it->second);
    v.text = full;
    return v;
  }
  if (full == kOrderedDict || full == kRebuildTensor || full == kRebuildParameter) return make_text(Kind::kGlobal, full);
  throw Error(fmt::format("refusing to load '{}' from '{}': weight files may only hold tensors (and plain "
                          "numbers, strings, lists and dicts); a file that needs '{}' is a pickled Python object, "
                          "not a state dict: re-save it in Python with torch.save(model.state_dict(), ...)",
                          full, source_, full));
}

PickleValue Unpickler::big_int(size_t n) {
  const char* p = take(n);
  if (n <= 8) {
    uint64_t u = 0;
    for (size_t i = 0; i < n; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(p[n - 1]) & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    return make_int(static_cast<int64_t>(u));
  }
  return make_text(Kind::kBigInt, std::string(p, n));
}

PickleValue Unpickler::rebuild_tensor(const std::vector<PickleValue>& a) {
  if (a.size() < 4 || !a[0].is_tensor() || a[1].kind != Kind::kInt || a[2].kind != Kind::kTuple ||
      a[3].kind != Kind::kTuple || a[2].items->size() != a[3].items->size())
    fail("malformed _rebuild_tensor_v2 arguments");
  const torch::Tensor& storage = a[0].tensor;
  std::vector<int64_t> size, stride;
  for (const auto& s : *a[2].items) size.push_back(s.kind == Kind::kInt ? s.integer : -1);
  for (const auto& s : *a[3].items) stride.push_back(s.kind == Kind::kInt ? s.integer : -1);
  const int64_t offset = a[1].integer;
  int64_t last = offset, numel = 1;
  bool overflow = false;
  for (size_t i = 0; i < size.size(); ++i) {
    if (size[i] < 0 || stride[i] < 0) fail("tensor with a negative or non-integer size/stride");
    int64_t extent = 0;
    overflow = overflow || __builtin_mul_overflow(numel, size[i], &numel) ||
               (size[i] > 0 && (__builtin_mul_overflow(size[i] - 1, stride[i], &extent) ||
                                __builtin_add_overflow(last, extent, &last)));
  }
  if (overflow)
    fail(fmt::format("tensor view (size {}, stride {}) whose size overflows 64 bits", c10::str(c10::IntArrayRef(size)),
                     c10::str(c10::IntArrayRef(stride))));
  if (offset < 0 || (numel > 0 && last >= storage.numel()))
    fail(fmt::format("tensor view (offset {}, size {}, stride {}) exceeds its storage of {} elements", offset,
                     c10::str(c10::IntArrayRef(size)), c10::str(c10::IntArrayRef(stride)), storage.numel()));
  PickleValue v = make(Kind::kTensor);
  v.tensor = numel == 0 ? torch::empty(size, storage.options()) : storage.as_strided(size, stride, offset);
  return v;
}

PickleValue Unpickler::reduce(const PickleValue& callable, const PickleValue& args) {
  if (callable.kind != Kind::kGlobal || args.kind != Kind::kTuple)
    fail("REDUCE of a " + callable.describe() + " (only allow-listed torch functions may be applied)");
  const auto& a = *args.items;
  if (callable.text == kOrderedDict) {
    if (!a.empty()) fail("collections.OrderedDict with constructor arguments");
    return make(Kind::kDict);
  }
  if (callable.text == kRebuildTensor) return rebuild_tensor(a);
  // _rebuild_parameter(data, requires_grad, backward_hooks)
  if (a.empty() || !a[0].is_tensor()) fail("malformed _rebuild_parameter arguments");
  return a[0];
}

PickleValue Unpickler::persistent_load(const PickleValue& pid) {
  const auto* t = pid.kind == Kind::kTuple ? pid.items.get() : nullptr;
  if (!t || t->size() < 5 || !(*t)[0].is_string() || (*t)[0].text != "storage" ||
      (*t)[1].kind != Kind::kStorageType || !(*t)[2].is_string() || (*t)[4].kind != Kind::kInt)
    fail("unsupported persistent id (expected a torch storage reference)");
  if (t->size() > 5 && (*t)[5].kind != Kind::kNone) fail("legacy storage views are not supported");
  if (!storages_) fail("unexpected tensor data in this pickle");
  const std::string& key = (*t)[2].text;
  const auto dtype = static_cast<c10::ScalarType>((*t)[1].integer);
  const int64_t numel = (*t)[4].integer;
  if (numel < 0) fail("negative storage size");
  auto it = storage_cache_.find(key);
  if (it == storage_cache_.end()) {
    torch::Tensor s = storages_(key, dtype, numel);
    it = storage_cache_.emplace(key, s).first;
  }
  if (it->second.scalar_type() != dtype || it->second.numel() != numel)
    fail("storage '" + key + "' is referenced with two different types or sizes");
  PickleValue v = make(Kind::kTensor);
  v.tensor = it->second;
  return v;
}

// Executes one opcode; returns false at STOP.
bool Unpickler::step(uint8_t op) {
  switch (op) {
    case 0x80: take(1); break;                                   // PROTO
    case 0x95: take(8); break;                                   // FRAME
    case '.': return false;                                      // STOP
    case 'N': push(make(Kind::kNone)); break;
    case 0x88: case 0x89: { PickleValue b = make(Kind::kBool); b.boolean = op == 0x88; push(b); break; }
    case 'K': push(make_int(le<uint8_t>())); break;  // BININT1
    case 'M': push(make_int(le<uint16_t>())); break; // BININT2
    case 'J': push(make_int(le<int32_t>())); break;  // BININT
    case 0x8a: push(big_int(le<uint8_t>())); break;  // LONG1
    case 0x8b: { const int32_t n = le<int32_t>(); if (n < 0) fail("negative LONG4 size"); push(big_int(n)); break; }
    case 'G': {  // BINFLOAT, big-endian
      uint64_t u = 0;
      const char* p = take(8);
      for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(p[i]);
      PickleValue f = make(Kind::kFloat);
      std::memcpy(&f.real, &u, 8);
      push(f);
      break;
    }
    case 'X': { const uint32_t n = le<uint32_t>(); push(make_text(Kind::kString, std::string(take(n), n))); break; }
    case 0x8c: { const uint8_t n = le<uint8_t>(); push(make_text(Kind::kString, std::string(take(n), n))); break; }
    case 0x8d: { const uint64_t n = le<uint64_t>(); if (n > size_) fail("truncated data"); push(make_text(Kind::kString, std::string(take(n), n))); break; }
    case 'T': { const int32_t n = le<int32_t>(); if (n < 0) fail("negative BINSTRING size"); push(make_text(Kind::kString, std::string(take(n), n))); break; }
    case 'U': { const uint8_t n = le<uint8_t>(); push(make_text(Kind::kString, std::string(take(n), n))); break; }
    case 'B': { const uint32_t n = le<uint32_t>(); push(make_text(Kind::kBytes, std::string(take(n), n))); break; }
    case 'C': { const uint8_t n = le<uint8_t>(); push(make_text(Kind::kBytes, std::string(take(n), n))); break; }
    case '}': push(make(Kind::kDict)); break;
    case ']': push(make(Kind::kList)); break;
    case ')': push(make(Kind::kTuple)); break;
    case '(': marks_.push_back(stack_.size()); break;
    case 't': push_tuple(pop_to_mark()); break;
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      const size_t n = op - 0x84;
      std::vector<PickleValue> items(n);
      for (size_t i = n; i-- > 0;) items[i] = pop();
      push_tuple(std::move(items));
      break;
    }
    case 'l': { auto v = pop_to_mark(); PickleValue l = make(Kind::kList); append(l, v); push(l); break; }
    case 'd': { auto v = pop_to_mark(); PickleValue dct = make(Kind::kDict); set_items(dct, v); push(dct); break; }
    case 'a': { std::vector<PickleValue> v{pop()}; append(top(), v); break; }
    case 'e': { auto v = pop_to_mark(); append(top(), v); break; }
    case 's': { std::vector<PickleValue> kv(2); kv[1] = pop(); kv[0] = pop(); set_items(top(), kv); break; }
    case 'u': { auto v = pop_to_mark(); set_items(top(), v); break; }
    case 'q': memo_put(le<uint8_t>()); break;               // BINPUT
    case 'r': memo_put(le<uint32_t>()); break;              // LONG_BINPUT
    case 0x94: memo_put(static_cast<uint32_t>(memo_.size())); break;  // MEMOIZE
    case 'h': push(memo_get(le<uint8_t>())); break;  // BINGET
    case 'j': push(memo_get(le<uint32_t>())); break; // LONG_BINGET
    case 'c': { const std::string module = line(); const std::string name = line(); push(global(module, name)); break; }
    case 0x93: {  // STACK_GLOBAL
      const PickleValue name = pop(), module = pop();
      if (!name.is_string() || !module.is_string()) fail("STACK_GLOBAL without strings");
      push(global(module.text, name.text));
      break;
    }
    case 'R': { const PickleValue args = pop(); const PickleValue fn = pop(); push(reduce(fn, args)); break; }
    case 'b': {  // BUILD: only the OrderedDict `_metadata` attribute (state dicts) and tensor state, ignored
      pop();
      const Kind k = top().kind;
      if (k != Kind::kDict && k != Kind::kTensor) fail("BUILD on a " + top().describe());
      break;
    }
    case 'Q': { const PickleValue pid = pop(); push(persistent_load(pid)); break; }
    case '0': pop(); break;
    case '1': pop_to_mark(); break;
    case '2': push(top()); break;
    default: fail(fmt::format("unsupported pickle opcode 0x{:02x}", op));
  }
  return true;
}

PickleValue Unpickler::run() {
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = le<uint8_t>();
    if (!step(op)) break;
  }
  if (stack_.size() != 1 || !marks_.empty()) fail("pickle does not end with exactly one value");
  return stack_.back();
}
}  // namespace

std::string PickleValue::describe() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return boolean ? "bool True" : "bool False";
    case Kind::kInt: return "int " + std::to_string(integer);
    case Kind::kBigInt: return "big int";
    case Kind::kFloat: return fmt::format("float {}", real);
    case Kind::kString: return "string '" + text.substr(0, 40) + "'";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kTensor: return "tensor";
    case Kind::kGlobal: return "global " + text;
    case Kind::kStorageType: return "storage type " + text;
  }
  return "value";
}

PickleValue unpickle(const char* data, size_t size, size_t& pos, const std::string& source,
                     const StorageLoader& storages) {
  if (pos > size) throw Error("cannot read weight file '" + source + "': truncated data");
  Unpickler u(data, size, pos, source, storages);
  PickleValue v = u.run();
  pos = u.pos();
  return v;
}

}  // namespace srlab::models
