#include "models/weights/torch_file.h"

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>

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

PickleValue read_zip(const fs::path& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
  } catch (const c10::Error& e) {
    not_torch(path, "damaged or truncated zip archive");
  }
  if (!reader->hasRecord("data.pkl")) not_torch(path, "the zip archive has no data.pkl record");
  if (reader->hasRecord("byteorder")) {
    auto [ptr, n] = reader->getRecord("byteorder");
    if (std::string(static_cast<const char*>(ptr.get()), n) != "little")
      not_torch(path, "big-endian tensor data is not supported");
  }
  StorageLoader loader = [&](const std::string& key, c10::ScalarType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    if (!reader->hasRecord(record)) not_torch(path, "storage record '" + record + "' is missing");
    auto [ptr, nbytes] = reader->getRecord(record);
    const size_t expected = static_cast<size_t>(numel) * c10::elementSize(dtype);
    if (nbytes != expected)
      not_torch(path, fmt::format("storage '{}' holds {} bytes, its tensors need {}", record, nbytes, expected));
    auto owner = std::make_shared<at::DataPtr>(std::move(ptr));
    void* data = owner->get();
    if (numel == 0) return torch::empty({0}, torch::TensorOptions().dtype(dtype));
    return torch::from_blob(data, {numel}, [owner](void*) mutable { owner.reset(); },
                            torch::TensorOptions().dtype(dtype));
  };
  try {
    auto [ptr, n] = reader->getRecord("data.pkl");
    size_t pos = 0;
    return unpickle(static_cast<const char*>(ptr.get()), n, pos, path.string(), loader);
  } catch (const c10::Error& e) {
    not_torch(path, std::string("zip record unreadable (") + e.what_without_backtrace() + ")");
  }
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
  if (fs::is_directory(path, ec))
    throw Error(what + " '" + path.string() + "' is a folder; pass the .pt file inside it (e.g. " +
                (path / "checkpoints" / "best.pt").string() + ")");
  if (!fs::exists(path, ec))
    throw Error(what + " '" + path.string() + "' does not exist (expected an SRLab checkpoint (.pt) or a .pth/.safetensors "
                "weight file)");
  if (!fs::is_regular_file(path, ec))
    throw Error(what + " '" + path.string() + "' is not a regular file (a FIFO or device?); pass a weight file");
}

WeightContainer sniff_weight_container(const fs::path& path) {
  check_weight_path(path, "weight file");
  const std::string head = read_prefix(path, 16);
  if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04", 4) == 0) {
    try {
      caffe2::serialize::PyTorchStreamReader reader(path.string());
      if (reader.hasRecord("constants.pkl")) return WeightContainer::kSrlabCheckpoint;
      if (reader.hasRecord("data.pkl")) return WeightContainer::kTorchZip;
    } catch (const c10::Error&) {
    }
    return WeightContainer::kUnknown;
  }
  if (is_legacy_prefix(head)) return WeightContainer::kTorchLegacy;
  if (head.size() >= 9 && head[8] == '{') return WeightContainer::kSafetensors;
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
