#pragma once
// Locating SRLab's shared data folder (benchmarks, training images, LPIPS weights) without absolute
// paths. Search order:
//   1. the environment variable SRLAB_DATA (must exist if set),
//   2. "<dir>/shared/data" and "<dir>/../shared/data" for <dir> = the current directory and each of its
//      parents, then the folder of the running executable and each of its parents.
// The usual layout is a checkout next to a read-only "shared/data" folder: <work>/main and <work>/shared.
#include <filesystem>
#include <string>
#include <vector>

namespace srlab::core {

/// The shared data folder; throws srlab::Error listing every place it looked when none holds a
/// README.md + benchmarks/ folder.
std::filesystem::path shared_data_dir();

/// Like shared_data_dir() but returns an empty path instead of throwing.
std::filesystem::path find_shared_data_dir();

/// The candidate folders shared_data_dir() tries, in order (for error messages and --help).
std::vector<std::filesystem::path> shared_data_candidates();

/// Expands "${data}" in a config/CLI path to shared_data_dir() (only looked up when present), e.g.
/// "${data}/benchmarks/Set5/x4". Other strings are returned unchanged.
std::string expand_data_path(const std::string& path);

/// The first existing `<dir>/relative` for <dir> = the folder of the running executable and each of
/// its parents (e.g. "share/srlab/onnx_run.mjs" finds <build>/share/srlab/ from <build>/bin/srlab and
/// <prefix>/share/srlab/ from an installed <prefix>/bin/srlab); an empty path when none exists.
std::filesystem::path find_near_executable(const std::filesystem::path& relative);

}  // namespace srlab::core
