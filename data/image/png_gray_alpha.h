#pragma once
// Gray+alpha PNG (colour type 4) encoding, which OpenCV's PNG codec lacks: cv::imdecode expands such a
// file to BGRA and cv::imencode cannot write 2-channel images, so gray+alpha would silently become RGBA.
// Encoded with libpng (http://www.libpng.org/pub/png/libpng-manual.txt).
#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace srlab::data {

/// True when `bytes` is a PNG whose IHDR declares colour type 4 (gray + alpha).
bool is_gray_alpha_png(const std::string& bytes);

/// Encodes a 2-channel (gray, alpha) CV_8UC2 or CV_16UC2 image as a gray+alpha PNG (8 or 16 bits per
/// sample, zlib level 3 as OpenCV's default). Throws srlab::Error on another type or a libpng failure.
std::vector<uint8_t> encode_png_gray_alpha(const cv::Mat& gray_alpha);

}  // namespace srlab::data
