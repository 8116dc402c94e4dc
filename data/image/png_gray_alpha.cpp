#include "data/image/png_gray_alpha.h"

#include <png.h>

#include <csetjmp>
#include <cstring>

#include "core/error.h"

namespace srlab::data {

bool is_gray_alpha_png(const std::string& bytes) {
  // 8-byte signature, IHDR length + type (8), width, height (8), bit depth (1), colour type (1).
  return bytes.size() > 25 && std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0 &&
         std::memcmp(bytes.data() + 12, "IHDR", 4) == 0 && static_cast<uint8_t>(bytes[25]) == 4;
}

namespace {
void append_bytes(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void no_flush(png_structp) {}
}  // namespace

std::vector<uint8_t> encode_png_gray_alpha(const cv::Mat& img) {
  if (img.channels() != 2 || (img.depth() != CV_8U && img.depth() != CV_16U) || img.empty())
    throw Error("encode_png_gray_alpha: expected a non-empty 2-channel 8- or 16-bit image");
  const cv::Mat m = img.isContinuous() ? img : img.clone();
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) throw Error("libpng: cannot create a PNG writer");
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {  // libpng reports errors by longjmp
    png_destroy_write_struct(&png, info ? &info : nullptr);
    throw Error("libpng failed to encode a gray+alpha PNG");
  }
  png_set_write_fn(png, &out, append_bytes, no_flush);
  png_set_compression_level(png, 3);
  const int depth = m.depth() == CV_16U ? 16 : 8;
  png_set_IHDR(png, info, static_cast<png_uint_32>(m.cols), static_cast<png_uint_32>(m.rows), depth,
               PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (depth == 16) png_set_swap(png);  // PNG samples are big-endian, cv::Mat's native
#endif
  for (int y = 0; y < m.rows; ++y) png_write_row(png, const_cast<png_bytep>(m.ptr<uint8_t>(y)));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace srlab::data
