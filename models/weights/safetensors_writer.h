#pragma once
// Writing .safetensors weight files (Hugging Face safetensors format, reference: huggingface/safetensors,
// README "Format"): an 8-byte little-endian unsigned header length N, a UTF-8 JSON header of N bytes,
// then the raw tensor bytes. The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end)} (byte offsets relative to the start of the data, which is fully covered, without holes
// or overlaps) plus an optional "__metadata__" object of string -> string.
//
// SRLab writes float32 ("F32") tensors only, keys sorted (nlohmann::json's default object order), the
// tensors laid out in key order, and pads the header with spaces so that the data starts at an offset
// that is a multiple of 8 (as the reference implementation does).
#include <filesystem>
#include <map>
#include <string>

#include "models/arch/registry.h"

namespace srlab::models {

/// The complete file contents for `tensors` (each converted to contiguous float32 on the CPU) with
/// `metadata` as "__metadata__" (omitted when empty).
/// @throws srlab::Error (prefixed with `what`) when `tensors` is empty, a tensor is undefined or
///         complex, a key is empty or is "__metadata__".
std::string safetensors_bytes(const StateDict& tensors, const std::map<std::string, std::string>& metadata,
                              const std::string& what = "safetensors");

/// Writes safetensors_bytes(tensors, metadata) to `file` atomically (core/fs.h).
/// @throws srlab::Error naming `file` for the cases of safetensors_bytes or when it cannot be written.
void write_safetensors(const std::filesystem::path& file, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace srlab::models
