#include "data/image/image_io.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/fs.h"
#include "data/image/png_gray_alpha.h"

namespace srlab::data {
namespace fs = std::filesystem;

namespace {

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

bool starts_with(const std::string& bytes, const char* magic, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

uint32_t read_le32(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24);
}

// Structural completeness checks for the formats whose decoders may return a partly decoded image
// (with only a warning on stderr) instead of failing on a truncated file.
void check_not_truncated(const std::string& bytes, const fs::path& path) {
  const auto fail = [&](const std::string& why) {
    throw Error("image file '" + path.string() + "' is truncated or corrupt (" + why +
                "); re-download or re-export it");
  };
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8)) {
    // A complete PNG ends with the IEND chunk (allow a little trailing padding).
    const size_t tail = std::min<size_t>(bytes.size(), 64);
    if (bytes.find("IEND", bytes.size() - tail) == std::string::npos) fail("PNG without IEND chunk");
  } else if (starts_with(bytes, "\xFF\xD8", 2)) {
    // Entropy-coded data byte-stuffs 0xFF, so an end-of-image marker after the last start-of-scan
    // marker means the last scan was written completely (embedded EXIF thumbnails come earlier).
    const size_t sos = bytes.rfind("\xFF\xDA");
    const size_t eoi = bytes.rfind("\xFF\xD9");
    if (sos == std::string::npos || eoi == std::string::npos || eoi < sos)
      fail("JPEG without end-of-image marker after its last scan");
  } else if (starts_with(bytes, "RIFF", 4) && bytes.size() >= 12 && bytes.compare(8, 4, "WEBP") == 0) {
    if (static_cast<uint64_t>(read_le32(bytes, 4)) + 8 > bytes.size()) fail("WebP shorter than its RIFF size");
  } else if (starts_with(bytes, "BM", 2) && bytes.size() >= 14) {
    const uint32_t declared = read_le32(bytes, 2);
    if (declared > bytes.size()) fail("BMP shorter than its header's file size");
  }
}

// "W x H = N pixels " from a PNG header (IHDR), or "its declared size " for other formats.
std::string declared_size(const std::string& bytes) {
  if (bytes.size() >= 24 && starts_with(bytes, "\x89PNG", 4)) {
    auto be32 = [&](size_t o) {
      return (uint32_t(uint8_t(bytes[o])) << 24) | (uint32_t(uint8_t(bytes[o + 1])) << 16) |
             (uint32_t(uint8_t(bytes[o + 2])) << 8) | uint32_t(uint8_t(bytes[o + 3]));
    };
    const uint64_t w = be32(16), h = be32(20);
    return std::to_string(w) + "x" + std::to_string(h) + " = " + std::to_string(w * h) + " pixels ";
  }
  return "its declared size ";
}

// Channel order maps between OpenCV (BGR, BGRA) and SRLab (RGB, RGBA); gray(+alpha) unchanged.
std::vector<int64_t> channel_order(int channels) {
  switch (channels) {
    case 1: return {0};
    case 2: return {0, 1};
    case 3: return {2, 1, 0};
    case 4: return {2, 1, 0, 3};
    default: return {};
  }
}

torch::Tensor mat_view_hwc(const cv::Mat& mat, torch::ScalarType type) {
  cv::Mat m = mat.isContinuous() ? mat : mat.clone();
  return torch::from_blob(m.data, {m.rows, m.cols, m.channels()}, type).clone();
}

}  // namespace

bool is_image_file(const fs::path& path) {
  static const char* kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"};
  const std::string e = lower_ext(path);
  return std::any_of(std::begin(kExts), std::end(kExts), [&](const char* k) { return e == k; });
}

std::vector<fs::path> list_images(const fs::path& dir) {
  std::error_code ec;
  core::require_path_kind(dir, core::PathKind::kFolder, "image folder", true, "expected a folder of images");
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && is_image_file(entry.path())) out.push_back(entry.path());
  }
  if (ec) throw Error("cannot list folder '" + dir.string() + "': " + ec.message());
  if (out.empty())
    throw Error("folder '" + dir.string() +
                "' holds no images (png, jpg, jpeg, bmp, tif, tiff, webp, ppm, pgm); check the path");
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return out;
}

cv::Mat read_mat(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("image file '" + path.string() + "' does not exist; check the path");
  if (!fs::is_regular_file(path, ec)) throw Error("'" + path.string() + "' is not a regular file; expected an image");
  const std::string bytes = core::read_file(path);
  if (bytes.empty()) throw Error("image file '" + path.string() + "' is empty (0 bytes); re-create it");
  check_not_truncated(bytes, path);
  cv::Mat mat;
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    mat = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    const std::string what = e.what();
    if (what.find("CV_IO_MAX_IMAGE_PIXELS") != std::string::npos || what.find("validateInputImageSize") != std::string::npos)
      throw Error("image file '" + path.string() + "' is too large to decode: " + declared_size(bytes) +
                  "exceeds OpenCV's limit of " + std::to_string(1 << 30) +
                  " pixels; if the image is genuine, raise it with the environment variable "
                  "OPENCV_IO_MAX_IMAGE_PIXELS=<pixels>");
    throw Error("cannot decode image file '" + path.string() + "': " + what.substr(0, what.find('\n')));
  }
  if (mat.empty())
    throw Error("cannot decode image file '" + path.string() +
                "': unknown format or corrupt/truncated data; re-export it as PNG");
  if (mat.depth() != CV_8U && mat.depth() != CV_16U)
    throw Error("image file '" + path.string() +
                "' has an unsupported sample type (only 8- and 16-bit integer images are supported); "
                "convert it to 8/16-bit PNG");
  if (mat.channels() == 4 && is_gray_alpha_png(bytes)) {  // OpenCV expands gray+alpha to BGRA: undo it
    cv::Mat gray_alpha(mat.rows, mat.cols, CV_MAKETYPE(mat.depth(), 2));
    const int from_to[] = {0, 0, 3, 1};  // B (= G = R) -> gray, A -> alpha
    cv::mixChannels(&mat, 1, &gray_alpha, 1, from_to, 2);
    mat = gray_alpha;
  }
  if (mat.channels() < 1 || mat.channels() > 4)
    throw Error("image file '" + path.string() + "' has " + std::to_string(mat.channels()) +
                " channels; expected gray, gray+alpha, RGB or RGBA");
  return mat;
}

torch::Tensor mat_to_tensor(const cv::Mat& mat) {
  const auto order = channel_order(mat.channels());
  if (mat.empty() || order.empty()) throw Error("mat_to_tensor: expected a non-empty Mat with 1-4 channels");
  torch::Tensor hwc;
  double levels = 0.0;  // 0: float data, copied as is
  switch (mat.depth()) {
    case CV_8U: hwc = mat_view_hwc(mat, torch::kUInt8); levels = 255.0; break;
    case CV_16U: {
      cv::Mat m32;
      mat.convertTo(m32, CV_32S);  // exact; LibTorch 1.13 has no uint16
      hwc = mat_view_hwc(m32, torch::kInt32);
      levels = 65535.0;
      break;
    }
    case CV_32F: hwc = mat_view_hwc(mat, torch::kFloat32); break;
    default: throw Error("mat_to_tensor: unsupported Mat depth (use CV_8U, CV_16U or CV_32F)");
  }
  torch::Tensor chw = hwc.permute({2, 0, 1}).index_select(0, torch::tensor(order, torch::kLong));
  // level / L in double, then rounded once to float32 (the same value quantize() produces).
  if (levels > 0.0) chw = chw.to(torch::kFloat64).div_(levels).to(torch::kFloat32);
  return chw.contiguous();
}

torch::Tensor mat_to_tensor_u8(const cv::Mat& mat) {
  const auto order = channel_order(mat.channels());
  if (mat.empty() || order.empty() || mat.depth() != CV_8U)
    throw Error("mat_to_tensor_u8: expected a non-empty 8-bit Mat with 1-4 channels");
  return mat_view_hwc(mat, torch::kUInt8).permute({2, 0, 1}).index_select(0, torch::tensor(order, torch::kLong)).contiguous();
}

cv::Mat tensor_to_mat(const torch::Tensor& chw_in, int bit_depth) {
  if (bit_depth != 8 && bit_depth != 16)
    throw Error("tensor_to_mat: bit_depth must be 8 or 16, got " + std::to_string(bit_depth));
  if (!chw_in.defined() || chw_in.dim() != 3 || chw_in.size(0) < 1 || chw_in.size(0) > 4 || chw_in.size(1) < 1 ||
      chw_in.size(2) < 1)
    throw Error("tensor_to_mat: expected a (C,H,W) tensor with C in 1..4, got " +
                (chw_in.defined() ? "shape " + c10::str(chw_in.sizes()) : std::string("an undefined tensor")));
  torch::NoGradGuard no_grad;
  torch::Tensor chw = chw_in.detach().to(torch::kCPU);
  if (!chw.is_floating_point())
    throw Error("tensor_to_mat: expected a floating tensor with values in [0,1], got " +
                std::string(c10::toString(chw.scalar_type())) + " (divide integer images by 255 first)");
  if (torch::isnan(chw).any().item<bool>())
    throw Error("tensor_to_mat: image contains NaN values; refusing to write a wrong image");
  const double levels = bit_depth == 8 ? 255.0 : 65535.0;
  const int C = static_cast<int>(chw.size(0)), H = static_cast<int>(chw.size(1)), W = static_cast<int>(chw.size(2));
  // One channel at a time (bounded memory for large images): round half up in double, then to the
  // integer plane; the planes are merged in OpenCV's channel order.
  const std::vector<int64_t> order = channel_order(C);
  std::vector<cv::Mat> planes(C);
  for (int c = 0; c < C; ++c) {
    const torch::Tensor q =
        chw[order[c]].to(torch::kFloat64).clamp_(0.0, 1.0).mul_(levels).add_(0.5).floor_().to(torch::kInt32).contiguous();
    cv::Mat(H, W, CV_32S, const_cast<void*>(q.data_ptr())).convertTo(planes[c], bit_depth == 8 ? CV_8U : CV_16U);
  }
  cv::Mat out;
  cv::merge(planes, out);
  return out;
}

Image read_image(const fs::path& path) {
  const cv::Mat mat = read_mat(path);
  Image img;
  img.path = path.string();
  img.bit_depth = mat.depth() == CV_16U ? 16 : 8;
  torch::Tensor all = mat_to_tensor(mat);
  const int64_t c = all.size(0);
  if (c == 2 || c == 4) {
    img.pixels = all.slice(0, 0, c - 1).contiguous();
    img.alpha = all.slice(0, c - 1, c).contiguous();
  } else {
    img.pixels = all;
  }
  return img;
}

void write_image(const fs::path& path, const torch::Tensor& chw, int bit_depth, const torch::Tensor& alpha, int quality,
                 core::Existing existing) {
  const std::string where = "cannot write image '" + path.string() + "': ";
  const std::string ext = lower_ext(path);
  if (!is_image_file(path))
    throw Error(where + "unsupported extension '" + ext + "'; use .png, .jpg, .bmp, .tif, .webp or .ppm");
  if (bit_depth != 8 && bit_depth != 16) throw Error(where + "bit_depth must be 8 or 16, got " + std::to_string(bit_depth));
  if (bit_depth == 16 && !(ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".ppm" || ext == ".pgm"))
    throw Error(where + "16-bit output needs .png, .tif or .ppm/.pgm, not '" + ext + "'");
  if (!chw.defined() || chw.dim() != 3 || (chw.size(0) != 1 && chw.size(0) != 3) || chw.size(1) < 1 || chw.size(2) < 1)
    throw Error(where + "expected a (C,H,W) tensor with C = 1 or 3, got " +
                (chw.defined() ? "shape " + c10::str(chw.sizes()) : std::string("an undefined tensor")));
  if (!chw.is_floating_point() || (alpha.defined() && !alpha.is_floating_point()))
    throw Error(where + "expected floating tensors with values in [0,1], got " +
                std::string(c10::toString(chw.scalar_type())) + " (divide integer images by 255 first)");
  torch::Tensor full = chw;
  if (alpha.defined()) {
    if (!(ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".webp"))
      throw Error(where + "an alpha channel needs .png, .tif or .webp, not '" + ext + "'");
    torch::Tensor a = alpha.dim() == 2 ? alpha.unsqueeze(0) : alpha;
    if (a.dim() != 3 || a.size(0) != 1 || a.size(1) != chw.size(1) || a.size(2) != chw.size(2))
      throw Error(where + "alpha must be (1,H,W) or (H,W) matching the image " + c10::str(chw.sizes()) + ", got " +
                  c10::str(alpha.sizes()));
    const auto dtype = torch::promote_types(chw.scalar_type(), a.scalar_type());
    full = torch::cat({chw.detach().to(torch::kCPU, dtype), a.detach().to(torch::kCPU, dtype)}, 0);
  }
  cv::Mat mat;
  try {
    mat = tensor_to_mat(full, bit_depth);
  } catch (const Error& e) {
    throw Error(where + e.what());
  }
  std::vector<int> params;
  if (quality != -1) {
    const bool jpeg = ext == ".jpg" || ext == ".jpeg", webp = ext == ".webp";
    if (!jpeg && !webp) throw Error(where + "a quality setting applies to .jpg and .webp only, not '" + ext + "'");
    if (quality < 1 || quality > (webp ? 101 : 100))
      throw Error(where + "quality must be 1..100" + (webp ? std::string(" (101: lossless WebP)") : "") + ", got " +
                  std::to_string(quality));
    params = {jpeg ? cv::IMWRITE_JPEG_QUALITY : cv::IMWRITE_WEBP_QUALITY, quality};
  }
  std::vector<uchar> buf;
  try {
    if (mat.channels() == 2 && ext == ".png") {
      buf = encode_png_gray_alpha(mat);  // gray+alpha stays gray+alpha (OpenCV cannot write it)
    } else {
      if (mat.channels() == 2) {  // TIFF/WebP: stored as BGRA
        cv::Mat bgra(mat.rows, mat.cols, CV_MAKETYPE(mat.depth(), 4));
        const int from_to[] = {0, 0, 0, 1, 0, 2, 1, 3};
        cv::mixChannels(&mat, 1, &bgra, 1, from_to, 4);
        mat = bgra;
      }
      if (!cv::imencode(ext, mat, buf, params)) throw Error(where + "OpenCV could not encode it as '" + ext + "'");
    }
  } catch (const cv::Exception& e) {
    throw Error(where + "OpenCV encoder failed: " + e.what());
  }
  core::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()), existing);
}

torch::Tensor quantize(const torch::Tensor& x, int bit_depth) {
  if (bit_depth != 8 && bit_depth != 16)
    throw Error("quantize: bit_depth must be 8 or 16, got " + std::to_string(bit_depth));
  if (!x.defined() || !x.is_floating_point()) throw Error("quantize: expected a floating-point tensor");
  const double levels = bit_depth == 8 ? 255.0 : 65535.0;
  return x.to(torch::kFloat64).clamp(0.0, 1.0).mul(levels).add_(0.5).floor_().div_(levels).to(x.scalar_type());
}

torch::Tensor to_uint8(const torch::Tensor& x) {
  if (!x.defined() || !x.is_floating_point()) throw Error("to_uint8: expected a floating-point tensor");
  return x.to(torch::kFloat64).clamp(0.0, 1.0).mul(255.0).add_(0.5).floor_().to(torch::kUInt8).contiguous();
}

torch::Tensor to_rgb(const torch::Tensor& x) {
  if (!x.defined() || (x.dim() != 3 && x.dim() != 4))
    throw Error("to_rgb: expected a (C,H,W) or (N,C,H,W) tensor, got " +
                (x.defined() ? "shape " + c10::str(x.sizes()) : std::string("an undefined tensor")));
  const int64_t cdim = x.dim() - 3;
  if (x.size(cdim) == 3) return x;
  if (x.size(cdim) != 1) throw Error("to_rgb: expected 1 or 3 channels, got shape " + c10::str(x.sizes()));
  std::vector<int64_t> reps(static_cast<size_t>(x.dim()), 1);
  reps[static_cast<size_t>(cdim)] = 3;
  return x.repeat(reps);
}

}  // namespace srlab::data
