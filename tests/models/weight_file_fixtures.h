#pragma once
// Helpers for the community weight-file tests: the interop fixtures of the shared data folder
// (<data>/interop/manifest.json: small models saved by the architectures' reference code, with a fixed
// input and the reference output as raw float32 (N,C,H,W) files) and hand-made pickle bytes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>

#include "core/fs.h"
#include "core/paths.h"
#include "tests/test_util.h"

namespace srlab::testing {

/// <data>/interop, or "" when there is no shared data folder.
inline std::filesystem::path interop_dir() {
  const auto d = core::find_shared_data_dir();
  return d.empty() ? std::filesystem::path() : d / "interop";
}

/// The parsed manifest.json; skips the test when the fixtures are missing.
inline nlohmann::json interop_manifest() {
  const auto dir = interop_dir();
  if (dir.empty() || !std::filesystem::exists(dir / "manifest.json")) return nlohmann::json();
  return nlohmann::json::parse(core::read_file(dir / "manifest.json"));
}

/// <data>/interop/zoo (issue 29: DAT, OmniSR, HAT, Real-CUGAN, RCAN, ATD, DRCT, RGT, MoSR), or "".
inline std::filesystem::path zoo_dir() {
  const auto d = interop_dir();
  return d.empty() ? std::filesystem::path() : d / "zoo";
}

/// The zoo manifest entry named `name` (e.g. "dat_x4_e24"), or null when the fixtures are missing.
inline nlohmann::json zoo_fixture(const std::string& name) {
  const auto dir = zoo_dir();
  if (dir.empty() || !std::filesystem::exists(dir / "manifest.json")) return nlohmann::json();
  const auto m = nlohmann::json::parse(core::read_file(dir / "manifest.json"));
  for (const auto& model : m["models"])
    if (model["name"] == name) return model;
  return nlohmann::json();
}

/// Reads a raw float32 little-endian file of the manifest `shape` ([N, C, H, W]).
inline torch::Tensor read_f32(const std::filesystem::path& file, const nlohmann::json& shape) {
  const std::string bytes = core::read_file(file);
  std::vector<int64_t> s = shape.get<std::vector<int64_t>>();
  torch::Tensor t = torch::empty(s, torch::kFloat32);
  EXPECT_EQ(static_cast<size_t>(t.numel()) * 4, bytes.size()) << file;
  std::memcpy(t.data_ptr(), bytes.data(), std::min<size_t>(bytes.size(), t.numel() * 4));
  return t;
}

/// The largest difference allowed between SRLab's float32 output and a fixture's reference output:
/// 1e-5 (the shared data's stated aim) for outputs in [0,1]-like ranges, scaled by the output's magnitude
/// beyond 1. The fixtures hold random weights, so some outputs reach |40| (SPAN), where one float32 ulp is
/// 3.8e-6 and a BLAS that sums in another order (OpenBLAS vs the reference BLAS the fixtures were made with)
/// moves the output by a few ulp; 1e-5 relative is still far below any mapping or architecture error.
inline double reference_tolerance(const torch::Tensor& ref) {
  return 1e-5 * std::max(1.0, ref.abs().max().item<double>());
}

/// Writes `bytes` to a file in this test process's temp folder (removed at exit).
inline std::filesystem::path write_temp(const std::string& name, const std::string& bytes) {
  const auto p = process_temp_dir() / ("srlab_wf_" + name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

// --- hand-made pickle bytes (protocol 2), as torch.save writes them ---
inline std::string pk_str(const std::string& s) {
  std::string out = "X";
  const uint32_t n = static_cast<uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + s;
}
inline std::string pk_int(uint8_t i) { return std::string("K") + static_cast<char>(i); }
/// _rebuild_tensor_v2 of a 1-D float tensor of `numel` elements held by storage `key`.
inline std::string pk_tensor(const std::string& key, uint8_t numel) {
  return "ctorch._utils\n_rebuild_tensor_v2\n((" + pk_str("storage") + "ctorch\nFloatStorage\n" + pk_str(key) +
         pk_str("cpu") + pk_int(numel) + "NtQ" + pk_int(0) + "(" + pk_int(numel) + "t(" + pk_int(1) +
         "t\x89" "ccollections\nOrderedDict\n)Rt" "R";
}
/// A legacy-format (pre-1.6) torch.save file: magic, protocol, sys_info, `object_pickle` (a complete
/// pickle, "\x80\x02 ... ."), the storage key list and the storages (float32 values per key).
inline std::string legacy_file(const std::string& object_pickle,
                               const std::vector<std::pair<std::string, std::vector<float>>>& storages) {
  std::string f = std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  f += std::string("\x80\x02M\xe9\x03.", 6);  // 1001
  f += "\x80\x02}(" + pk_str("little_endian") + "\x88u.";
  f += object_pickle;
  std::string keys = "\x80\x02](";
  for (const auto& s : storages) keys += pk_str(s.first);
  f += keys + "e.";
  for (const auto& s : storages) {
    const int64_t n = static_cast<int64_t>(s.second.size());
    f.append(reinterpret_cast<const char*>(&n), 8);
    f.append(reinterpret_cast<const char*>(s.second.data()), s.second.size() * 4);
  }
  return f;
}

}  // namespace srlab::testing
