// ATD generator, YAML factory and registration (models/arch/atd.h). Reference: chaiNNer-org/spandrel
// libs/spandrel/spandrel/architectures/ATD/__arch/atd_arch.py (class ATD).
#include "models/arch/swin_options.h"
#include "models/arch/atd.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace {

/// Row (or column) indices of an n -> n + pad extension mirroring with the edge repeated: 0..n-1, n-1, n-2,
/// ... (the official cat(x, flip(x))[:n + pad]), continued with period 2n when pad > n.
torch::Tensor mirror_index(int64_t n, int64_t pad, torch::Device device) {
  const torch::Tensor i = torch::arange(n + pad, torch::kLong).remainder(2 * n);
  return torch::where(i < n, i, 2 * n - 1 - i).to(device);
}

AtdUpsampler parse_atd_upsampler(const core::Config& params) {
  const std::string u = params.get<std::string>("upsampler", "pixelshuffle");
  if (u == "pixelshuffle") return AtdUpsampler::kPixelShuffle;
  if (u == "pixelshuffledirect") return AtdUpsampler::kPixelShuffleDirect;
  if (u == "nearest+conv") return AtdUpsampler::kNearestConv;
  params.fail("upsampler", "unknown upsampler '" + u +
                               "'; use pixelshuffle (classical SR), pixelshuffledirect (lightweight) or nearest+conv "
                               "(real-world, x4); ATD without upsampler (denoising, JPEG) is not an SR model");
}


const char* kAtdSummary =
    "ATD (Zhang et al. 2024), official layout (LabShuHangGU/Adaptive-Token-Dictionary atd_arch.py); params:\n"
    "      upsampler: pixelshuffle | pixelshuffledirect | nearest+conv (default pixelshuffle; scales 2,3,4,8;\n"
    "                 nearest+conv 4)\n"
    "      embed_dim: 90 (divisible by each num_heads)   depths: [6,6,6,6] (layers per ATDB)\n"
    "      num_heads: [6,6,6,6] (per ATDB)   window_size: 8   category_size: 256 (AC-MSA group)\n"
    "      num_tokens: 64 (dictionary)   reducted_dim: 4   convffn_kernel_size: 5 (odd)   mlp_ratio: 2.0\n"
    "      qkv_bias: true   patch_norm: true   resi_connection: 1conv | 3conv   num_feat: 64 (upsampler width)\n"
    "      img_range: 1.0   norm: true (mean subtraction; false for weights with a no_norm buffer)";
}  // namespace

std::string atd_upsampler_name(AtdUpsampler u) {
  switch (u) {
    case AtdUpsampler::kPixelShuffle: return "pixelshuffle";
    case AtdUpsampler::kPixelShuffleDirect: return "pixelshuffledirect";
    case AtdUpsampler::kNearestConv: return "nearest+conv";
  }
  return "?";
}

std::vector<int> atd_scales(AtdUpsampler u) {
  if (u == AtdUpsampler::kNearestConv) return {4};
  return {2, 3, 4, 8};
}

std::pair<std::string, std::string> atd_validate(const AtdOptions& o) {
  const auto positive = [](int v) { return v >= 1; };
  for (const SwinProblem& p : {validate_swin_trunk(o.embed_dim, o.depths, o.num_heads, o.window_size, "ATDB depth"),
                            validate_swin_ratios(o.embed_dim, o.mlp_ratio, o.img_range)})
    if (!p.first.empty()) return p;
  if (!positive(o.category_size)) return {"category_size", "must be >= 1, got " + std::to_string(o.category_size)};
  if (!positive(o.num_tokens)) return {"num_tokens", "must be >= 1, got " + std::to_string(o.num_tokens)};
  if (!positive(o.reducted_dim)) return {"reducted_dim", "must be >= 1, got " + std::to_string(o.reducted_dim)};
  if (o.convffn_kernel_size < 1 || o.convffn_kernel_size % 2 == 0)
    return {"convffn_kernel_size", "must be odd and >= 1 (same-size depthwise conv), got " + std::to_string(o.convffn_kernel_size)};
  if (!positive(o.num_feat)) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  if (o.three_conv && o.embed_dim < 4) return {"resi_connection", "3conv needs embed_dim >= 4"};
  return {"", ""};
}

AtdImpl::AtdImpl(const AtdOptions& o) : options_(o) {
  check_scale("atd (upsampler " + atd_upsampler_name(o.upsampler) + ")", o.scale, atd_scales(o.upsampler));
  const auto [key, problem] = atd_validate(o);
  if (!key.empty()) throw Error("atd: " + key + " " + problem);
  const int64_t c = o.embed_dim;
  if (!o.norm) no_norm = register_buffer("no_norm", torch::zeros({1}));
  relative_position_index_SA = register_buffer("relative_position_index_SA", swin_relative_position_index(o.window_size));
  conv_first = register_module("conv_first", conv3x3(3, c));
  if (o.patch_norm) {
    auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
    patch_norm = patch_embed->register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c}).eps(1e-5)));
  }
  auto list = register_module("layers", torch::nn::ModuleList());
  for (size_t i = 0; i < o.depths.size(); ++i) {
    std::vector<AtdLayerOptions> block;
    for (int j = 0; j < o.depths[i]; ++j) {
      AtdLayerOptions l;
      l.dim = c;
      l.num_heads = o.num_heads[i];
      l.window = o.window_size;
      l.shift = j % 2 == 0 ? 0 : o.window_size / 2;
      l.category_size = o.category_size;
      l.num_tokens = o.num_tokens;
      l.reducted_dim = o.reducted_dim;
      l.kernel_size = o.convffn_kernel_size;
      l.mlp_ratio = o.mlp_ratio;
      l.qkv_bias = o.qkv_bias;
      l.is_last = j == o.depths[i] - 1;
      block.push_back(l);
    }
    layers.push_back(AtdBlock(block, o.three_conv));
    list->push_back(layers.back());
  }
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c}).eps(1e-5)));
  conv_after_body = register_swin_resi_conv(*this, "conv_after_body", c, o.three_conv);
  build_upsampler();
}

void AtdImpl::build_upsampler() {
  const int64_t c = options_.embed_dim, f = options_.num_feat, s = options_.scale;
  if (options_.upsampler == AtdUpsampler::kPixelShuffleDirect) {
    upsample.push_back(conv3x3(c, 3 * s * s));
    register_module("upsample", torch::nn::Sequential(upsample[0], torch::nn::PixelShuffle(s)));
    return;
  }
  conv_before_upsample = conv3x3(c, f);
  register_module("conv_before_upsample",
                  torch::nn::Sequential(conv_before_upsample,
                                        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakyReluDefaultSlope))));
  if (options_.upsampler == AtdUpsampler::kPixelShuffle) {
    torch::nn::Sequential seq;
    const int64_t r = s == 3 ? 3 : 2, stages = s == 3 ? 1 : static_cast<int64_t>(std::lround(std::log2(s)));
    for (int64_t i = 0; i < stages; ++i) {
      upsample.push_back(conv3x3(f, r * r * f));
      seq->push_back(upsample.back());
      seq->push_back(torch::nn::PixelShuffle(r));
    }
    register_module("upsample", seq);
  } else {
    conv_up1 = register_module("conv_up1", conv3x3(f, f));
    conv_up2 = register_module("conv_up2", conv3x3(f, f));
    conv_hr = register_module("conv_hr", conv3x3(f, f));
  }
  conv_last = register_module("conv_last", conv3x3(f, 3));
}

torch::Tensor AtdImpl::deep_features(const torch::Tensor& f) {
  const int64_t h = f.size(2), w = f.size(3), m = options_.window_size;
  torch::Tensor t = swin_map_to_tokens(f);
  if (options_.patch_norm) t = patch_norm->forward(t);
  // One shifted-window mask per forward, shared by every shifted layer (the official calculate_mask).
  torch::Tensor mask;
  if (m / 2 > 0) mask = swin_shift_attention_mask(h, w, m, m / 2, f.device()).to(f.dtype());
  for (auto& layer : layers) t = layer->forward(t, h, w, relative_position_index_SA, mask);
  t = norm->forward(t);
  return conv_after_body(swin_tokens_to_map(t, h, w)) + f;
}

torch::Tensor AtdImpl::reconstruct(const torch::Tensor& f) {
  const int64_t s = options_.scale;
  if (options_.upsampler == AtdUpsampler::kPixelShuffleDirect) return torch::pixel_shuffle(upsample[0]->forward(f), s);
  torch::Tensor y = torch::leaky_relu(conv_before_upsample->forward(f), kLeakyReluDefaultSlope);
  if (options_.upsampler == AtdUpsampler::kPixelShuffle) {
    for (auto& conv : upsample) y = torch::pixel_shuffle(conv->forward(y), s == 3 ? 3 : 2);
    return conv_last->forward(y);
  }
  y = torch::leaky_relu(conv_up1->forward(nearest_x2(y)), kSwinLeakySlope);
  y = torch::leaky_relu(conv_up2->forward(nearest_x2(y)), kSwinLeakySlope);
  return conv_last->forward(torch::leaky_relu(conv_hr->forward(y), kSwinLeakySlope));
}

torch::Tensor AtdImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "atd");
  const int64_t h = lr.size(2), w = lr.size(3), m = options_.window_size, s = options_.scale;
  const int64_t pad_h = (m - h % m) % m, pad_w = (m - w % m) % m;
  torch::Tensor x = lr;
  if (pad_h > 0) x = x.index_select(2, mirror_index(h, pad_h, x.device()));
  if (pad_w > 0) x = x.index_select(3, mirror_index(w, pad_w, x.device()));
  const torch::Tensor mean =
      torch::tensor({kAtdRgbMean[0], kAtdRgbMean[1], kAtdRgbMean[2]}).view({1, 3, 1, 1}).to(x.options());
  const double range = options_.img_range;
  if (options_.norm) x = (x - mean) * range;
  torch::Tensor y = reconstruct(deep_features(conv_first->forward(x)));
  if (options_.norm) y = y / range + mean;
  if (pad_h == 0 && pad_w == 0) return y;
  return y.slice(2, 0, h * s).slice(3, 0, w * s);
}

Generator make_atd(const core::Config& params, int scale) {
  AtdOptions o;
  o.scale = scale;
  o.upsampler = parse_atd_upsampler(params);
  check_scale(params, "atd (upsampler " + atd_upsampler_name(o.upsampler) + ")", scale, atd_scales(o.upsampler));
  read_swin_trunk_options(params, o);
  o.category_size = params.get<int>("category_size", o.category_size);
  o.num_tokens = params.get<int>("num_tokens", o.num_tokens);
  o.reducted_dim = params.get<int>("reducted_dim", o.reducted_dim);
  o.convffn_kernel_size = params.get<int>("convffn_kernel_size", o.convffn_kernel_size);
  o.three_conv = parse_resi_connection(params);
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.norm = params.get<bool>("norm", o.norm);
  const auto [key, problem] = atd_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<AtdImpl>(o);
}

void register_atd() { register_generator("atd", make_atd, kAtdSummary, detect_atd); }

}  // namespace srlab::models
