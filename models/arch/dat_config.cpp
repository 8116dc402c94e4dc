// YAML factory and registration of "dat" (parameters: see models/arch/dat.h).
#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/dat.h"

namespace srlab::models {

namespace {
bool parse_direct_upsampler(const core::Config& params) {
  const std::string u = params.get<std::string>("upsampler", "pixelshuffle");
  if (u == "pixelshuffle") return false;
  if (u == "pixelshuffledirect") return true;
  params.fail("upsampler", "unknown upsampler '" + u + "'; use pixelshuffle (DAT, DAT-S, DAT-2) or pixelshuffledirect (DAT-light)");
}


const char* kDatSummary =
    "DAT (Chen et al. 2023, Dual Aggregation Transformer), official layout (zhengchen1999/DAT dat_arch.py); params:\n"
    "      upsampler: pixelshuffle | pixelshuffledirect (DAT-light) (scales 2,3,4,8)   embed_dim: 180 (even, >= 16)\n"
    "      split_size: [2,4] ([Mh,Mw] windows; official models [8,32], DAT-S [8,16])   depth: [2,2,2,2] (blocks per group)\n"
    "      num_heads: [2,2,2,2] (per group, >= 2)   expansion_factor: 4.0 (SGFN; DAT-2: 2)   qkv_bias: true\n"
    "      img_size: 64 (patch size of the stored attn_mask buffers)   resi_connection: 1conv | 3conv\n"
    "      num_feat: 64 (upsampler width)   img_range: 1.0   drop_path_rate: 0.1 (stochastic depth, training only)";
}  // namespace

Generator make_dat(const core::Config& params, int scale) {
  DatOptions o;
  o.scale = scale;
  o.direct_upsampler = parse_direct_upsampler(params);
  check_scale(params, "dat", scale, {2, 3, 4, 8});
  o.embed_dim = params.get<int>("embed_dim", o.embed_dim);
  o.split_size = params.get<std::vector<int>>("split_size", o.split_size);
  o.depth = params.get<std::vector<int>>("depth", o.depth);
  o.num_heads = params.get<std::vector<int>>("num_heads", o.num_heads);
  o.expansion_factor = params.get<double>("expansion_factor", o.expansion_factor);
  o.qkv_bias = params.get<bool>("qkv_bias", o.qkv_bias);
  o.img_size = params.get<int>("img_size", o.img_size);
  o.three_conv = parse_resi_connection(params);
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.img_range = params.get<double>("img_range", o.img_range);
  o.drop_path_rate = params.get<double>("drop_path_rate", o.drop_path_rate);
  const auto [key, problem] = dat_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<DatImpl>(o);
}

void register_dat() { register_generator("dat", make_dat, kDatSummary, detect_dat); }

}  // namespace srlab::models
