#pragma once
// Upscaling methods compared by the evaluator: the bicubic and sharpened-bicubic baselines and trained
// generator checkpoints, behind one function type.
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "eval/sharpen.h"

namespace srlab::eval {

/// Upscales one LR image: (C,h,w) float32 RGB/gray in [0,1], C = 1 or 3 -> (C,h*s,w*s) float32 on the
/// CPU, nominally in [0,1] (not necessarily clamped or quantised; evaluate() quantises to 8 bit).
using UpscaleFn = std::function<torch::Tensor(const torch::Tensor& lr)>;

/// Like UpscaleFn, also given the benchmark image's name (the HR file stem), for methods that look the
/// result up rather than compute it (a folder of another tool's outputs, eval/image_folder_method.h).
using NamedUpscaleFn = std::function<torch::Tensor(const std::string& image_name, const torch::Tensor& lr)>;

/// A named upscaling method.
struct Method {
  std::string name;  ///< short name for tables/JSON/output folders ("bicubic", "sharpened", run name)
  UpscaleFn upscale;
  NamedUpscaleFn upscale_image;  ///< when set, evaluate() calls it instead of `upscale`
};

/// Builds a Method from a spec that the built-in kinds below do not handle, or returns std::nullopt when
/// the spec is not its kind. Lets layers above eval add methods (the CLI registers ONNX models, which
/// run in deploy/, a library eval does not link).
using MethodFactory = std::function<std::optional<Method>(const std::string& spec, int scale, torch::Device device)>;

/// Adds `factory` to the ones make_method() tries first (in registration order). Not thread-safe: call
/// it at start-up.
void register_method_factory(MethodFactory factory);

/// MATLAB imresize(lr, scale, 'bicubic') (antialiased cubic kernel a = -0.5, see data/image/imresize.h),
/// output not clamped. Name "bicubic". The returned function throws srlab::Error for inputs that are
/// not (C,h,w) with C = 1 or 3. Throws srlab::Error for scale < 1.
Method bicubic_method(int scale);

/// Bicubic (as bicubic_method) clamped to [0,1], then unsharp_mask(·, opts) (eval/sharpen.h); output
/// in [0,1]. Name "sharpened". Throws srlab::Error for scale < 1 or invalid `opts`.
Method sharpened_method(int scale, const UnsharpOptions& opts = {});

/// A trained generator loaded with models::load_generator(ckpt, device, prefer_ema = true) and wrapped
/// by generator_method (eval/generator_method.h): colour LR images run through the network as a batch
/// of one; a gray LR (C = 1) is replicated to RGB and the RGB output averaged back to one channel; runs
/// under torch::NoGradGuard on `device`; the result is moved to the CPU and clamped to [0,1]. Name:
/// method_display_name(ckpt) (eval/naming.h), e.g. ".../runs/espcn_x4/checkpoints/best.pt" -> "espcn_x4/best".
/// @throws srlab::Error naming the file when it cannot be loaded, or when the checkpoint's scale differs
///         from `scale`.
Method checkpoint_method(const std::filesystem::path& ckpt, int scale, torch::Device device = torch::kCPU);

/// Builds a method from a command-line/config spec: whatever a registered MethodFactory accepts, else
/// "bicubic", "sharpened" (with `unsharp`), a folder of SR images (image_folder_method, named like the
/// HR files) or the path of an existing checkpoint file (loaded on `device`).
/// @throws srlab::Error listing the accepted choices when `spec` is none of these.
Method make_method(const std::string& spec, int scale, torch::Device device = torch::kCPU,
                   const UnsharpOptions& unsharp = {});

}  // namespace srlab::eval
