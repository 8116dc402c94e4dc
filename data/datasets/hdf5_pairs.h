#pragma once
// HDF5 stores of paired LR/HR super-resolution samples ("srlab-pairs-1"), so that a prepared data set
// (cropped patches or whole images, with their degradations already applied) is one file that loads
// without decoding thousands of PNGs.
//
// File layout "srlab-pairs-1" (all pixel data uint8, channel order RGB, C = 1 or 3):
//   root attributes  format  string  "srlab-pairs-1"
//                    scale   int32   SR factor s >= 1
//                    layout  string  "patches" or "images"
//                    config  string  resolved YAML of the run that made the file (may be empty)
//                    count   int64   number of samples N (written by commit(); a file without it is incomplete)
//   layout "patches" (every sample the same size):
//     hr    uint8 (N,C,H,W)      extendible along N, one sample per chunk, shuffle + deflate + Fletcher-32
//     lr    uint8 (N,C,H/s,W/s)  same
//   layout "images" (sizes may differ per sample):
//     hr/   group of uint8 (C,H,W) datasets, one per sample, named by the zero-padded index ("000000",
//           at least 6 digits), chunked C x min(H,128) x min(W,128), shuffle + deflate + Fletcher-32
//     lr/   same names, uint8 (C,H/s,W/s)
//   meta   1-D variable-length UTF-8 strings (N), one JSON document per sample (extendible, chunked);
//          typical keys: "source" (source file), crop box, degradation parameters.
//
// All HDF5 calls of the process are serialised by one mutex (the library is built thread-safe, but its
// C++ wrapper objects are not meant for concurrent use), so readers/writers may be used from any thread.
// HDF5's own error-stack printing is switched off; HDF5 failures surface as srlab::Error naming the file.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/fs.h"
#include "data/datasets/paired_dataset.h"
#include "data/datasets/transforms.h"

namespace srlab::data {

/// The value of the root attribute `format` of an SRLab pairs file.
inline constexpr const char* kHdf5PairsFormat = "srlab-pairs-1";

/// The root attributes of a pairs file.
struct Hdf5PairsInfo {
  int scale = 0;        ///< SR factor (>= 1)
  std::string layout;   ///< "patches" or "images"
  std::string config;   ///< resolved YAML of the run that made the file (may be empty)
  int64_t count = 0;    ///< number of samples
};

/// Writes a pairs file. Everything goes to a temporary sibling "<path>.tmp.<pid>.<n>" (core::temp_path_for;
/// stale ones of dead processes in the folder are removed first, core::remove_stale_temps); commit()
/// writes `count`, closes the file, fsyncs it and moves it onto `path` (core::publish_temp: readers see
/// either the old file or the complete new one). Destroying the writer without commit() closes and
/// deletes the temporary file (never throws, also after a disk-full failure), so an interrupted run
/// leaves nothing behind. Not copyable; movable.
class Hdf5PairsWriter {
 public:
  /// Creates the temporary file (and the parent folders of `path`) and writes the root attributes.
  /// layout: "patches" (all samples the same size; shape fixed by the first append()) or "images".
  /// deflate: zlib level 0..9 (0 = no shuffle/deflate, Fletcher-32 checksums are always on).
  /// Throws srlab::Error when scale < 1, layout or deflate is invalid, or the file cannot be created
  /// (names the file and the HDF5 detail), or when `path` exists and `existing` is kKeep ("... exists;
  /// pass --overwrite"; checked again atomically by commit()).
  Hdf5PairsWriter(std::filesystem::path path, int scale, std::string layout, std::string config_yaml,
                  int deflate = 3, core::Existing existing = core::Existing::kReplace);
  ~Hdf5PairsWriter();
  Hdf5PairsWriter(Hdf5PairsWriter&&) noexcept;
  Hdf5PairsWriter& operator=(Hdf5PairsWriter&&) noexcept;
  Hdf5PairsWriter(const Hdf5PairsWriter&) = delete;
  Hdf5PairsWriter& operator=(const Hdf5PairsWriter&) = delete;

  /// Appends sample size() as index i. hr_u8: uint8 (C,H,W), lr_u8: uint8 (C,H/scale,W/scale), C = 1 or
  /// 3 (RGB), same C for both, H,W >= 1; any device (copied to the CPU). meta_json: one JSON document
  /// (checked with nlohmann::json::parse, stored verbatim; "" is stored as "{}").
  /// Throws srlab::Error (the writer stays usable) when a tensor is undefined, not uint8, not 3-D, has
  /// another channel count, LR x scale != HR size, (patches layout) its size differs from the first
  /// sample's, or meta_json is not valid JSON; and when called after commit(). An HDF5 write failure
  /// (e.g. disk full) throws srlab::Error "failed writing 'path' (disk full?): ..." and leaves the writer
  /// unusable (destroy it; nothing is kept).
  void append(const torch::Tensor& hr_u8, const torch::Tensor& lr_u8, const std::string& meta_json);

  /// Number of samples appended so far.
  int64_t size() const;

  /// Final path (not the temporary one).
  const std::filesystem::path& path() const;

  /// Writes `count`, closes and fsyncs the temporary file and renames it onto path() (replacing an
  /// existing file). After it the file is complete and the writer accepts no more calls.
  /// Throws srlab::Error when nothing was appended (an empty pairs file is useless), when called twice
  /// or after a failed append(), or on HDF5/rename failure (the temporary file is then removed).
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads a pairs file; validates it completely on construction (except the per-sample datasets of the
/// "images" layout, which read() checks). Safe for concurrent const use (calls are serialised). Not
/// copyable; movable.
class Hdf5PairsReader {
 public:
  /// Opens `path` read-only. Throws srlab::Error naming the file when it is missing or not a regular
  /// file; is not an HDF5 file (no signature), or is corrupt/truncated (with HDF5's detail); has no or a
  /// wrong `format` attribute or lacks the `hr`/`lr`/`meta` objects ("not an SRLab pairs file; make one
  /// with `srlab prepare`"); has missing/ill-typed attributes (scale < 1, unknown layout, no count);
  /// or (patches layout) datasets of another dtype than uint8, another rank than 4, C not 1 or 3,
  /// LR x scale != HR size, or sample counts that disagree with `count`.
  explicit Hdf5PairsReader(const std::filesystem::path& path);
  ~Hdf5PairsReader();
  Hdf5PairsReader(Hdf5PairsReader&&) noexcept;
  Hdf5PairsReader& operator=(Hdf5PairsReader&&) noexcept;
  Hdf5PairsReader(const Hdf5PairsReader&) = delete;
  Hdf5PairsReader& operator=(const Hdf5PairsReader&) = delete;

  /// Root attributes.
  const Hdf5PairsInfo& info() const;
  /// Number of samples (== info().count).
  int64_t size() const;
  /// The file read.
  const std::filesystem::path& path() const;

  /// Sample i as stored: lr uint8 (C,h,w), hr uint8 (C,h*scale,w*scale), fresh contiguous CPU tensors.
  /// name: the stem of the meta "source" key when present ("images" layout), "<stem>_<i>" ("patches"
  /// layout, where many samples share a source), else "sample_<i>".
  /// Throws srlab::Error naming the file when i is out of range, a sample dataset is missing or has a
  /// wrong dtype/rank/channel count/size, or the data cannot be read (corrupt chunk, checksum mismatch).
  Pair read(int64_t i) const;

  /// The JSON text stored for sample i. Throws srlab::Error when i is out of range or on read failure.
  std::string meta(int64_t i) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when `path` has the extension .h5 or .hdf5 (case-insensitive; the file need not exist), or is
/// an existing file starting with the HDF5 signature (at offset 0 or a user-block offset 512, 1024, ...).
/// Never throws.
bool is_hdf5_file(const std::filesystem::path& path);

/// Loads every sample of a pairs file into memory as a PairedImageDataset with uint8 compact storage
/// (get() gives float32 values / 255). to_rgb replicates 1-channel samples to 3 channels. Names as
/// Hdf5PairsReader::read(); hr_path(i) is "<path>#<i>"; lr_generated() is false.
/// Throws srlab::Error as Hdf5PairsReader (constructor and read()), or when the file holds no sample.
PairedImageDataset open_hdf5_pairs(const std::filesystem::path& path, bool to_rgb = true);

}  // namespace srlab::data
