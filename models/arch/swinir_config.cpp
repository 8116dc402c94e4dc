// YAML factory and registration of "swinir" (parameters: see models/arch/swinir.h).
#include "core/error.h"
#include "models/arch/swin_options.h"
#include "models/arch/arch_util.h"
#include "models/arch/swinir.h"

namespace srlab::models {

namespace {
SwinIrUpsampler parse_swinir_upsampler(const core::Config& params) {
  const std::string u = params.get<std::string>("upsampler", "pixelshuffle");
  if (u == "pixelshuffle") return SwinIrUpsampler::kPixelShuffle;
  if (u == "pixelshuffledirect") return SwinIrUpsampler::kPixelShuffleDirect;
  if (u == "nearest+conv") return SwinIrUpsampler::kNearestConv;
  params.fail("upsampler", "unknown upsampler '" + u +
                               "'; use pixelshuffle (classical SR), pixelshuffledirect (lightweight) or nearest+conv "
                               "(real-world); SwinIR without upsampler (denoising, JPEG) is not an SR model");
}


const char* kSwinIrSummary =
    "SwinIR (Liang et al. 2021), official layout (JingyunLiang/SwinIR network_swinir.py); params:\n"
    "      upsampler: pixelshuffle | pixelshuffledirect | nearest+conv (default pixelshuffle; scales 2,3,4,8;\n"
    "                 nearest+conv 2,4,8)\n"
    "      embed_dim: 96 (divisible by each num_heads)   depths: [6,6,6,6] (STLs per RSTB)\n"
    "      num_heads: [6,6,6,6] (per RSTB)   window_size: 8 (as the official SR models)   mlp_ratio: 4.0\n"
    "      img_size: 64 (patch size of the stored attn_mask, a multiple of window_size)   resi_connection: 1conv | 3conv\n"
    "      num_feat: 64 (upsampler width)   img_range: 1.0   patch_norm: true   qkv_bias: true\n"
    "      drop_path_rate: 0.1 (stochastic depth, training only)";
}  // namespace

Generator make_swinir(const core::Config& params, int scale) {
  SwinIrOptions o;
  o.scale = scale;
  o.upsampler = parse_swinir_upsampler(params);
  check_scale(params, "swinir (upsampler " + swinir_upsampler_name(o.upsampler) + ")", scale, swinir_scales(o.upsampler));
  read_swin_trunk_options(params, o);
  o.img_size = params.get<int>("img_size", o.img_size);
  o.three_conv = parse_resi_connection(params);
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.drop_path_rate = params.get<double>("drop_path_rate", o.drop_path_rate);
  const auto [key, problem] = swinir_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<SwinIrImpl>(o);
}

void register_swinir() { register_generator("swinir", make_swinir, kSwinIrSummary, detect_swinir); }

}  // namespace srlab::models
