#pragma once
// Image files <-> tensors (OpenCV codecs).
//
// Framework convention: float32 tensors, (C,H,W), RGB channel order, values in [0,1]. OpenCV stores
// pixels as (H,W,C) in BGR(A) order; the helpers below do the reordering and scaling.
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/fs.h"

namespace srlab::data {

/// A decoded image file.
struct Image {
  torch::Tensor pixels;  ///< float32 (C,H,W), C = 1 (gray) or 3 (RGB), values in [0,1]
  torch::Tensor alpha;   ///< float32 (1,H,W) in [0,1] when the file had an alpha channel, else undefined
  int bit_depth = 8;     ///< 8 or 16, as stored in the file
  std::string path;      ///< the file it was read from
};

/// Reads an 8- or 16-bit gray, gray+alpha, RGB or RGBA image (any format OpenCV decodes: PNG, JPEG,
/// BMP, TIFF, WebP, PPM/PGM). The file is read into memory, checked for truncation and decoded with
/// cv::imdecode(IMREAD_UNCHANGED) (the decoders of cv::imread); BGR(A) is reordered to RGB.
/// Values are divided by 255 (8-bit) or 65535 (16-bit).
/// Throws srlab::Error naming the file when it is missing, not a regular file, empty, cannot be
/// decoded, has an unsupported pixel type (e.g. float TIFF), or is visibly truncated (a PNG without
/// its IEND chunk, a JPEG without an end-of-image marker after its last scan).
Image read_image(const std::filesystem::path& path);

/// Like read_image() but returns OpenCV's raw decode: (H,W,C) BGR(A), gray or gray+alpha (a gray+alpha PNG,
/// which OpenCV expands to BGRA, is returned as 2 channels), CV_8U or CV_16U.
/// Same validation and errors as read_image().
cv::Mat read_mat(const std::filesystem::path& path);

/// Writes a floating (C,H,W) image (C = 1 or 3, RGB, values nominally [0,1]; any device) to `path`;
/// the codec is chosen from the
/// extension (.png .jpg .jpeg .bmp .tif .tiff .webp .ppm .pgm). Values are clamped to [0,1] and rounded
/// to the nearest level of `bit_depth` (ties up, as quantize()) (8 or 16; 16 only for PNG, TIFF and PPM/PGM). `alpha`, if
/// defined, is a (1,H,W) or (H,W) tensor in [0,1] stored as a 4th channel (PNG, TIFF, WebP only).
/// `quality` (JPEG and WebP only; -1 = the codec's default, 95 for JPEG, lossless for WebP) is the
/// encoder quality 1..100 (WebP: 1..100 lossy, above 100 lossless).
/// The file is written atomically (encoded in memory, written to a temporary sibling, renamed) and
/// parent folders are created. Throws srlab::Error naming the file on bad shapes, unsupported
/// extension/bit depth combinations, a quality outside 1..100 (1..101 for WebP) or I/O failure
/// ("failed writing '...' (disk full?)", core/fs.h), and, with `existing` = kKeep, when `path` exists
/// (also when another process created it meanwhile: the file is claimed atomically).
void write_image(const std::filesystem::path& path, const torch::Tensor& chw, int bit_depth = 8,
                 const torch::Tensor& alpha = {}, int quality = -1,
                 core::Existing existing = core::Existing::kReplace);

/// round(clamp(x,0,1) * L) / L with L = 255 (bit_depth 8) or 65535 (bit_depth 16), i.e. the value a
/// round trip through an image file of that depth gives (write_image rounds the same way). Rounding
/// is half away from zero, as MATLAB's uint8()/im2uint8 (torch::round would round half to even);
/// computed in double, then cast back. Any shape; floating types only; same dtype out.
/// Throws srlab::Error for other bit depths or non-floating input.
torch::Tensor quantize(const torch::Tensor& x, int bit_depth = 8);

/// The 8-bit levels of a floating [0,1] tensor as a uint8 tensor (same shape, contiguous, CPU dtype
/// uint8): round(clamp(x,0,1) * 255) with the rounding of quantize() (ties up), so stored_to_float() of
/// the result equals quantize(x, 8). Throws srlab::Error for undefined or non-floating input.
torch::Tensor to_uint8(const torch::Tensor& x);
/// Replicates a 1-channel image to 3 channels; 3-channel input is returned unchanged.
/// Accepts (C,H,W) or (N,C,H,W); throws srlab::Error for other ranks or channel counts.
torch::Tensor to_rgb(const torch::Tensor& chw_or_nchw);

/// True when the file name has one of the image extensions list_images() accepts (case-insensitive).
bool is_image_file(const std::filesystem::path& path);

/// The image files (png jpg jpeg bmp tif tiff webp ppm pgm, case-insensitive) directly inside `dir`,
/// sorted by file name. Throws srlab::Error if `dir` does not exist, is not a folder, or holds no
/// image file.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& dir);

/// OpenCV (H,W,C) BGR(A)/gray Mat of depth CV_8U, CV_16U or CV_32F -> float32 (C,H,W) RGB(A) tensor in
/// [0,1] (8-bit / 255, 16-bit / 65535 computed in double and rounded once to float32, so the values
/// equal quantize() of them; float copied as is). Channels: 1 -> 1, 2 -> 2 (gray, alpha),
/// 3 -> RGB, 4 -> RGBA. Throws srlab::Error for other depths or channel counts.
torch::Tensor mat_to_tensor(const cv::Mat& mat);

/// OpenCV CV_8U Mat (channels as mat_to_tensor) -> its samples unscaled as a uint8 (C,H,W) RGB(A)
/// tensor (compact in-memory storage). Throws srlab::Error for other depths or channel counts.
torch::Tensor mat_to_tensor_u8(const cv::Mat& mat);

/// float (C,H,W) RGB(A) tensor -> OpenCV (H,W,C) BGR(A)/gray Mat of depth CV_8U (bit_depth 8) or CV_16U
/// (bit_depth 16); values clamped to [0,1] and rounded to nearest (ties up). C = 1, 2, 3 or 4.
/// Throws srlab::Error on bad shapes, non-floating tensors, NaN values or bad bit depths.
cv::Mat tensor_to_mat(const torch::Tensor& chw, int bit_depth = 8);

}  // namespace srlab::data
