#include "data/datasets/prepare.h"

#include <ATen/Parallel.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <opencv2/core.hpp>

#include <chrono>
#include <deque>
#include <future>

#include "core/error.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "data/datasets/hdf5_pairs.h"
#include "data/image/image_io.h"
#include "data/datasets/transforms.h"

namespace srlab::data {

namespace fs = std::filesystem;

namespace {

struct Sample {
  torch::Tensor hr, lr;  // uint8 (C,H,W)
  std::string meta;
};

struct ImageResult {
  std::vector<Sample> samples;
  bool skipped = false;
  bool sixteen_bit = false;
};

ImageResult process_image(const PrepareOptions& o, const fs::path& file, int64_t image_index) {
  torch::NoGradGuard no_grad;
  ImageResult res;
  Image img = read_image(file);
  res.sixteen_bit = img.bit_depth == 16;
  const int64_t min_side = o.layout == "patches" ? o.patch_size : o.scale;
  if (img.pixels.size(1) < min_side || img.pixels.size(2) < min_side) {
    res.skipped = true;  // too small for one patch / one LR pixel: skipped with a warning, as the loader does
    return res;
  }
  // Patches share one (N,3,H,W) array: RGB. Whole images keep gray as 1 channel (scored on intensity).
  const torch::Tensor px = o.layout == "patches" ? to_rgb(img.pixels) : img.pixels;
  torch::Tensor hr = quantize(mod_crop(px, o.scale).contiguous(), 8);
  const int64_t H = hr.size(1), W = hr.size(2);
  std::vector<std::array<int64_t, 4>> boxes;  // x, y, w, h
  if (o.layout == "images") {
    boxes.push_back({0, 0, W, H});
  } else {
    for (int64_t y : patch_origins(H, o.patch_size, o.stride))
      for (int64_t x : patch_origins(W, o.patch_size, o.stride)) boxes.push_back({x, y, o.patch_size, o.patch_size});
    res.skipped = boxes.empty();
  }
  for (size_t b = 0; b < boxes.size(); ++b) {
    const auto [x, y, w, h] = boxes[b];
    const torch::Tensor crop = hr.slice(1, y, y + h).slice(2, x, x + w).contiguous();
    const int64_t index = image_index * (int64_t{1} << 20) + static_cast<int64_t>(b);
    DegradedSample d = o.degradation.apply(crop, o.scale, o.seed, index);
    nlohmann::json meta{{"source", file.string()}, {"crop", {x, y, w, h}}, {"degradation", std::move(d.params)}};
    res.samples.push_back(Sample{to_uint8(crop), to_uint8(d.lr), meta.dump()});
  }
  return res;
}

// Restores LibTorch's and OpenCV's thread counts on scope exit (prepare parallelises across images).
struct SerialKernels {
  int torch_threads = at::get_num_threads(), cv_threads = cv::getNumThreads();
  SerialKernels() {
    at::set_num_threads(1);
    cv::setNumThreads(1);
  }
  ~SerialKernels() {
    at::set_num_threads(torch_threads);
    cv::setNumThreads(cv_threads);
  }
};

}  // namespace

std::vector<int64_t> patch_origins(int64_t length, int patch, int stride) {
  std::vector<int64_t> out;
  if (patch < 1 || stride < 1 || length < patch) return out;
  for (int64_t p = 0; p + patch <= length; p += stride) out.push_back(p);
  if (out.back() + patch < length) out.push_back(length - patch);
  return out;
}

PrepareOptions PrepareOptions::from_config(const core::Config& cfg) {
  PrepareOptions o;
  if (!cfg.is_map()) throw Error("prepare config " + cfg.source() + ": expected a YAML mapping");
  const core::Config in = cfg.at("input");
  const std::vector<std::string> inputs =
      in.is_sequence() ? in.as<std::vector<std::string>>() : std::vector<std::string>{in.as<std::string>()};
  if (inputs.empty()) cfg.fail("input", "needs at least one folder of HR images");
  for (const auto& s : inputs) o.inputs.emplace_back(core::expand_data_path(s));
  o.output = core::expand_data_path(cfg.req<std::string>("output"));
  if (!is_hdf5_file(o.output) && o.output.extension() != ".h5" && o.output.extension() != ".hdf5")
    cfg.fail("output", "must end with .h5 or .hdf5");
  o.scale = cfg.req<int>("scale");
  if (o.scale < 1 || o.scale > 8) cfg.fail("scale", "must be an integer in 1..8");
  o.layout = cfg.get<std::string>("layout", o.layout);
  if (o.layout != "patches" && o.layout != "images") cfg.fail("layout", "must be 'patches' or 'images'");
  o.patch_size = cfg.get<int>("patch_size", o.patch_size);
  o.stride = cfg.get<int>("stride", o.stride);
  if (o.layout == "patches") {
    if (o.patch_size < o.scale || o.patch_size % o.scale != 0)
      cfg.fail("patch_size", "must be a positive multiple of the scale (" + std::to_string(o.scale) + ")");
    if (o.stride < 1) cfg.fail("stride", "must be >= 1");
  }
  o.seed = static_cast<uint64_t>(cfg.get<int64_t>("seed", 0));
  if (cfg.has("degradation")) o.degradation = Degradation::from_config_or_file(cfg.at("degradation"));
  o.compression = cfg.get<int>("compression", o.compression);
  if (o.compression < 0 || o.compression > 9) cfg.fail("compression", "deflate level must be in 0..9");
  o.threads = cfg.get<int>("threads", 0);
  if (o.threads < 0) cfg.fail("threads", "must be >= 0 (0 = all cores)");
  cfg.check_known();
  o.config_yaml = cfg.dump();
  return o;
}

PrepareStats prepare_pairs(const PrepareOptions& o, const std::function<void(int64_t, int64_t, int64_t)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<fs::path> files;
  for (const auto& dir : o.inputs)
    for (auto& f : list_images(dir)) files.push_back(std::move(f));
  const int64_t n = static_cast<int64_t>(files.size());

  Hdf5PairsWriter writer(o.output, o.scale, o.layout, o.config_yaml, o.compression, o.existing);
  PrepareStats stats;
  bool warned16 = false;
  {
    SerialKernels serial;
    const int threads = o.threads > 0 ? o.threads : core::hardware_threads();
    boost::asio::thread_pool pool(static_cast<size_t>(std::max(1, threads)));
    std::deque<std::future<ImageResult>> pending;
    int64_t submitted = 0;
    const int64_t window = 2 * std::max(1, threads);
    auto submit = [&] {
      while (submitted < n && static_cast<int64_t>(pending.size()) < window) {
        auto task = std::make_shared<std::packaged_task<ImageResult()>>(
            [&o, file = files[static_cast<size_t>(submitted)], i = submitted] {
              try {
                return process_image(o, file, i);
              } catch (const std::exception& e) {  // name the image (a degradation error does not)
                const std::string what = e.what();
                if (what.find(file.string()) != std::string::npos) throw;
                throw Error("prepare: image '" + file.string() + "': " + what);
              }
            });
        pending.push_back(task->get_future());
        boost::asio::post(pool, [task] { (*task)(); });
        ++submitted;
      }
    };
    try {
      submit();
      for (int64_t i = 0; i < n; ++i) {
        ImageResult r = pending.front().get();
        pending.pop_front();
        submit();
        if (r.sixteen_bit && !warned16) {
          core::log("prepare: 16-bit images are stored as 8-bit (e.g. '{}')", files[static_cast<size_t>(i)].string());
          warned16 = true;
        }
        if (r.skipped) {
          ++stats.skipped;
          core::log("prepare: skipping '{}': smaller than {} ({})", files[static_cast<size_t>(i)].string(),
                    o.layout == "patches" ? "patch_size = " + std::to_string(o.patch_size)
                                          : "the scale = " + std::to_string(o.scale),
                    "it gives no sample");
        } else {
          ++stats.images;
        }
        for (const auto& s : r.samples) writer.append(s.hr, s.lr, s.meta);
        stats.samples += static_cast<int64_t>(r.samples.size());
        if (progress) progress(i + 1, n, stats.samples);
      }
    } catch (...) {
      pool.stop();
      pool.join();
      throw;  // the writer's destructor removes the temporary file
    }
    pool.join();
  }
  if (stats.samples == 0)
    throw Error("prepare: no sample was produced: every image is smaller than patch_size = " +
                std::to_string(o.patch_size) + "; lower patch_size or use layout: images");
  writer.commit();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace srlab::data
