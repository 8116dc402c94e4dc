#include "models/weights/safetensors_writer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/fs.h"

namespace srlab::models {

std::string safetensors_bytes(const StateDict& tensors, const std::map<std::string, std::string>& metadata,
                              const std::string& what) {
  if (tensors.empty()) throw Error(fmt::format("{}: no tensors to write", what));
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [key, value] : tensors) {  // std::map: sorted keys
    if (key.empty() || key == "__metadata__")
      throw Error(fmt::format("{}: invalid tensor name '{}'", what, key));
    if (!value.defined() || value.is_complex())
      throw Error(fmt::format("{}: tensor '{}' is undefined or complex; only real tensors are written as F32", what, key));
    torch::Tensor t = value.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const uint64_t end = offset + t.nbytes();
    header[key] = {{"dtype", "F32"}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, end}}};
    offset = end;
    data.push_back(std::move(t));
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<uint64_t>(json.size()) >> (8 * i)) & 0xff);
  out.reserve(8 + json.size() + offset);
  out += json;
  for (const torch::Tensor& t : data) out.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  return out;
}

void write_safetensors(const std::filesystem::path& file, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata) {
  core::write_file_atomic(file, safetensors_bytes(tensors, metadata, "cannot write '" + file.string() + "'"));
}

}  // namespace srlab::models
