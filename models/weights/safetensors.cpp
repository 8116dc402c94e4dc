#include "models/weights/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>
#include <vector>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"

namespace srlab::models {
namespace fs = std::filesystem;

namespace {
constexpr uint64_t kMaxHeader = 100'000'000;  // the format's own limit (100 MB)

/// dtype name -> (type as stored, kept integer type?); nullopt-like: kUndefined for unsupported.
c10::ScalarType stored_type(const std::string& dtype) {
  if (dtype == "F32") return c10::kFloat;
  if (dtype == "F16") return c10::kHalf;
  if (dtype == "BF16") return c10::kBFloat16;
  if (dtype == "F64") return c10::kDouble;
  if (dtype == "I64") return c10::kLong;
  if (dtype == "I32") return c10::kInt;
  return c10::ScalarType::Undefined;
}

/// One tensor's header entry, checked against the format's rules on its own (the buffer layout is
/// checked over all entries by check_layout).
struct TensorEntry {
  std::string name;
  std::string dtype;
  c10::ScalarType type = c10::ScalarType::Undefined;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

TensorEntry parse_entry(const std::string& file, const std::string& name, const nlohmann::json& info) {
  auto fail = [&](const std::string& what) {
    throw Error(fmt::format("safetensors file '{}': tensor '{}' {}", file, name, what));
  };
  if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() || !info.contains("shape") ||
      !info["shape"].is_array() || !info.contains("data_offsets") || !info["data_offsets"].is_array() ||
      info["data_offsets"].size() != 2)
    fail("needs \"dtype\" (string), \"shape\" (list) and \"data_offsets\" ([begin, end])");
  TensorEntry t;
  t.name = name;
  t.dtype = info["dtype"].get<std::string>();
  t.type = stored_type(t.dtype);
  if (t.type == c10::ScalarType::Undefined)
    fail("has dtype '" + t.dtype + "'; SRLab reads F32, F16, BF16, F64 (and I64/I32 index buffers)");
  uint64_t numel = 1;
  for (const auto& d : info["shape"]) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) fail("has a malformed shape");
    t.shape.push_back(d.get<int64_t>());
    if (__builtin_mul_overflow(numel, d.get<uint64_t>(), &numel))
      fail(fmt::format("has shape {} whose element count overflows 64 bits", info["shape"].dump()));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(c10::elementSize(t.type)), &nbytes) ||
      numel > static_cast<uint64_t>(INT64_MAX))
    fail(fmt::format("has shape {} whose byte size overflows 64 bits", info["shape"].dump()));
  const auto& off = info["data_offsets"];
  if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) fail("has malformed data_offsets");
  t.begin = off[0].get<uint64_t>();
  t.end = off[1].get<uint64_t>();
  if (t.begin > t.end) fail(fmt::format("has data_offsets [{}, {}] that end before they begin", t.begin, t.end));
  if (t.end - t.begin != nbytes)
    fail(fmt::format("has {} bytes of data but {} {} needs {}", t.end - t.begin, t.dtype,
                     c10::str(c10::IntArrayRef(t.shape)), nbytes));
  return t;
}

/// The format's layout rule (safetensors README "Format", enforced by the reference loader): the tensors'
/// byte ranges, in order of their offsets, tile the data buffer exactly: no gap, no overlap, nothing after.
void check_layout(const std::string& file, std::vector<const TensorEntry*> entries, uint64_t buffer_size) {
  std::sort(entries.begin(), entries.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = 0;
  const TensorEntry* previous = nullptr;
  for (const TensorEntry* t : entries) {
    if (t->begin < expected)
      throw Error(fmt::format("safetensors file '{}': tensors '{}' (data_offsets [{}, {}]) and '{}' ([{}, {}]) share "
                              "bytes; each tensor must have its own bytes, in order", file, previous->name,
                              previous->begin, previous->end, t->name, t->begin, t->end));
    if (t->begin > expected)
      throw Error(fmt::format("safetensors file '{}': {} unused bytes before tensor '{}' (data_offsets [{}, {}]); the "
                              "tensors must tile the data buffer without gaps", file, t->begin - expected, t->name,
                              t->begin, t->end));
    expected = t->end;
    previous = t;
  }
  if (expected > buffer_size)
    throw Error(fmt::format("safetensors file '{}': tensor '{}' has data_offsets [{}, {}] beyond the {}-byte data "
                            "buffer (truncated file?)", file, previous->name, previous->begin, previous->end,
                            buffer_size));
  if (expected < buffer_size)
    throw Error(fmt::format("safetensors file '{}': the data buffer has {} bytes but its tensors cover {}; the file "
                            "is damaged or has trailing data", file, buffer_size, expected));
}

/// Parses the header, refusing duplicate keys in any object (nlohmann::json would keep the last one
/// silently; a second entry of a name could then point at another tensor's bytes).
nlohmann::json parse_header(const std::string& file, const char* begin, const char* end) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) keys.emplace_back();
    if (event == E::object_end && !keys.empty()) keys.pop_back();
    if (event == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(begin, end, callback);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("safetensors file '{}': the header is not valid JSON ({})", file, e.what()));
  }
  if (!duplicate.empty())
    throw Error(fmt::format("safetensors file '{}': the header names '{}' twice; the file is damaged or forged", file,
                            duplicate));
  if (!header.is_object())
    throw Error(fmt::format("safetensors file '{}': the header is a JSON {}, expected an object of tensor entries",
                            file, header.type_name()));
  return header;
}
}  // namespace

SafetensorsContents read_safetensors(const fs::path& path) {
  const std::string bytes = core::read_file(path);
  const std::string file = path.string();
  if (bytes.size() < 8) throw Error("safetensors file '" + file + "' is truncated (no 8-byte header length)");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);  // little-endian hosts only (as LibTorch's own serialisation)
  if (n > bytes.size() - 8 || n > kMaxHeader)
    throw Error(fmt::format("safetensors file '{}': header length {} is beyond the file size ({} bytes): "
                            "truncated or not a safetensors file", file, n, bytes.size()));
  const nlohmann::json header = parse_header(file, bytes.data() + 8, bytes.data() + 8 + n);
  SafetensorsContents out;
  const char* buffer = bytes.data() + 8 + n;
  const uint64_t buffer_size = bytes.size() - 8 - n;
  std::vector<TensorEntry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const nlohmann::json& info = it.value();
    if (it.key() == "__metadata__") {
      if (!info.is_object()) throw Error("safetensors file '" + file + "': __metadata__ is not an object");
      for (auto m = info.begin(); m != info.end(); ++m)
        out.metadata[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
      continue;
    }
    entries.push_back(parse_entry(file, it.key(), info));
  }
  std::vector<const TensorEntry*> order;
  for (const auto& e : entries) order.push_back(&e);
  check_layout(file, order, buffer_size);
  for (const auto& e : entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.type));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), buffer + e.begin, e.end - e.begin);
    out.tensors[e.name] = c10::isFloatingType(e.type) && e.type != c10::kFloat ? t.to(torch::kFloat32) : t;
    out.dtypes[e.name] = e.dtype;
  }
  return out;
}

}  // namespace srlab::models
