#pragma once
// Internal to data/datasets: the helpers shared by the HDF5 pairs writer (hdf5_pairs_writer.cpp) and
// reader (hdf5_pairs.cpp): the process-wide HDF5 lock with silent error capture, attribute I/O, the
// open-file handles and the file-format checks. Not part of the public API (data/datasets/hdf5_pairs.h).
#include <H5Cpp.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"

namespace srlab::data::hdf5_detail {

inline constexpr const char* kMakeOne = "make one with `srlab prepare`";
inline constexpr const char* kMakeAgain = "the file is corrupt or truncated; make it again with `srlab prepare`";

/// The process-wide HDF5 mutex (every HDF5 call is made holding it, through H5Guard).
std::mutex& h5_mutex();

/// Silences HDF5's error printing on this thread and starts recording the next failure for h5_detail().
void reset_error_capture();

// Holds the process-wide HDF5 mutex. HDF5's error printing is per thread (thread-safe build), so it is
// switched off (dontPrint) and replaced by a silent recorder (read by h5_detail) on every acquisition.
class H5Guard {
 public:
  H5Guard() : lock_(h5_mutex()) { reset_error_capture(); }

 private:
  std::lock_guard<std::mutex> lock_;
};

/// The recorded description of the first HDF5 failure since the H5Guard was taken ("" if none).
const std::string& last_h5_error();

/// "H5Fopen failed (unable to open file: truncated file: eof = ...)". Call with the H5Guard held.
std::string h5_detail(const H5::Exception& e);

/// Throws an H5::Exception (caught and reported with h5_detail by the callers).
[[noreturn]] void throw_h5(const std::string& func, const std::string& msg);

/// "'<path>'" for messages.
std::string quoted(const std::filesystem::path& p);

/// A sample index as a 6-digit, zero-padded group member name ("000042").
std::string index_name(int64_t i);

/// "3x128x128" for dataset dims; core::dims_text for a tensor.
std::string shape_str(const std::vector<hsize_t>& d);
std::string shape_str(const torch::Tensor& t);

// Closes `obj`; when HDF5 fails to close it (after a disk-full write), the C++ object is leaked on
// purpose: its destructor would call H5Fclose again on the half-closed file, which crashes HDF5 1.10
// inside H5F__close. The handle is released by the OS at exit.
template <typename T>
void close_quietly(std::unique_ptr<T>& obj) {
  if (!obj) return;
  try {
    obj->close();
  } catch (...) {
    (void)obj.release();
    return;
  }
  obj.reset();
}

// The HDF5 objects of an open pairs file, shared by the writer and the reader.
struct PairsHandles {
  std::unique_ptr<H5::H5File> file;
  std::unique_ptr<H5::DataSet> hr, lr, meta;      // hr/lr: patches layout only
  std::unique_ptr<H5::Group> hr_group, lr_group;  // images layout only

  // Closes every object, children before the file. Caller holds the H5Guard.
  void close_all() noexcept {
    close_quietly(hr);
    close_quietly(lr);
    close_quietly(meta);
    close_quietly(hr_group);
    close_quietly(lr_group);
    close_quietly(file);
  }
};

/// File access with HDF5's file locking kept, but not failing on file systems without locks.
H5::FileAccPropList file_access();

/// Variable-length UTF-8 string type (names, meta JSON).
H5::StrType utf8_vlen_type();

/// Writes the scalar string attribute `name`.
void write_string_attr(H5::H5Object& loc, const char* name, const std::string& value);

template <typename T>
void write_int_attr(H5::H5Object& loc, const char* name, const H5::PredType& file_type, const H5::PredType& mem_type,
                    T value) {
  H5::Attribute a = loc.createAttribute(name, file_type, H5::DataSpace(H5S_SCALAR));
  a.write(mem_type, &value);
}

/// Chunked (and, for deflate > 0, shuffled + deflated) pixel datasets with Fletcher-32 checksums.
H5::DSetCreatPropList pixel_plist(const std::vector<hsize_t>& chunk, int deflate);

/// A uint8 (C,H,W) CPU contiguous copy of `t` (1 or 3 channels), or srlab::Error saying what is wrong.
torch::Tensor checked_u8(const torch::Tensor& t, const char* side, const std::filesystem::path& path);

// ---- reading helpers (call with the H5Guard held) --------------------------------------------------

/// Error messages of one file: not an SRLab pairs file, or a corrupt one.
struct FileCtx {
  const std::filesystem::path& path;
  [[noreturn]] void not_ours(const std::string& what) const {
    throw Error("HDF5 file " + quoted(path) + " is not an SRLab pairs file (" + what + "); " + kMakeOne);
  }
  [[noreturn]] void bad(const std::string& what) const {
    throw Error("HDF5 pairs file " + quoted(path) + ": " + what + "; " + kMakeAgain);
  }
};

/// The scalar attribute `name` of class `cls`, or ctx.not_ours / ctx.bad.
H5::Attribute open_scalar_attr(const H5::H5Object& loc, const char* name, H5T_class_t cls, const FileCtx& ctx);
std::string read_string_attr(const H5::H5Object& loc, const char* name, const FileCtx& ctx);
int64_t read_int_attr(const H5::H5Object& loc, const char* name, const FileCtx& ctx);

/// True when `name` exists in `loc` and is an object of `kind` (group, dataset).
bool is_kind(const H5::H5Location& loc, const std::string& name, H5O_type_t kind);

/// Dims of a uint8 dataset of the given rank, or ctx.bad.
std::vector<hsize_t> u8_dims(const H5::DataSet& d, const std::string& what, int rank, const FileCtx& ctx);

}  // namespace srlab::data::hdf5_detail
