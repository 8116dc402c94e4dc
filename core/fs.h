#pragma once
// File-system helpers: the one write path of SRLab. Every output (checkpoint, HDF5 dataset, image, ONNX
// model, report) is produced in a temporary sibling "<target>.tmp.<pid>.<n>", fsynced, then moved onto
// the target (rename, or link when existing files must be kept), so an interrupted or failed run never
// leaves a half-written file. Write errors (ENOSPC, EIO, ...) from any writer (our own byte sink,
// LibTorch's archive writer, HDF5, OpenCV) become srlab::Error "failed writing 'X' (disk full?): ..."
// and the temporary file is removed. Temporary files of dead processes are removed by
// remove_stale_temps() on the next run.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace srlab::core {

/// What to do when the target already exists.
enum class Existing {
  kReplace,  ///< replace it atomically (rename)
  kKeep,     ///< throw srlab::Error ("... exists; pass --overwrite ...") before writing; the final move is
             ///< link(2)-based, so a file created meanwhile by another process is never replaced either
};

/// The policy of the CLI flag --overwrite: kReplace when given, else kKeep.
inline Existing existing_policy(bool overwrite) { return overwrite ? Existing::kReplace : Existing::kKeep; }

/// A temporary sibling path of `target` ("<target>.tmp.<pid>.<n>") on the same file system, so that
/// moving it onto `target` is atomic.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

/// What a command expects a path to be.
enum class PathKind { kFile, kFolder };

/// The one path-kind check of every command. When `path` exists it must be of kind `expected` (after
/// following symlinks); when it is missing, throws only if `must_exist`.
/// @param what  how the command names the path in messages ("output", "benchmark folder (-d)", ...)
/// @param hint  appended to the message after "; " (e.g. "pass the .pt file inside it"); may be empty
/// @throws srlab::Error "<what> 'p' is a folder; expected a file", "... is a file; expected a folder",
///         "... is a FIFO (named pipe)/socket/device ..., not a regular file" or "... does not exist".
void require_path_kind(const std::filesystem::path& path, PathKind expected, const std::string& what,
                       bool must_exist = false, const std::string& hint = "");

/// Creates the output folder `dir` (and its parents). Throws srlab::Error "<what> 'dir' is a file;
/// expected a folder" when a non-folder is in the way, or naming the OS error when it cannot be created.
void create_output_folder(const std::filesystem::path& dir, const std::string& what);

/// Throws srlab::Error "output 'X' is a folder; expected a file" when `target` is a folder (whatever
/// `existing` says), and "output 'X' already exists; pass --overwrite to replace it" when `target`
/// exists and `existing` is kKeep.
void check_output_free(const std::filesystem::path& target, Existing existing);

/// A byte sink handed to producers: writes n bytes and returns n. It never throws and never reports a
/// short write to its caller (LibTorch's archive writer aborts the process when a write fails inside
/// its destructor); the first OS error is remembered and reported by the write function afterwards.
using ByteSink = std::function<size_t(const void* data, size_t n)>;

/// Writes a file atomically through a ByteSink: `producer(sink)` streams the bytes into a temporary
/// sibling, which is then fsynced and moved onto `target`. Creates parent folders.
/// Throws srlab::Error "failed writing 'target' (disk full?): <OS error>" on any write/fsync/close
/// error, "output ... exists" per `existing`; re-throws the producer's own exceptions (non-SRLab ones
/// wrapped as a write failure). The temporary file is removed on every failure.
void write_atomic_stream(const std::filesystem::path& target, const std::function<void(const ByteSink&)>& producer,
                         Existing existing = Existing::kReplace);

/// Writes `content` to `target` atomically (see write_atomic_stream).
void write_file_atomic(const std::filesystem::path& target, std::string_view content,
                       Existing existing = Existing::kReplace);

/// Calls `writer(tmp)` to produce a file at a temporary path (for libraries that open files by name:
/// HDF5, gnuplot), then fsyncs and moves it onto `target` (publish_temp). On any exception the temporary
/// file is removed; srlab::Error is re-thrown as is, any other exception (cv::Exception, c10::Error,
/// H5::Exception derived from std::exception) becomes "failed writing 'target' (disk full?): <what>".
void write_atomic_with(const std::filesystem::path& target,
                       const std::function<void(const std::filesystem::path& tmp)>& writer,
                       Existing existing = Existing::kReplace);

/// Fsyncs the finished temporary file `tmp` and moves it onto `target`: rename(2) for kReplace,
/// link(2) + unlink for kKeep (fails with "... exists" when `target` appeared meanwhile; falls back to
/// an existence check + rename on file systems without hard links). Does not remove `tmp` on failure.
/// Throws srlab::Error "failed writing 'target' ..." on fsync errors, or naming both paths on move errors.
void publish_temp(const std::filesystem::path& tmp, const std::filesystem::path& target, Existing existing);

/// The message of a failed write: "failed writing 'target' (disk full?): detail" (detail trimmed to
/// its first line, e.g. LibTorch's backtrace dropped).
std::string write_failure_message(const std::filesystem::path& target, const std::string& detail);

/// Removes the temporary files ("<name>.tmp.<pid>.<n>", and HDF5's older "<name>.tmp-<pid>-<n>") in
/// `folder` (not recursive) whose process <pid> no longer runs, logging each one with its size.
/// Files of live processes (other runs) are kept. Returns the paths removed. Never throws (a missing
/// folder gives an empty list).
std::vector<std::filesystem::path> remove_stale_temps(const std::filesystem::path& folder);

/// Reads a whole file; throws srlab::Error naming the file when it cannot be read or is not a regular
/// file (a FIFO or device would block or never end).
std::string read_file(const std::filesystem::path& path);

/// Throws srlab::Error "'path' (what) is a folder/FIFO/device..., not a regular file" unless `path` is
/// missing (nothing thrown: the caller reports that) or a regular file (after following symlinks).
void require_regular_file_if_exists(const std::filesystem::path& path, const std::string& what);

}  // namespace srlab::core
