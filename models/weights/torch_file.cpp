#include "models/weights/torch_file.h"

#include <fmt/format.h>
#include <zip.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "core/error.h"
#include "core/fs.h"

namespace srlab::models {
namespace fs = std::filesystem;

namespace {
// The legacy format's magic number 0x1950a86a20f9469cfc6c as pickle LONG1 bytes (little-endian).
const std::string kLegacyMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kLegacyProtocol = 1001;

std::string read_prefix(const fs::path& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("weight file '" + path.string() + "' cannot be opened (missing or unreadable)");
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

bool is_legacy_prefix(const std::string& head) {
  // PROTO 2, LONG1 of 10 bytes, the magic
  return head.size() >= 14 && head.compare(0, 4, "\x80\x02\x8a\x0a", 4) == 0 && head.compare(4, 10, kLegacyMagic) == 0;
}

[[noreturn]] void not_torch(const fs::path& path, const std::string& why) {
  throw Error(fmt::format("'{}' is not a readable torch.save file: {}", path.string(), why));
}

/// A torch.save zip archive read with libzip: records are "<archive>/<name>" (the top folder named after
/// the file), and every record is read whole, so libzip verifies it against the CRC-32 of the archive's
/// central directory (PyTorch's own reader, built with MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS, does not).
class TorchZip {
 public:
  explicit TorchZip(const fs::path& path) : path_(path) {
    int code = 0;
    zip_ = zip_open(path.string().c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!zip_) {
      zip_error_t error;
      zip_error_init_with_code(&error, code);
      const std::string why = zip_error_strerror(&error);
      zip_error_fini(&error);
      not_torch(path, "damaged or truncated zip archive (" + why + ")");
    }
    const char* first = zip_get_num_entries(zip_, 0) > 0 ? zip_get_name(zip_, 0, ZIP_FL_ENC_RAW) : nullptr;
    const char* slash = first ? std::strchr(first, '/') : nullptr;
    if (!slash) not_torch(path, "the zip archive has no top folder (not written by torch.save)");
    prefix_.assign(first, slash + 1);
  }
  ~TorchZip() { zip_discard(zip_); }
  TorchZip(const TorchZip&) = delete;
  TorchZip& operator=(const TorchZip&) = delete;

  bool has(const std::string& record) const { return locate(record) >= 0; }
  /// The record's size in bytes; not_torch when it is missing.
  uint64_t size(const std::string& record) const {
    zip_stat_t st;
    if (zip_stat_index(zip_, index(record), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      not_torch(path_, "zip record '" + record + "' is unreadable");
    // torch.save stores records uncompressed; a compressed one may expand, but weights hardly compress:
    // a record claiming far more bytes than the whole file is a damaged or hostile archive (zip bomb).
    std::error_code ec;
    const uint64_t file_size = fs::file_size(path_, ec);
    if (st.size > 8 * file_size + (uint64_t{64} << 20))
      not_torch(path_, fmt::format("zip record '{}' claims {} bytes in a {}-byte file", record, st.size, file_size));
    return st.size;
  }
  /// Reads the whole record into `out` (exactly `n` bytes, its size), verifying its CRC-32.
  void read(const std::string& record, void* out, uint64_t n) const {
    zip_file_t* f = zip_fopen_index(zip_, index(record), 0);
    if (!f) not_torch(path_, "zip record '" + record + "' cannot be opened (" + zip_strerror(zip_) + ")");
    uint64_t got = 0;
    zip_int64_t r = 0;
    char* dst = static_cast<char*>(out);
    while (got < n && (r = zip_fread(f, dst + got, n - got)) > 0) got += static_cast<uint64_t>(r);
    char extra = 0;  // reading past the end makes libzip compare the CRC-32
    if (r >= 0 && got == n) r = zip_fread(f, &extra, 1);
    const std::string why = r < 0 ? zip_file_strerror(f) : "";
    zip_fclose(f);
    if (r < 0)
      not_torch(path_, "zip record '" + record + "' is damaged (" + why + "); the file was corrupted in transfer or "
                "on disk: download it again");
    if (got != n || r != 0) not_torch(path_, "zip record '" + record + "' is not the size its header states");
  }
  std::string read(const std::string& record) const {
    std::string bytes(size(record), '\0');
    read(record, bytes.data(), bytes.size());
    return bytes;
  }

 private:
  zip_int64_t locate(const std::string& record) const {
    return zip_name_locate(zip_, (prefix_ + record).c_str(), ZIP_FL_ENC_RAW);
  }
  zip_uint64_t index(const std::string& record) const {
    const zip_int64_t i = locate(record);
    if (i < 0) not_torch(path_, "zip record '" + record + "' is missing");
    return static_cast<zip_uint64_t>(i);
  }
  fs::path path_;
  zip_t* zip_ = nullptr;
  std::string prefix_;
};

PickleValue read_zip(const fs::path& path) {
  const TorchZip zip(path);
  if (!zip.has("data.pkl")) not_torch(path, "the zip archive has no data.pkl record");
  if (zip.has("byteorder") && zip.read("byteorder") != "little")
    not_torch(path, "big-endian tensor data is not supported");
  StorageLoader loader = [&](const std::string& key, c10::ScalarType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    if (!zip.has(record)) not_torch(path, "storage record '" + record + "' is missing");
    const uint64_t nbytes = zip.size(record);
    uint64_t expected = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(numel), c10::elementSize(dtype), &expected) || nbytes != expected)
      not_torch(path, fmt::format("storage '{}' holds {} bytes, its tensors need {} x {}", record, nbytes, numel,
                                  c10::elementSize(dtype)));
    torch::Tensor storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    if (nbytes > 0) zip.read(record, storage.data_ptr(), nbytes);
    return storage;
  };
  const std::string pickle = zip.read("data.pkl");
  size_t pos = 0;
  return unpickle(pickle.data(), pickle.size(), pos, path.string(), loader);
}

PickleValue read_legacy(const fs::path& path) {
  const std::string bytes = core::read_file(path);
  const std::string src = path.string();
  size_t pos = 0;
  const PickleValue magic = unpickle(bytes.data(), bytes.size(), pos, src, {});
  if (magic.kind != PickleValue::Kind::kBigInt || magic.text != kLegacyMagic) not_torch(path, "wrong magic number");
  const PickleValue protocol = unpickle(bytes.data(), bytes.size(), pos, src, {});
  if (protocol.kind != PickleValue::Kind::kInt || protocol.integer != kLegacyProtocol)
    not_torch(path, "unsupported legacy protocol version " + protocol.describe());
  const PickleValue sys_info = unpickle(bytes.data(), bytes.size(), pos, src, {});
  if (sys_info.is_dict())
    for (const auto& [k, v] : *sys_info.entries)
      if (k.is_string() && k.text == "little_endian" && v.kind == PickleValue::Kind::kBool && !v.boolean)
        not_torch(path, "big-endian tensor data is not supported");
  // Storages are allocated while unpickling and filled from the raw section afterwards.
  std::map<std::string, torch::Tensor> storages;
  StorageLoader loader = [&](const std::string& key, c10::ScalarType dtype, int64_t numel) {
    // The storages' bytes follow in this file: a size beyond what is left of it is damage, not memory to allocate.
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(numel), c10::elementSize(dtype), &nbytes) ||
        nbytes > bytes.size() - pos)
      not_torch(path, fmt::format("storage '{}' claims {} elements, more than the file holds (truncated or damaged)",
                                  key, numel));
    torch::Tensor s = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    storages[key] = s;
    return s;
  };
  PickleValue root = unpickle(bytes.data(), bytes.size(), pos, src, loader);
  const PickleValue keys = unpickle(bytes.data(), bytes.size(), pos, src, {});
  if (keys.kind != PickleValue::Kind::kList) not_torch(path, "the storage key list is missing");
  for (const auto& k : *keys.items) {
    auto it = k.is_string() ? storages.find(k.text) : storages.end();
    if (it == storages.end()) not_torch(path, "the storage key list names an unknown storage");
    torch::Tensor& s = it->second;
    int64_t numel = 0;
    if (bytes.size() - pos < 8) not_torch(path, "truncated (storage '" + k.text + "' missing)");
    std::memcpy(&numel, bytes.data() + pos, 8);
    pos += 8;
    const size_t nbytes = s.numel() * s.element_size();
    if (numel != s.numel()) not_torch(path, fmt::format("storage '{}' has {} elements, expected {}", k.text, numel, s.numel()));
    if (bytes.size() - pos < nbytes) not_torch(path, "truncated (storage '" + k.text + "' is cut off)");
    std::memcpy(s.data_ptr(), bytes.data() + pos, nbytes);
    pos += nbytes;
  }
  if (storages.size() != keys.items->size()) not_torch(path, "some storages have no data");
  return root;
}
}  // namespace

std::string container_name(WeightContainer c) {
  switch (c) {
    case WeightContainer::kTorchZip: return "torch zip";
    case WeightContainer::kTorchLegacy: return "torch legacy";
    case WeightContainer::kSafetensors: return "safetensors";
    case WeightContainer::kSrlabCheckpoint: return "srlab checkpoint";
    case WeightContainer::kUnknown: break;
  }
  return "unknown";
}

void check_weight_path(const fs::path& path, const std::string& what) {
  std::error_code ec;
  core::require_path_kind(path, core::PathKind::kFile, what, true,
                          fs::is_directory(path, ec)
                              ? "pass the .pt file inside it (e.g. " + (path / "checkpoints" / "best.pt").string() + ")"
                              : "expected an SRLab checkpoint (.pt) or a .pth/.safetensors weight file");
}

WeightContainer sniff_weight_container(const fs::path& path) {
  check_weight_path(path, "weight file");
  const std::string head = read_prefix(path, 16);
  if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04", 4) == 0) {
    try {
      const TorchZip zip(path);
      if (zip.has("constants.pkl")) return WeightContainer::kSrlabCheckpoint;
      if (zip.has("data.pkl")) return WeightContainer::kTorchZip;
    } catch (const Error&) {
    }
    return WeightContainer::kUnknown;
  }
  if (is_legacy_prefix(head)) return WeightContainer::kTorchLegacy;
  // safetensors: the header is a JSON object; a file named .safetensors, or one whose JSON header starts
  // with something else ('[' ...), is read as safetensors too so that its reader names what is wrong.
  if (head.size() >= 9 && (head[8] == '{' || head[8] == '[')) return WeightContainer::kSafetensors;
  if (path.extension() == ".safetensors") return WeightContainer::kSafetensors;
  return WeightContainer::kUnknown;
}

PickleValue read_torch_file(const fs::path& path, WeightContainer* container) {
  check_weight_path(path, "weight file");
  const std::string head = read_prefix(path, 16);
  WeightContainer kind = WeightContainer::kUnknown;
  if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04", 4) == 0)
    kind = WeightContainer::kTorchZip;
  else if (is_legacy_prefix(head))
    kind = WeightContainer::kTorchLegacy;
  else
    not_torch(path, "neither a zip archive nor a legacy torch pickle");
  if (container) *container = kind;
  return kind == WeightContainer::kTorchZip ? read_zip(path) : read_legacy(path);
}

}  // namespace srlab::models
