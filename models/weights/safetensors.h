#pragma once
// Reading .safetensors files (Hugging Face's format, https://github.com/huggingface/safetensors,
// README "Format"): an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"k": "v", ...}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
// then the byte buffer; each tensor's bytes are buffer[b, e), little-endian, C order.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace srlab::models {

struct SafetensorsContents {
  std::map<std::string, torch::Tensor> tensors;  ///< name -> CPU tensor (float types as float32)
  std::map<std::string, std::string> dtypes;     ///< name -> dtype as stored ("F16", ...)
  std::map<std::string, std::string> metadata;   ///< the "__metadata__" string map (may be empty)
};

/// Reads every tensor of a .safetensors file. F32, F16, BF16 and F64 tensors are converted to float32;
/// I64 and I32 tensors (index buffers) keep their integer type.
/// The header is validated as the reference loader does (safetensors README "Format"): no duplicate keys,
/// each entry's dtype size x element count (overflow-checked) equals its byte span, and the byte spans,
/// ordered by offset, tile the data buffer exactly (no gap, no overlap, no trailing bytes).
/// @throws srlab::Error naming the file (and the tensor) for: a header length beyond the file size, a
///         header that is no JSON object or names a key twice, an unsupported dtype, a shape whose size
///         overflows, data_offsets that are malformed, out of the buffer, inconsistent with dtype x shape,
///         overlapping, leaving gaps or not covering the buffer.
SafetensorsContents read_safetensors(const std::filesystem::path& path);

}  // namespace srlab::models
