#pragma once
// Deployment upscaling of whole images (`srlab upscale`): tiled inference in bounded memory, gray and
// alpha handling, arbitrary output scales by native model passes plus a final MATLAB-bicubic resize,
// and optional unsharp masking after upscaling ("upscale first, sharpen second").
//
// Tiling (as practised by Real-ESRGAN's inference script; the seam-free condition is the receptive
// field argument of any CNN): the LR image is cut into cores of tile x tile pixels; each core is run
// inside a window extended by `pad` pixels of real image context on every side (windows are shifted
// inwards at the borders instead of shrunk, so all windows of an image have one size and an image
// border is a border in the untiled run too), and only the core's upscaled pixels are kept. When `pad`
// covers the model's receptive-field radius, the tiled result equals the untiled one up to float
// rounding; with less context the difference decays with distance and is measured in the tests.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/image/image_io.h"
#include "eval/sharpen.h"
#include "models/arch/generator.h"
#include "deploy/onnx_opencv.h"
#include "deploy/onnx_ort.h"

namespace srlab::eval {

/// A super-resolution model as a function, independent of the runtime.
struct UpscaleModel {
  int scale = 0;         ///< integer upscaling factor s
  std::string runtime;   ///< "LibTorch (cpu)", "OpenCV DNN", ... (for logs)
  /// (N,3,h,w) float32 CPU, RGB in [0,1] -> (N,3,s*h,s*w) float32 CPU, not clamped.
  std::function<torch::Tensor(const torch::Tensor&)> forward;
};

/// A LibTorch generator (eval mode, no autograd) on `device`; inputs/outputs are moved to/from it.
UpscaleModel libtorch_model(models::Generator generator, torch::Device device);

/// An ONNX model run in-process by OpenCV DNN (deploy/onnx_opencv.h) with upscaling factor `scale`.
UpscaleModel opencv_model(std::shared_ptr<models::OpenCvOnnxModel> model, int scale);

/// An ONNX model run in-process by ONNX Runtime (deploy/onnx_ort.h) with upscaling factor `scale`.
UpscaleModel ort_model(std::shared_ptr<const models::OrtInProcessModel> model, int scale);

/// Tiling settings (LR pixels). tile = 0 runs the whole image at once.
struct TileOptions {
  int64_t tile = 0;  ///< core size (>= 0; 0 = no tiling)
  int64_t pad = 16;  ///< context pixels around each core (>= 0)
};

/// One window of a tiled run, in LR pixel coordinates: the model runs on rows [y, y+h) x columns
/// [x, x+w); the core [core_y0, core_y1) x [core_x0, core_x1) of its output is kept.
struct TileWindow {
  int64_t y = 0, x = 0, h = 0, w = 0;
  int64_t core_y0 = 0, core_y1 = 0, core_x0 = 0, core_x1 = 0;
};

/// The windows covering an H x W image (row-major order; the cores partition the image exactly).
/// All windows have size min(H, tile+2*pad) x min(W, tile+2*pad).
/// @throws srlab::Error for H or W < 1, tile < 0 or pad < 0.
std::vector<TileWindow> tile_windows(int64_t height, int64_t width, const TileOptions& options);

/// Runs `model` tile by tile on `lr` (1,3,H,W) float in [0,1] and returns the assembled (1,3,s*H,s*W)
/// output, clamped to [0,1]. `progress(done, total)` (optional) is called after every window.
/// @throws srlab::Error for a bad input shape, bad tile options, or a model output of the wrong shape
///         (naming the window); errors of the model propagate.
torch::Tensor upscale_tiled(const UpscaleModel& model, const torch::Tensor& lr, const TileOptions& options,
                            const std::function<void(int64_t, int64_t)>& progress = {});

/// Number of native model passes for an overall factor `outscale` with a x`scale` model:
/// max(1, round(log_scale(outscale))) — so the final bicubic factor stays within [1/sqrt(s), sqrt(s)]
/// (e.g. x4 model: x2..x7.9 -> 1 pass, x8..x16 -> 2 passes, as practitioners advise against one
/// huge bicubic jump). @throws srlab::Error for outscale <= 0 / non-finite or scale < 2 with outscale > 1.
int upscale_passes(double outscale, int scale);

struct UpscaleOptions {
  TileOptions tiles;
  double outscale = 0;                   ///< overall factor; 0 = the model's scale (one pass, no resize)
  std::optional<UnsharpOptions> sharpen;  ///< unsharp mask applied to the final RGB/gray image
  std::function<void(int64_t, int64_t)> progress;  ///< windows done / total over all passes
};

struct UpscaleResult {
  torch::Tensor pixels;  ///< float32 (C,H',W'), C as the input (1 or 3), values in [0,1]
  torch::Tensor alpha;   ///< float32 (1,H',W') in [0,1] when the input had alpha, else undefined
  int passes = 0;        ///< model passes run
  double final_resize_h = 1, final_resize_w = 1;  ///< factors of the final bicubic resize (1 = none)
};

/// Upscales a decoded image: gray input is replicated to RGB for the model and its output averaged back
/// to one channel; upscale_passes() model passes (each tiled, output clamped to [0,1]); then, when the
/// size differs from round(H*outscale) x round(W*outscale), a MATLAB-bicubic imresize (data/image/imresize.h,
/// antialiased when shrinking) to that exact size; then the optional unsharp mask. The alpha channel
/// skips the model: it is resized once with MATLAB bicubic straight to the output size and clamped.
/// @throws srlab::Error for a bad image (not 1 or 3 channels), bad options, or model errors.
UpscaleResult upscale_image(const data::Image& image, const UpscaleModel& model, const UpscaleOptions& options);

}  // namespace srlab::eval
