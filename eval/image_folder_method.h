#pragma once
// Scoring another tool's outputs: a folder of SR images named like the benchmark's HR files, read
// instead of upscaling (`srlab eval --method DIR`). The images go through the same protocol as any
// method (evaluate(): 8-bit quantisation, Y channel, border crop, PSNR/SSIM/LPIPS).
#include <filesystem>

#include "eval/methods.h"

namespace srlab::eval {

/// A Method whose `upscale_image(name, lr)` reads the SR image for benchmark image `name` from `dir`:
/// the file `dir/<name>.<ext>` where `name` is the HR file's stem and <ext> any image extension
/// data::list_images accepts (png tried first, then jpg, jpeg, bmp, tif, tiff, webp, ppm, pgm; any
/// case). The image (8- or 16-bit, data::read_image; alpha dropped) must be exactly scale x the LR
/// size. Channels follow the LR: an RGB image of a gray (C = 1) benchmark image is averaged to one
/// channel (what SRLab's own methods do for gray inputs); a gray image of an RGB one is replicated.
/// Output (C, h*scale, w*scale) float32 in [0,1]. Name: the folder's own name ("out/Set5/bicubic/" -> "bicubic").
/// @throws srlab::Error when `dir` is not a folder or scale < 1; the returned function throws
///         srlab::Error naming the image and `dir` when no SR file exists for it, and naming the file,
///         its size and the expected size when the size is wrong, or when it cannot be decoded.
Method image_folder_method(const std::filesystem::path& dir, int scale);

}  // namespace srlab::eval
