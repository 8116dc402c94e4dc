#pragma once
// File-system helpers: atomic writes (temp file in the same folder + rename) so that an interrupted run
// never leaves a half-written checkpoint, report or image.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace srlab::core {

/// A temporary sibling path of `target` ("<target>.tmp.<pid>.<n>") on the same file system, so that
/// std::filesystem::rename onto `target` is atomic.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

/// Writes `content` to `target` atomically (temp file, flush, rename). Creates parent folders.
/// Throws srlab::Error naming the file when it cannot be written.
void write_file_atomic(const std::filesystem::path& target, std::string_view content);

/// Calls `writer(tmp)` to produce a file at a temporary path, then renames it onto `target`.
/// On any exception the temporary file is removed and the exception re-thrown; `target` is untouched.
void write_atomic_with(const std::filesystem::path& target,
                       const std::function<void(const std::filesystem::path& tmp)>& writer);

/// Reads a whole file; throws srlab::Error naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace srlab::core
