#include "models/arch/swin_options.h"
#include "models/arch/swinir.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

std::string swinir_upsampler_name(SwinIrUpsampler u) {
  switch (u) {
    case SwinIrUpsampler::kPixelShuffle: return "pixelshuffle";
    case SwinIrUpsampler::kPixelShuffleDirect: return "pixelshuffledirect";
    case SwinIrUpsampler::kNearestConv: return "nearest+conv";
  }
  return "?";
}

std::vector<int> swinir_scales(SwinIrUpsampler u) {
  if (u == SwinIrUpsampler::kNearestConv) return {2, 4, 8};
  return {2, 3, 4, 8};
}

std::pair<std::string, std::string> swinir_validate(const SwinIrOptions& o) {
  for (const SwinProblem& p : {validate_swin_trunk(o.embed_dim, o.depths, o.num_heads, o.window_size, "RSTB depth"),
                            validate_swin_img_size(o.img_size, o.window_size), validate_swin_ratios(o.embed_dim, o.mlp_ratio, o.img_range),
                            validate_drop_path_rate(o.drop_path_rate)})
    if (!p.first.empty()) return p;
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  if (o.three_conv && o.embed_dim < 4) return {"resi_connection", "3conv needs embed_dim >= 4"};
  return {"", ""};
}

SwinIrImpl::SwinIrImpl(const SwinIrOptions& o) : options_(o) {
  check_scale("swinir (upsampler " + swinir_upsampler_name(o.upsampler) + ")", o.scale, swinir_scales(o.upsampler));
  const auto [key, problem] = swinir_validate(o);
  if (!key.empty()) throw Error("swinir: " + key + " " + problem);
  const int64_t c = o.embed_dim;
  conv_first = register_module("conv_first", conv3x3(3, c));
  if (o.patch_norm) {
    auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
    patch_norm = patch_embed->register_module("norm", layer_norm(c));
  }
  int total = 0;
  for (int d : o.depths) total += d;
  auto list = register_module("layers", torch::nn::ModuleList());
  int k = 0;  // global block index for the stochastic-depth decay rule
  for (size_t i = 0; i < o.depths.size(); ++i) {
    std::vector<SwinBlockOptions> blocks;
    for (int j = 0; j < o.depths[i]; ++j, ++k) {
      SwinBlockOptions b;
      b.dim = c;
      b.num_heads = o.num_heads[i];
      b.window = o.window_size;
      b.shift = j % 2 == 0 ? 0 : block_shift();
      b.img_size = o.img_size;
      b.mlp_ratio = o.mlp_ratio;
      b.qkv_bias = o.qkv_bias;
      b.drop_path = total > 1 ? o.drop_path_rate * k / (total - 1) : 0.0;  // torch.linspace(0, rate, total)
      blocks.push_back(b);
    }
    layers.push_back(Rstb(blocks, o.three_conv));
    list->push_back(layers.back());
  }
  norm = register_module("norm", layer_norm(c));
  conv_after_body = register_swin_resi_conv(*this, "conv_after_body", c, o.three_conv);
  build_upsampler();
}

void SwinIrImpl::build_upsampler() {
  const int64_t c = options_.embed_dim, f = options_.num_feat, s = options_.scale;
  if (options_.upsampler == SwinIrUpsampler::kPixelShuffleDirect) {
    upsample.push_back(conv3x3(c, 3 * s * s));
    register_module("upsample", torch::nn::Sequential(upsample[0], torch::nn::PixelShuffle(s)));
    return;
  }
  conv_before_upsample = conv3x3(c, f);
  register_module("conv_before_upsample",
                  torch::nn::Sequential(conv_before_upsample, torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakyReluDefaultSlope))));
  if (options_.upsampler == SwinIrUpsampler::kPixelShuffle) {
    torch::nn::Sequential seq;
    const int64_t stages = s == 3 ? 1 : static_cast<int64_t>(std::lround(std::log2(s)));
    for (int64_t i = 0; i < stages; ++i) {
      const int64_t r = s == 3 ? 3 : 2;
      upsample.push_back(conv3x3(f, r * r * f));
      seq->push_back(upsample.back());
      seq->push_back(torch::nn::PixelShuffle(r));
    }
    register_module("upsample", seq);
  } else {
    conv_up1 = register_module("conv_up1", conv3x3(f, f));
    if (s >= 4) conv_up2 = register_module("conv_up2", conv3x3(f, f));
    if (s == 8) conv_up3 = register_module("conv_up3", conv3x3(f, f));
    conv_hr = register_module("conv_hr", conv3x3(f, f));
  }
  conv_last = register_module("conv_last", conv3x3(f, 3));
}

torch::Tensor SwinIrImpl::deep_features(const torch::Tensor& f) {
  const int64_t h = f.size(2), w = f.size(3);
  torch::Tensor t = swin_map_to_tokens(f);
  if (options_.patch_norm) t = patch_norm->forward(t);
  // One shifted-window mask per forward, shared by every shifted block (the official code rebuilds it in
  // each block); blocks use their attn_mask buffer instead when h x w is img_size x img_size.
  torch::Tensor mask;
  const int64_t shift = block_shift();
  if (shift > 0 && (h != options_.img_size || w != options_.img_size))
    mask = swin_shift_attention_mask(h, w, options_.window_size, shift, f.device()).to(f.dtype());
  for (auto& layer : layers) t = layer->forward(t, h, w, mask);
  t = norm->forward(t);
  return conv_after_body(swin_tokens_to_map(t, h, w)) + f;
}

torch::Tensor SwinIrImpl::reconstruct(const torch::Tensor& f) {
  const int64_t s = options_.scale;
  if (options_.upsampler == SwinIrUpsampler::kPixelShuffleDirect) return torch::pixel_shuffle(upsample[0]->forward(f), s);
  torch::Tensor y = torch::leaky_relu(conv_before_upsample->forward(f), kLeakyReluDefaultSlope);
  if (options_.upsampler == SwinIrUpsampler::kPixelShuffle) {
    for (auto& conv : upsample) y = torch::pixel_shuffle(conv->forward(y), s == 3 ? 3 : 2);
    return conv_last->forward(y);
  }
  y = torch::leaky_relu(conv_up1->forward(nearest_x2(y)), kSwinLeakySlope);
  if (s >= 4) y = torch::leaky_relu(conv_up2->forward(nearest_x2(y)), kSwinLeakySlope);
  if (s == 8) y = torch::leaky_relu(conv_up3->forward(nearest_x2(y)), kSwinLeakySlope);
  return conv_last->forward(torch::leaky_relu(conv_hr->forward(y), kSwinLeakySlope));
}

torch::Tensor SwinIrImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "swinir");
  const int64_t h = lr.size(2), w = lr.size(3), m = options_.window_size, s = options_.scale;
  const int64_t pad_h = (m - h % m) % m, pad_w = (m - w % m) % m;
  if (pad_h >= h || pad_w >= w)
    throw Error("swinir: input " + std::to_string(h) + "x" + std::to_string(w) + " is too small to reflect-pad to a " +
                "multiple of window_size " + std::to_string(m) + " (the pad must be smaller than the size, as in " +
                "the official code); use inputs of at least " + std::to_string(m / 2 + 1) + "x" + std::to_string(m / 2 + 1) +
                " or a multiple of " + std::to_string(m));
  torch::Tensor x = lr;
  if (pad_h > 0 || pad_w > 0) x = F::pad(x, F::PadFuncOptions({0, pad_w, 0, pad_h}).mode(torch::kReflect));
  const torch::Tensor mean =
      torch::tensor({kSwinIrRgbMean[0], kSwinIrRgbMean[1], kSwinIrRgbMean[2]}).view({1, 3, 1, 1}).to(x.options());
  const double range = options_.img_range;
  x = (x - mean) * range;
  torch::Tensor y = reconstruct(deep_features(conv_first->forward(x)));
  y = y / range + mean;
  if (pad_h == 0 && pad_w == 0) return y;
  return y.slice(2, 0, h * s).slice(3, 0, w * s);
}

}  // namespace srlab::models
