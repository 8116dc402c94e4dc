// srlab upscale --model CKPT|MODEL.onnx --input FILE|DIR --output FILE|DIR [--tile 512 --tile-pad 32]
//               [--outscale X] [--sharpen AMOUNT[,SIGMA]] [--format png|jpg|webp --quality Q]
#include <sys/resource.h>

#include <boost/program_options.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "data/image/image_io.h"
#include "deploy/onnx_method.h"
#include "deploy/upscale.h"
#include "models/weights/checkpoint.h"
#include "deploy/onnx_opencv.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace srlab::cli {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// --sharpen AMOUNT[,SIGMA]
eval::UnsharpOptions parse_sharpen(const std::string& text) {
  std::smatch m;
  static const std::regex re(R"(\s*([0-9]*\.?[0-9]+)\s*(?:,\s*([0-9]*\.?[0-9]+)\s*)?)");
  if (!std::regex_match(text, m, re))
    throw Error("--sharpen expects AMOUNT or AMOUNT,SIGMA (e.g. --sharpen 0.5 or --sharpen 0.8,1.5), got '" + text + "'");
  eval::UnsharpOptions u;
  u.amount = std::stod(m[1]);
  if (m[2].matched) u.sigma = std::stod(m[2]);
  if (u.sigma <= 0) throw Error("--sharpen: SIGMA must be > 0, got '" + text + "'");
  return u;
}

// The model by file type: .onnx -> ONNX Runtime in-process where built with it, else OpenCV DNN; anything else -> an SRLab checkpoint in LibTorch.
eval::UpscaleModel load_model(const fs::path& path, torch::Device device, const models::GeneratorLoadOptions& lo) {
  if (lower(path.extension().string()) != ".onnx")
    return eval::libtorch_model(models::load_generator(path, device, /*prefer_ema=*/true, lo), device);
  return eval::load_onnx_model(path);
}

// Refuses an output that cannot fit in memory before any work: the native passes' output and the final
// image (float32, C channels) plus its 8/16-bit encoding buffer.
void check_upscale_memory(const data::Image& img, const eval::UpscaleModel& model, double outscale,
                          const fs::path& src) {
  const int passes = outscale > 0 ? eval::upscale_passes(outscale, model.scale) : 1;
  const double native = std::pow(static_cast<double>(model.scale), passes);
  const double factor = outscale > 0 ? outscale : model.scale;
  const double c = static_cast<double>(img.pixels.size(0) + (img.alpha.defined() ? 1 : 0));
  const double h = static_cast<double>(img.pixels.size(1)), w = static_cast<double>(img.pixels.size(2));
  const double out_px = std::round(h * factor) * std::round(w * factor);
  const double bytes = c * (4.0 * (h * native * w * native + 2.0 * out_px) + 2.0 * out_px);
  core::check_memory_budget(static_cast<uint64_t>(std::min(bytes, 1.8e19)),
                            fmt::format("upscaling '{}' ({}x{}) to {:.0f}x{:.0f}", src.string(), w, h,
                                        std::round(w * factor), std::round(h * factor)),
                            "lower --outscale (--tile bounds the model's memory, not the output image's)");
}

double peak_rss_mib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux: KiB
}

// The (input, output) pairs of `srlab upscale`: one file, or every image of a folder; refuses outputs that
// would overwrite their input, or an existing file without --overwrite.
std::vector<std::pair<fs::path, fs::path>> upscale_jobs(const std::string& input, const std::string& output,
                                                        const std::string& format, bool overwrite) {
  std::error_code ec;
  const fs::path in_path = core::expand_data_path(input), out_path = output;
  if (!out_path.extension().empty() && !data::is_image_file(out_path) && !fs::is_directory(out_path, ec))
    throw Error("--output '" + output + "': unknown image extension '" + out_path.extension().string() +
                "'; use .png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff, .ppm or .pgm (or a folder name without an extension)");
  std::vector<std::pair<fs::path, fs::path>> jobs;
  if (fs::is_directory(in_path, ec)) {
    if (data::is_image_file(out_path))
      throw Error("--input is a folder, so --output must be a folder too, not the image file '" + output + "'");
    const std::string ext = format.empty() ? "png" : format;
    for (const fs::path& f : data::list_images(in_path)) jobs.push_back({f, out_path / (f.stem().string() + "." + ext)});
  } else {
    if (!fs::exists(in_path, ec)) throw Error("--input '" + in_path.string() + "' does not exist");
    if (data::is_image_file(out_path) && !fs::is_directory(out_path, ec)) {
      if (!format.empty() && lower(out_path.extension().string()) != "." + format &&
          !(format == "jpg" && lower(out_path.extension().string()) == ".jpeg"))
        throw Error("--format " + format + " contradicts the --output file name '" + output + "'");
      jobs.push_back({in_path, out_path});
    } else {
      jobs.push_back({in_path, out_path / (in_path.stem().string() + "." + (format.empty() ? "png" : format))});
    }
  }
  for (const auto& [src, dst] : jobs) {
    if (fs::exists(dst, ec) && fs::equivalent(src, dst, ec))
      throw Error("output '" + dst.string() + "' would overwrite its input; choose another --output");
    if (!overwrite && fs::exists(dst, ec))
      throw Error("output '" + dst.string() + "' exists; pass --overwrite to replace it");
  }
  return jobs;
}

// The bit depth to write `img` with into `dst` (16-bit into an 8-bit format: 8, with a warning); an alpha
// channel that `dst`'s format cannot store is an error.
int output_bit_depth(const data::Image& img, const fs::path& src, const fs::path& dst) {
  const std::string ext = lower(dst.extension().string());
  const bool lossy8 = ext == ".jpg" || ext == ".jpeg" || ext == ".webp" || ext == ".bmp";
  if (img.alpha.defined() && !(ext == ".png" || ext == ".webp" || ext == ".tif" || ext == ".tiff"))
    throw Error("'" + src.string() + "' has an alpha channel, which " + ext + " cannot store; use --format png or webp");
  if (img.bit_depth == 16 && lossy8) {
    core::log("upscale: warning: '{}' is 16-bit but {} stores 8 bits; writing 8-bit (use --format png to keep 16)",
              src.string(), ext);
    return 8;
  }
  return img.bit_depth;
}

}  // namespace

int cmd_upscale(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab upscale --model CKPT|MODEL.onnx --input FILE|DIR --output FILE|DIR [options]\n\n"
      "Upscales images with a trained generator: an SRLab checkpoint runs in LibTorch, an .onnx file (srlab\n"
      "export) in ONNX Runtime in-process (builds with libonnxruntime-dev) or else OpenCV DNN (`srlab --version`\n"
      "says which). Large images are processed in overlapping tiles (bounded memory, no seams). Gray images\n"
      "stay gray, 16-bit images stay 16-bit (PNG/TIFF), an alpha channel is upscaled with bicubic and\n"
      "re-attached. --outscale X gives any factor: native model passes (a x4 model: one pass up to\n"
      "x7.9, two for x8..x16), then a MATLAB-bicubic resize to the exact size round(X*H) x round(X*W).\n"
      "--sharpen applies an unsharp mask after upscaling. A folder input writes <output>/<name>.<format>.\n\n"
      "options");
  std::string model_path, input, output, format, sharpen, device_spec = "auto";
  int64_t tile = 512, tile_pad = 32;
  double outscale = 0;
  int quality = -1, threads = 0;
  bool overwrite = false;
  models::GeneratorLoadOptions load_options;
  opts.add_options()("help,h", "show this help")
      ("model,m", po::value(&model_path), "SRLab checkpoint (.pt), community weights (.pth/.safetensors: "
                                          "architecture detected) or ONNX model (.onnx)")
      ("model-option", po::value(&load_options.model_options)->composing(),
       "override a hyperparameter detected from a .pth/.safetensors file, key=value (repeatable)")
      ("input,i", po::value(&input), "image file or folder of images")
      ("output,o", po::value(&output), "output image file (for a file input) or folder")
      ("tile", ranged<int64_t>(&tile, "tile", 0, 1 << 16)->default_value(tile), "tile size in input pixels (0: whole image at once)")
      ("tile-pad", ranged<int64_t>(&tile_pad, "tile-pad", 0, 1 << 12)->default_value(tile_pad), "context pixels around each tile")
      ("outscale", ranged(&outscale, "outscale", 0.0, 64.0)->default_value(0), "overall upscaling factor (0: the model's scale)")
      ("sharpen", po::value(&sharpen), "unsharp mask after upscaling: AMOUNT[,SIGMA] (sigma in output pixels, default 1)")
      ("format", po::value(&format), "png | jpg | webp | tif (default: png, or the --output file's extension)")
      ("quality", po::value(&quality)->default_value(-1), "JPEG/WebP quality 1..100 (-1: codec default)")
      ("overwrite", po::bool_switch(&overwrite), "replace existing output files")
      ("device", po::value(&device_spec)->default_value(device_spec), "cpu | cuda | cuda:N | auto (checkpoints only)")
      ("threads", threads_option(&threads), "CPU threads (0 = all cores)");
  if (!parse_args(opts, args)) return 0;
  if (model_path.empty()) throw Error("--model is required (a checkpoint .pt from srlab train, or an .onnx from srlab export)");
  if (input.empty()) throw Error("--input FILE|DIR is required");
  if (output.empty()) throw Error("--output FILE|DIR is required");
  if (tile > 0 && tile < tile_pad)
    throw Error(fmt::format("--tile {} is smaller than --tile-pad {}: every tile would compute {}x its useful pixels; "
                            "use --tile >= {} (e.g. 512) or --tile 0 (whole image)",
                            tile, tile_pad, ((tile + 2 * tile_pad) * (tile + 2 * tile_pad)) / (tile * tile), tile_pad));
  format = lower(format);
  if (!format.empty() && format[0] == '.') format.erase(0, 1);
  if (!format.empty() && !data::is_image_file("x." + format))
    throw Error("--format '" + format + "' is not supported; use png, jpg, webp or tif");

  const std::vector<std::pair<fs::path, fs::path>> jobs = upscale_jobs(input, output, format, overwrite);

  core::configure_threads(threads);
  const torch::Device device = core::select_device(device_spec);
  const eval::UpscaleModel model = load_model(model_path, device, load_options);
  eval::UpscaleOptions uo;
  uo.tiles = {tile, tile_pad};
  uo.outscale = outscale;
  if (!sharpen.empty()) uo.sharpen = parse_sharpen(sharpen);
  core::log("upscale: {} image(s) with {} (x{}, {}), tile {} pad {}{}{}", jobs.size(), model_path, model.scale,
            model.runtime, tile, tile_pad, outscale > 0 ? fmt::format(", outscale {:g}", outscale) : "",
            uo.sharpen ? fmt::format(", sharpen {:g},{:g}", uo.sharpen->amount, uo.sharpen->sigma) : "");

  core::remove_stale_temps(jobs.front().second.parent_path());  // temp files of a killed earlier run
  core::InterruptScope interrupt;
  const auto t_all = std::chrono::steady_clock::now();
  int failed = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& [src, dst] = jobs[j];
    const std::string tag = jobs.size() > 1 ? fmt::format("[{}/{}] ", j + 1, jobs.size()) : "";
    try {
      const auto t0 = std::chrono::steady_clock::now();
      const data::Image img = data::read_image(src);
      check_upscale_memory(img, model, outscale, src);
      const int bit_depth = output_bit_depth(img, src, dst);
      auto last = std::chrono::steady_clock::now();
      uo.progress = [&](int64_t done, int64_t total) {
        if (core::interrupted()) throw Error("interrupted (Ctrl-C)");
        const auto now = std::chrono::steady_clock::now();
        if (total > 1 && (done == total || now - last > std::chrono::seconds(2))) {
          std::cerr << "\r" << tag << src.filename().string() << ": tile " << done << "/" << total << std::flush;
          if (done == total) std::cerr << "\n";
          last = now;
        }
      };
      const eval::UpscaleResult r = eval::upscale_image(img, model, uo);
      data::write_image(dst, r.pixels, bit_depth, r.alpha, quality, core::existing_policy(overwrite));
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << fmt::format("{}{} ({}x{}{}{}) -> {} ({}x{}, {} pass{}{}) in {:.2f} s\n", tag, src.string(),
                               img.pixels.size(2), img.pixels.size(1), img.pixels.size(0) == 1 ? " gray" : "",
                               img.alpha.defined() ? "+alpha" : "", dst.string(), r.pixels.size(2), r.pixels.size(1),
                               r.passes, r.passes == 1 ? "" : "es",
                               r.final_resize_h != 1 || r.final_resize_w != 1
                                   ? fmt::format(" + bicubic x{:.3g}", r.final_resize_w)
                                   : "",
                               sec);
    } catch (const Error& e) {
      if (core::interrupted()) throw Error(std::string(e.what()) + "; " + std::to_string(j) + " image(s) done");
      if (jobs.size() == 1) throw;
      std::cerr << "srlab upscale: error: " << e.what() << " (skipped)\n";
      ++failed;
    }
  }
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count();
  std::cout << fmt::format("upscaled {} of {} image(s) in {:.1f} s; peak memory (max RSS) {:.0f} MiB\n",
                           jobs.size() - failed, jobs.size(), sec, peak_rss_mib());
  if (failed) std::cerr << "srlab upscale: " << failed << " image(s) failed (see above)\n";
  return failed ? 1 : 0;
}

}  // namespace srlab::cli
