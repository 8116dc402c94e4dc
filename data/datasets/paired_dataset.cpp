#include "data/datasets/paired_dataset.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <opencv2/core.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/runtime.h"
#include "data/datasets/hdf5_pairs.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"

namespace srlab::data {
namespace fs = std::filesystem;

namespace {

struct Loaded {
  torch::Tensor pixels;  // compact: uint8 (8-bit) or float32 (16-bit), (C,H,W) without alpha
  int bit_depth = 8;
  bool had_alpha = false;
};

Loaded load_compact(const fs::path& path) {
  const cv::Mat mat = read_mat(path);
  Loaded l;
  l.bit_depth = mat.depth() == CV_16U ? 16 : 8;
  torch::Tensor all = l.bit_depth == 8 ? mat_to_tensor_u8(mat) : mat_to_tensor(mat);
  const int64_t c = all.size(0);
  l.had_alpha = c == 2 || c == 4;
  l.pixels = l.had_alpha ? all.slice(0, 0, c - 1).contiguous() : all;
  return l;
}

std::string size_str(const torch::Tensor& t) {
  return std::to_string(t.size(-2)) + "x" + std::to_string(t.size(-1));
}

// Compact storage from a float [0,1] tensor that is already quantised to `bit_depth` levels.
torch::Tensor to_compact(const torch::Tensor& x, int bit_depth) {
  if (bit_depth == 8) return to_uint8(x);
  return x.to(torch::kFloat32).contiguous();
}

}  // namespace

torch::Tensor stored_to_float(const torch::Tensor& stored) {
  if (!stored.defined()) throw Error("stored_to_float: undefined tensor");
  // level / 255 in double, rounded once to float32: identical to read_image() and quantize().
  if (stored.scalar_type() == torch::kUInt8) return stored.to(torch::kFloat64).div_(255.0).to(torch::kFloat32);
  if (stored.scalar_type() == torch::kFloat32) return stored;
  throw Error("stored_to_float: expected uint8 or float32 storage, got " +
              std::string(c10::toString(stored.scalar_type())));
}

PairedImageDataset::PairedImageDataset(const PairedFolderOptions& options) : scale_(options.scale) {
  if (options.scale < 1) throw Error("paired dataset: scale must be an integer >= 1, got " + std::to_string(options.scale));
  if (options.hr_dirs.empty()) throw Error("paired dataset: no HR folder given (hr_dirs is empty)");
  if (!options.lr_dirs.empty() && options.lr_dirs.size() != options.hr_dirs.size())
    throw Error("paired dataset: " + std::to_string(options.lr_dirs.size()) + " LR folders for " +
                std::to_string(options.hr_dirs.size()) +
                " HR folders; give one LR folder per HR folder, or none to generate LR by bicubic downscaling");
  lr_generated_ = options.lr_dirs.empty();

  // Collect the file pairs (cheap, serial) so that errors about missing files come before decoding.
  for (size_t k = 0; k < options.hr_dirs.size(); ++k) {
    const auto hr_files = list_images(options.hr_dirs[k]);
    std::map<std::string, fs::path> lr_by_name, lr_by_stem;
    if (!lr_generated_) {
      for (const auto& p : list_images(options.lr_dirs[k])) {
        lr_by_name[p.filename().string()] = p;
        lr_by_stem.emplace(p.stem().string(), p);
      }
    }
    for (const auto& hr : hr_files) {
      Entry e;
      e.hr_path = hr;
      e.name = hr.stem().string();
      if (!lr_generated_) {
        auto it = lr_by_name.find(hr.filename().string());
        if (it == lr_by_name.end()) {
          it = lr_by_stem.find(e.name);
          if (it == lr_by_stem.end())
            throw Error("paired dataset: no LR image for HR '" + hr.string() + "' in '" + options.lr_dirs[k].string() +
                      "' (expected '" + (options.lr_dirs[k] / hr.filename()).string() + "')");
        }
        e.lr_path = it->second;
      }
      entries_.push_back(std::move(e));
    }
  }

  // Decode in parallel; each task fills its own entry, errors are re-thrown in file order.
  const int scale = scale_;
  const bool to_rgb_opt = options.to_rgb;
  std::vector<std::exception_ptr> errors(entries_.size());
  std::atomic<int> alpha_count{0};
  {
    const size_t threads = std::min<size_t>(entries_.size(), static_cast<size_t>(core::hardware_threads()));
    boost::asio::thread_pool pool(std::max<size_t>(1, threads));
    for (size_t i = 0; i < entries_.size(); ++i) {
      boost::asio::post(pool, [&, i] {
        try {
          torch::NoGradGuard no_grad;
          Entry& e = entries_[i];
          Loaded hr = load_compact(e.hr_path);
          if (hr.had_alpha) ++alpha_count;
          if (hr.pixels.size(1) < scale || hr.pixels.size(2) < scale)
            throw Error("HR image '" + e.hr_path.string() + "' (" + size_str(hr.pixels) +
                        ") is smaller than the scale " + std::to_string(scale));
          torch::Tensor hr_t = mod_crop(hr.pixels, scale).contiguous();
          torch::Tensor lr_t;
          if (lr_generated_) {
            // MATLAB imresize(HR, 1/scale, 'bicubic') on the integer image, as the benchmark LR files
            // were made (rounded to the HR's bit depth after each 1-D pass).
            lr_t = to_compact(imresize_integer(stored_to_float(hr_t), 1.0 / scale, hr.bit_depth), hr.bit_depth);
          } else {
            Loaded lr = load_compact(e.lr_path);
            if (lr.had_alpha) ++alpha_count;
            lr_t = lr.pixels;
            if (lr_t.size(1) * scale != hr_t.size(1) || lr_t.size(2) * scale != hr_t.size(2))
              throw Error("paired dataset: LR '" + e.lr_path.string() + "' is " + size_str(lr_t) + " but HR '" +
                          e.hr_path.string() + "' is " + size_str(hr.pixels) + " (" + size_str(hr_t) +
                          " after cropping to a multiple of " + std::to_string(scale) + "); LR x " +
                          std::to_string(scale) + " must equal the HR size — check the scale or the files");
            if (lr_t.scalar_type() != hr_t.scalar_type()) {  // mixed 8/16-bit pair: keep both as float
              lr_t = stored_to_float(lr_t).contiguous();
              hr_t = stored_to_float(hr_t).contiguous();
            }
          }
          if (to_rgb_opt) {
            lr_t = to_rgb(lr_t).contiguous();
            hr_t = to_rgb(hr_t).contiguous();
          } else if (lr_t.size(0) != hr_t.size(0)) {
            throw Error("paired dataset: LR '" + e.lr_path.string() + "' has " + std::to_string(lr_t.size(0)) +
                        " channel(s) but HR '" + e.hr_path.string() + "' has " + std::to_string(hr_t.size(0)) +
                        "; fix the files or enable to_rgb");
          }
          e.lr = lr_t;
          e.hr = hr_t;
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    pool.join();
  }
  for (const auto& err : errors)
    if (err) std::rethrow_exception(err);
  if (alpha_count > 0)
    core::log("warning: {} image file(s) under '{}' have an alpha channel; it is ignored (RGB/gray only)",
              alpha_count.load(), options.hr_dirs.front().string());
}

PairedImageDataset::PairedImageDataset(int scale, std::vector<StoredPair> pairs, bool lr_generated)
    : scale_(scale), lr_generated_(lr_generated) {
  if (scale < 1) throw Error("paired dataset: scale must be an integer >= 1, got " + std::to_string(scale));
  if (pairs.empty()) throw Error("paired dataset: no pairs given (the list of decoded pairs is empty)");
  entries_.reserve(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    StoredPair& p = pairs[i];
    const std::string who = "paired dataset: pair " + std::to_string(i) + " ('" + p.name + "', '" +
                            p.hr_path.string() + "')";
    for (const torch::Tensor* t : {&p.lr, &p.hr}) {
      const char* side = t == &p.lr ? "LR" : "HR";
      if (!t->defined()) throw Error(who + ": " + side + " tensor is undefined");
      if (!t->device().is_cpu()) throw Error(who + ": " + side + " tensor is not on the CPU");
      if (t->dim() != 3)
        throw Error(who + ": " + side + " tensor must be (C,H,W), got shape " + c10::str(t->sizes()));
      if (t->scalar_type() != torch::kUInt8 && t->scalar_type() != torch::kFloat32)
        throw Error(who + ": " + side + " tensor must be uint8 or float32, got " +
                    std::string(c10::toString(t->scalar_type())));
      if (t->size(0) != 1 && t->size(0) != 3)
        throw Error(who + ": " + side + " tensor must have 1 or 3 channels, got shape " + c10::str(t->sizes()));
      if (t->size(1) < 1 || t->size(2) < 1)
        throw Error(who + ": " + side + " tensor is empty, shape " + c10::str(t->sizes()));
    }
    if (p.lr.scalar_type() != p.hr.scalar_type())
      throw Error(who + ": LR is " + std::string(c10::toString(p.lr.scalar_type())) + " but HR is " +
                  std::string(c10::toString(p.hr.scalar_type())) + "; give both in the same storage dtype");
    if (p.lr.size(0) != p.hr.size(0))
      throw Error(who + ": LR has " + std::to_string(p.lr.size(0)) + " channel(s) but HR has " +
                  std::to_string(p.hr.size(0)) + "; replicate gray images with to_rgb() first");
    if (p.lr.size(1) * scale != p.hr.size(1) || p.lr.size(2) * scale != p.hr.size(2))
      throw Error(who + ": LR is " + size_str(p.lr) + " but HR is " + size_str(p.hr) + "; LR x " +
                  std::to_string(scale) + " must equal the HR size exactly — check the scale or crop HR with mod_crop()");
    Entry e;
    e.lr = p.lr.contiguous();
    e.hr = p.hr.contiguous();
    e.name = std::move(p.name);
    e.hr_path = std::move(p.hr_path);
    entries_.push_back(std::move(e));
  }
}

void PairedImageDataset::check_index(size_t i) const {
  if (i >= entries_.size())
    throw Error("paired dataset: index " + std::to_string(i) + " out of range (size " +
                std::to_string(entries_.size()) + ")");
}

Pair PairedImageDataset::get(size_t i) const {
  check_index(i);
  const Entry& e = entries_[i];
  return Pair{stored_to_float(e.lr).clone(), stored_to_float(e.hr).clone(), e.name};
}

Pair PairedImageDataset::get_stored(size_t i) const {
  check_index(i);
  const Entry& e = entries_[i];
  return Pair{e.lr, e.hr, e.name};
}

const std::string& PairedImageDataset::name(size_t i) const {
  check_index(i);
  return entries_[i].name;
}

const fs::path& PairedImageDataset::hr_path(size_t i) const {
  check_index(i);
  return entries_[i].hr_path;
}

int64_t PairedImageDataset::channels(size_t i) const {
  check_index(i);
  return entries_[i].hr.size(0);
}

PairedImageDataset concat_datasets(const std::vector<const PairedImageDataset*>& parts) {
  if (parts.empty()) throw Error("concat_datasets: no dataset given");
  std::vector<StoredPair> pairs;
  for (const PairedImageDataset* d : parts) {
    if (d->scale() != parts.front()->scale())
      throw Error("concat_datasets: scales differ (x" + std::to_string(d->scale()) + " and x" +
                  std::to_string(parts.front()->scale()) + ")");
    for (size_t i = 0; i < d->size(); ++i) {
      const Pair p = d->get_stored(i);
      pairs.push_back(StoredPair{p.lr, p.hr, p.name, d->hr_path(i)});
    }
  }
  return PairedImageDataset(parts.front()->scale(), std::move(pairs), false);
}

PairedImageDataset open_benchmark(const fs::path& dir, int scale, bool to_rgb) {
  std::error_code ec;
  if (fs::is_regular_file(dir, ec) && is_hdf5_file(dir)) {
    PairedImageDataset ds = open_hdf5_pairs(dir, to_rgb);
    if (ds.scale() != scale)
      throw Error("HDF5 pairs file '" + dir.string() + "' holds x" + std::to_string(ds.scale()) + " pairs, not x" +
                  std::to_string(scale) + "; pass --scale " + std::to_string(ds.scale()) + " or prepare it at x" +
                  std::to_string(scale));
    return ds;
  }
  core::require_path_kind(dir, core::PathKind::kFolder, "benchmark folder", true,
                          "expected a folder such as <data>/benchmarks/Set5/x4 (HR/ and LR/ inside, or HR images) or an "
                          "HDF5 pairs file (srlab prepare)");
  PairedFolderOptions o;
  o.scale = scale;
  o.to_rgb = to_rgb;
  if (fs::is_directory(dir / "HR", ec) && fs::is_directory(dir / "LR", ec)) {
    o.hr_dirs = {dir / "HR"};
    o.lr_dirs = {dir / "LR"};
    return PairedImageDataset(o);
  }
  bool has_images = false;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && is_image_file(entry.path())) has_images = true;
  if (!has_images)
    throw Error("benchmark folder '" + dir.string() +
                "' has neither HR/ and LR/ subfolders nor images; expected <set>/x<scale>/{HR,LR}/ or a folder of HR images");
  o.hr_dirs = {dir};
  return PairedImageDataset(o);
}

}  // namespace srlab::data
