#include "eval/image_folder_method.h"

#include <fmt/format.h>

#include <system_error>

#include "core/error.h"
#include "data/image/image_io.h"

namespace srlab::eval {
namespace fs = std::filesystem;
namespace {

// dir/<name>.<ext> for the first image extension that exists (exact-case extensions first, then upper).
fs::path find_sr_file(const fs::path& dir, const std::string& name) {
  static const char* kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"};
  std::error_code ec;
  for (const char* e : kExts) {
    const fs::path p = dir / (name + e);
    if (fs::is_regular_file(p, ec)) return p;
  }
  // Any other case of the extension (e.g. "baby.PNG").
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().stem() == name && data::is_image_file(entry.path()) && entry.is_regular_file(ec))
      return entry.path();
  throw Error(fmt::format("method '{}': no SR image for '{}' (looked for {}/{}.png, .jpg, ... ); the folder must "
                          "hold one image per HR file, named like it",
                          dir.string(), name, dir.string(), name));
}

torch::Tensor match_channels(torch::Tensor sr, int64_t channels) {
  if (sr.size(0) == channels) return sr;
  if (channels == 1) return sr.mean(0, /*keepdim=*/true);
  return sr.expand({3, sr.size(1), sr.size(2)}).contiguous();
}

}  // namespace

Method image_folder_method(const fs::path& dir, int scale) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(fmt::format("method '{}': not a folder of SR images", dir.string()));
  if (scale < 1) throw Error(fmt::format("method '{}': scale is {}; it must be >= 1", dir.string(), scale));
  Method m;
  fs::path last = dir.lexically_normal();
  if (last.filename().empty()) last = last.parent_path();
  m.name = last.filename().string();
  m.upscale_image = [dir, scale](const std::string& name, const torch::Tensor& lr) {
    const fs::path file = find_sr_file(dir, name);
    const data::Image img = data::read_image(file);
    const int64_t h = lr.size(-2) * scale, w = lr.size(-1) * scale;
    if (img.pixels.size(1) != h || img.pixels.size(2) != w)
      throw Error(fmt::format("SR image '{}' is {}x{} (WxH) but the HR image '{}' is {}x{} (scale {} x the LR "
                              "{}x{}); write the SR images at exactly the HR size",
                              file.string(), img.pixels.size(2), img.pixels.size(1), name, w, h, scale,
                              lr.size(-1), lr.size(-2)));
    return match_channels(img.pixels, lr.size(0));
  };
  return m;
}

}  // namespace srlab::eval
