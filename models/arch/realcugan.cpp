#include "models/arch/realcugan.h"

#include <fmt/format.h>

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/reflect_pad.h"
#include "models/arch/state_dict_util.h"

namespace srlab::models {

namespace {
namespace F = torch::nn::functional;
const std::vector<int> kRealCuganScales{2, 3, 4};


/// Rounds n up to a multiple of m (the reference's ((n - 1) // m + 1) * m).
int64_t round_up(int64_t n, int64_t m) { return ((n - 1) / m + 1) * m; }

torch::Tensor nearest_up(const torch::Tensor& x, double s) {
  return F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{s, s}).mode(torch::kNearest));
}
}  // namespace

std::pair<std::string, std::string> realcugan_validate(const RealCuganOptions& o) {
  if (std::find(kRealCuganScales.begin(), kRealCuganScales.end(), o.scale) == kRealCuganScales.end())
    return {"scale", "must be 2, 3 or 4, got " + std::to_string(o.scale)};
  if (o.fast && o.scale != 2) return {"fast", "the fast variant (UpCunet2x_fast) is x2 only, got x" + std::to_string(o.scale)};
  if (o.fast && o.pro) return {"fast", "the fast variant has no pro version; set pro: false"};
  return {"", ""};
}

RealCuganImpl::RealCuganImpl(const RealCuganOptions& options) : options_(options) {
  const auto [key, problem] = realcugan_validate(options);
  if (!key.empty()) throw Error("realcugan: " + key + " " + problem);
  if (options.pro) pro = register_buffer("pro", torch::zeros({1}));
  if (options.fast) {
    unet1 = register_module("unet1", CuganUNet1(12, 64, false));
    unet2 = register_module("unet2", CuganUNet2(64, 64));
  } else if (options.scale == 4) {
    unet1 = register_module("unet1", CuganUNet1(3, 64, false));
    unet2 = register_module("unet2", CuganUNet2(64, 64));
  } else {
    unet1 = register_module("unet1", CuganUNet1(3, 3, options.scale == 3));
    unet2 = register_module("unet2", CuganUNet2(3, 3));
  }
  if (options.fast || options.scale == 4)
    conv_final = register_module("conv_final", torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 12, 3).padding(0).bias(true)));
}

torch::Tensor RealCuganImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "realcugan");
  const int64_t h0 = lr.size(2), w0 = lr.size(3), s = options_.scale;
  torch::Tensor x = options_.pro ? lr * 0.7 + 0.15 : lr;
  // Margin and size multiple of the reference's reflect padding per variant.
  const int64_t margin = options_.fast ? 38 : (s == 2 ? 18 : (s == 3 ? 14 : 19));
  const int64_t multiple = (options_.fast || s == 3) ? 4 : 2;
  const int64_t ph = round_up(h0, multiple), pw = round_up(w0, multiple);
  const torch::Tensor x00 = x;
  x = reflect_pad2d_any(x, margin, margin + pw - w0, margin, margin + ph - h0);
  if (options_.fast) x = F::pixel_unshuffle(x, 2);
  const torch::Tensor u = unet1->forward(x);
  x = unet2->forward(u) + crop_border(u, 20);
  if (conv_final) x = F::pixel_shuffle(crop_border(conv_final->forward(x), 1), 2);
  x = x.slice(2, 0, h0 * s).slice(3, 0, w0 * s);
  if (conv_final) x = x + nearest_up(x00, static_cast<double>(s));
  if (options_.pro) x = (x - 0.15) / 0.7;
  return x;
}

Generator make_realcugan(const core::Config& params, int scale) {
  check_scale(params, "realcugan", scale, kRealCuganScales);
  RealCuganOptions o;
  o.scale = scale;
  o.pro = params.get<bool>("pro", o.pro);
  o.fast = params.get<bool>("fast", o.fast);
  const auto [key, problem] = realcugan_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<RealCuganImpl>(o);
}

std::optional<DetectedModel> detect_realcugan(const StateDict& sd) {
  for (const char* k :
       {"unet1.conv1.conv.0.weight", "unet1.conv1.conv.2.weight", "unet1.conv1_down.weight", "unet1.conv2.conv.0.weight",
        "unet1.conv2.conv.2.weight", "unet1.conv2.seblock.conv1.weight", "unet1.conv2_up.weight", "unet1.conv_bottom.weight",
        "unet2.conv1.conv.0.weight", "unet2.conv1_down.weight", "unet2.conv2.conv.0.weight", "unet2.conv2.seblock.conv1.weight",
        "unet2.conv3.conv.0.weight", "unet2.conv3.seblock.conv1.weight", "unet2.conv3_up.weight", "unet2.conv4.conv.0.weight",
        "unet2.conv4_up.weight", "unet2.conv5.weight", "unet2.conv_bottom.weight"})
    if (!sd.count(k)) return std::nullopt;
  const std::string what = "Real-CUGAN weights";
  RealCuganOptions o;
  o.pro = sd.count("pro") > 0;
  const int64_t in = tensor_of(sd, "unet1.conv1.conv.0.weight", 4, what).size(1);
  int64_t out = 0;
  std::string out_key;
  if (sd.count("conv_final.weight")) {
    out_key = "conv_final.weight";
    out = tensor_of(sd, out_key, 4, what).size(0) / 4;
    // As spandrel: 4 x out inputs to unet1 is the fast x2 variant (an x4 model with 4 x out inputs
    // would have the same shapes).
    o.fast = out * 4 == in;
    o.scale = o.fast ? 2 : 4;
    if (o.fast && in != 12)
      throw Error(fmt::format("{}: 'unet1.conv1.conv.0.weight' takes {} channels; the fast variant of an RGB model takes 12",
                              what, in));
  } else {
    out_key = "unet2.conv_bottom.weight";
    out = tensor_of(sd, out_key, 4, what).size(0);
    o.scale = tensor_of(sd, "unet1.conv_bottom.weight", 4, what).size(2) == 5 ? 3 : 2;
  }
  if ((!o.fast && in != 3) || out != 3)
    throw Error(fmt::format("{}: {} input and {} output channels ('unet1.conv1.conv.0.weight', '{}'); SRLab's Real-CUGAN is "
                            "RGB (3) only",
                            what, o.fast ? in / 4 : in, out, out_key));
  const auto [key, problem] = realcugan_validate(o);
  if (!key.empty()) throw Error(what + ": inferred " + key + " " + problem);
  return DetectedModel{fmt::format("{{type: realcugan, pro: {}, fast: {}}}", o.pro, o.fast), o.scale};
}

void register_realcugan() {
  register_generator("realcugan", make_realcugan,
                     "Real-CUGAN (bilibili UpCunet2x/3x/4x, upcunet_v3); params pro (pro models' input/output "
                     "mapping, false), fast (UpCunet2x_fast, x2, false); scales 2,3,4",
                     detect_realcugan);
}

}  // namespace srlab::models
