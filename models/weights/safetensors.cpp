#include "models/weights/safetensors.h"

#include <fmt/format.h>

#include <cstring>
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

torch::Tensor read_tensor(const std::string& file, const std::string& name, const nlohmann::json& info,
                          const char* buffer, uint64_t buffer_size) {
  auto fail = [&](const std::string& what) {
    throw Error(fmt::format("safetensors file '{}': tensor '{}' {}", file, name, what));
  };
  if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() || !info.contains("shape") ||
      !info["shape"].is_array() || !info.contains("data_offsets") || !info["data_offsets"].is_array() ||
      info["data_offsets"].size() != 2)
    fail("needs \"dtype\" (string), \"shape\" (list) and \"data_offsets\" ([begin, end])");
  const std::string dtype = info["dtype"].get<std::string>();
  const c10::ScalarType type = stored_type(dtype);
  if (type == c10::ScalarType::Undefined)
    fail("has dtype '" + dtype + "'; SRLab reads F32, F16, BF16, F64 (and I64/I32 index buffers)");
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  for (const auto& d : info["shape"]) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 40)) fail("has a malformed shape");
    shape.push_back(d.get<int64_t>());
    numel *= d.get<uint64_t>();
  }
  const auto& off = info["data_offsets"];
  if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) fail("has malformed data_offsets");
  const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
  if (begin > end || end > buffer_size)
    fail(fmt::format("has data_offsets [{}, {}] outside the {}-byte data buffer (truncated file?)", begin, end,
                     buffer_size));
  if (end - begin != numel * c10::elementSize(type))
    fail(fmt::format("has {} bytes of data but {} {} needs {}", end - begin, dtype, c10::str(c10::IntArrayRef(shape)),
                     numel * c10::elementSize(type)));
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (numel > 0) std::memcpy(t.data_ptr(), buffer + begin, end - begin);
  return c10::isFloatingType(type) && type != c10::kFloat ? t.to(torch::kFloat32) : t;
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
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("safetensors file '{}': the header is not valid JSON ({})", file, e.what()));
  }
  if (!header.is_object()) throw Error("safetensors file '" + file + "': the header is not a JSON object");
  SafetensorsContents out;
  const char* buffer = bytes.data() + 8 + n;
  const uint64_t buffer_size = bytes.size() - 8 - n;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& info = it.value();
    if (name == "__metadata__") {
      if (!info.is_object()) throw Error("safetensors file '" + file + "': __metadata__ is not an object");
      for (auto m = info.begin(); m != info.end(); ++m)
        out.metadata[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
      continue;
    }
    out.tensors[name] = read_tensor(file, name, info, buffer, buffer_size);
    out.dtypes[name] = info["dtype"].get<std::string>();
  }
  return out;
}

}  // namespace srlab::models
