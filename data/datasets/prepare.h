#pragma once
// `srlab prepare`: turns folders of HR photos into an HDF5 file of aligned LR/HR pairs (hdf5_pairs.h),
// the LR made by a degradation pipeline (degradation.h). Either whole images (layout "images") or
// fixed-size HR patches cut with a stride (layout "patches", as BasicSR's extract_subimages.py does for
// DIV2K), all stored as uint8.
//
// Determinism: sample (image i, patch b) is degraded with index i * 2^20 + b and the config's seed, so
// the file's content does not depend on the thread count; `srlab degrade` previews the same draws.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/fs.h"
#include "data/degrade/degradation.h"

namespace srlab::data {

/// What to prepare. YAML (a file of its own; every path may use "${data}"):
///   input: ["${data}/train/T91", "${data}/train/BSD200"]   # HR image folders
///   output: datasets/train_x4_first_order.h5
///   scale: 4
///   layout: patches            # patches | images
///   patch_size: 128            # HR patch side (patches), a multiple of scale
///   stride: 64                 # HR stride between patches (patches)
///   seed: 0
///   degradation: {type: first_order}   # or the path of a file such as configs/degradations/first_order.yaml
///   compression: 3             # deflate level 0..9
///   threads: 0                 # 0 = all cores
struct PrepareOptions {
  std::vector<std::filesystem::path> inputs;
  std::filesystem::path output;
  int scale = 4;
  std::string layout = "patches";
  int patch_size = 128, stride = 64;
  uint64_t seed = 0;
  Degradation degradation = Degradation::parse("type: bicubic");
  int compression = 3;
  int threads = 0;
  std::string config_yaml;  ///< stored in the file's `config` attribute
  /// An existing `output` is replaced (library default) or kept (`srlab prepare` without --overwrite:
  /// srlab::Error before any work, and again atomically at the end). Not a config key.
  core::Existing existing = core::Existing::kReplace;

  /// Parses and validates a prepare config (all keys above; input and output required). Throws
  /// srlab::Error naming the file and key for unknown keys, wrong types and invalid values.
  static PrepareOptions from_config(const core::Config& cfg);
};

/// Figures of a finished run.
struct PrepareStats {
  int64_t images = 0;          ///< source images used
  int64_t skipped = 0;         ///< images smaller than the patch (patches) or the scale (images), each logged
  int64_t samples = 0;         ///< pairs written
  double seconds = 0.0;        ///< wall time
};

/// The HR patch origins (x, y) along one axis of length `length`: 0, stride, 2 stride, ... while the
/// patch fits, plus length - patch when the last one does not reach the end. Empty when length < patch.
std::vector<int64_t> patch_origins(int64_t length, int patch, int stride);

/// Builds the file: reads every image (8/16-bit, gray/RGB/alpha: converted to 8 bits, alpha dropped; gray
/// replicated to RGB in the patches layout, kept 1-channel in the images layout),
/// crops it to a multiple of the scale, cuts patches, degrades each sample and appends it with
/// metadata {"source", "crop": [x, y, w, h], "degradation": params} to a temporary file that is renamed
/// to `output` only when everything succeeded (an error or Ctrl-C leaves no partial dataset).
/// Images are processed in parallel (options.threads workers), written in input order. `progress` (if
/// set) is called after each image with (images done, total images, samples so far).
/// Throws srlab::Error naming the file for unreadable images, no usable image, or write failures.
PrepareStats prepare_pairs(const PrepareOptions& options,
                           const std::function<void(int64_t, int64_t, int64_t)>& progress = {});

}  // namespace srlab::data
