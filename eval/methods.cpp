#include "eval/methods.h"

#include <fmt/format.h>

#include <sstream>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "data/image/imresize.h"
#include "eval/generator_method.h"
#include "eval/image_folder_method.h"
#include "eval/naming.h"
#include "models/weights/checkpoint.h"

namespace srlab::eval {
namespace fs = std::filesystem;
namespace {

void check_scale(int scale, const char* method) {
  if (scale < 1)
    throw Error(fmt::format("{} method: scale is {}; it must be an integer upscaling factor >= 1", method, scale));
}

void check_lr(const torch::Tensor& lr, const std::string& method) {
  if (!lr.defined() || lr.dim() != 3 || (lr.size(0) != 1 && lr.size(0) != 3) || !lr.is_floating_point()) {
    std::ostringstream s;
    if (lr.defined()) s << lr.sizes();
    throw Error(fmt::format("method '{}': LR input has shape {}; expected a float (C,h,w) tensor with C = 1 or 3 "
                            "in [0,1]",
                            method, lr.defined() ? s.str() : std::string("<undefined>")));
  }
}

torch::Tensor bicubic_up(const torch::Tensor& lr, int scale, const std::string& method) {
  check_lr(lr, method);
  return data::imresize(lr.to(torch::kCPU, torch::kFloat32), static_cast<double>(scale), data::ResizeKernel::kCubic,
                        true);
}

}  // namespace

Method bicubic_method(int scale) {
  check_scale(scale, "bicubic");
  return {"bicubic", [scale](const torch::Tensor& lr) { return bicubic_up(lr, scale, "bicubic"); }};
}

Method sharpened_method(int scale, const UnsharpOptions& opts) {
  check_scale(scale, "sharpened");
  // Validate the options now rather than on the first image (unsharp_mask throws on bad options).
  (void)unsharp_mask(torch::zeros({1, 1, 1}), opts);
  return {"sharpened", [scale, opts](const torch::Tensor& lr) {
            return unsharp_mask(bicubic_up(lr, scale, "sharpened").clamp(0.0, 1.0), opts);
          }};
}

Method checkpoint_method(const fs::path& ckpt, int scale, torch::Device device) {
  check_scale(scale, "checkpoint");
  models::Generator g = models::load_generator(ckpt, device, /*prefer_ema=*/true);
  if (g->scale() != scale)
    throw Error(fmt::format("checkpoint '{}' is a x{} {} model but the evaluation asks for scale {}; evaluate it on "
                            "x{} data or pick a x{} checkpoint",
                            ckpt.string(), g->scale(), g->type(), scale, g->scale(), scale));
  g->eval();
  Method inner = generator_method(g, method_display_name(ckpt.string()), device);
  UpscaleFn run = inner.upscale;
  inner.upscale = [run, name = inner.name](const torch::Tensor& lr) {
    check_lr(lr, name);
    return run(lr);
  };
  return inner;
}

namespace {
std::vector<MethodFactory>& method_factories() {
  static std::vector<MethodFactory> factories;
  return factories;
}
}  // namespace

void register_method_factory(MethodFactory factory) { method_factories().push_back(std::move(factory)); }

Method make_method(const std::string& spec, int scale, torch::Device device, const UnsharpOptions& unsharp) {
  for (const MethodFactory& f : method_factories())
    if (std::optional<Method> m = f(spec, scale, device)) return *std::move(m);
  if (spec == "bicubic") return bicubic_method(scale);
  if (spec == "sharpened") return sharpened_method(scale, unsharp);
  std::error_code ec;
  if (!spec.empty() && fs::is_directory(spec, ec)) return image_folder_method(spec, scale);
  if (!spec.empty() && fs::is_regular_file(spec, ec)) return checkpoint_method(spec, scale, device);
  throw Error(fmt::format("unknown method '{}': use 'bicubic', 'sharpened', a folder of SR images named like the HR "
                          "files, or the path of an existing SRLab checkpoint file{}",
                          spec, fs::exists(spec, ec) ? " (this path exists but is not a regular file)" : ""));
}

}  // namespace srlab::eval
