// RGT generator, options, YAML factory and registration (models/arch/rgt.h).
#include "models/arch/rgt.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {



/// Pads (N,C,H,W) at the bottom by `pad_h` rows and at the right by `pad_w` columns with reflection,
/// repeating the reflection while the pad exceeds size - 1 (replicating a single row/column).
torch::Tensor pad_reflect(torch::Tensor x, int64_t pad_h, int64_t pad_w) {
  const auto pad = [](const torch::Tensor& t, int64_t bottom, int64_t right, bool reflect) {
    auto o = F::PadFuncOptions({0, right, 0, bottom});
    return reflect ? F::pad(t, o.mode(torch::kReflect)) : F::pad(t, o.mode(torch::kReplicate));
  };
  while (pad_h > 0) {
    const int64_t step = x.size(2) > 1 ? std::min(pad_h, x.size(2) - 1) : pad_h;
    x = pad(x, step, 0, x.size(2) > 1);
    pad_h -= step;
  }
  while (pad_w > 0) {
    const int64_t step = x.size(3) > 1 ? std::min(pad_w, x.size(3) - 1) : pad_w;
    x = pad(x, 0, step, x.size(3) > 1);
    pad_w -= step;
  }
  return x;
}

bool has_shifted_block(const RgtOptions& o) {
  for (size_t i = 0; i < o.depth.size(); ++i)
    for (int j = 0; j < o.depth[i]; ++j)
      if (rgt_block_shifted(static_cast<int>(i), j)) return true;
  return false;
}

bool has_recursive_block(const RgtOptions& o) {
  for (int d : o.depth)
    if (d >= 2) return true;
  return false;
}
}  // namespace

std::vector<int> rgt_scales() { return {2, 3, 4, 8}; }

std::pair<std::string, std::string> rgt_validate(const RgtOptions& o) {
  const auto s = [](auto v) { return std::to_string(v); };
  if (o.embed_dim < 2 || o.embed_dim % 2 != 0)
    return {"embed_dim", "must be even and >= 2 (L-SA splits the channels in two halves), got " + s(o.embed_dim)};
  if (o.depth.empty()) return {"depth", "must list at least one residual group depth, e.g. [2, 2, 2, 2]"};
  for (int d : o.depth)
    if (d < 1) return {"depth", "every entry must be >= 1, got " + s(d)};
  if (o.num_heads.size() != o.depth.size())
    return {"num_heads", "must have one entry per depth entry (" + s(o.depth.size()) + "), got " + s(o.num_heads.size())};
  if (!(std::isfinite(o.c_ratio) && o.c_ratio > 0)) return {"c_ratio", "must be a finite number > 0"};
  const int64_t cr = static_cast<int64_t>(static_cast<double>(o.embed_dim) * o.c_ratio);
  for (int h : o.num_heads) {
    if (h < 2 || o.embed_dim % h != 0 || (o.embed_dim / 2) % (h / 2) != 0)
      return {"num_heads", "entry " + s(h) + " must be >= 2 and divide embed_dim " + s(o.embed_dim) +
                               ", and num_heads/2 must divide embed_dim/2"};
    if (has_recursive_block(o) && (cr < 1 || cr % h != 0))
      return {"c_ratio", "int(embed_dim * c_ratio) = " + s(cr) + " must be >= 1 and divisible by num_heads entry " + s(h)};
  }
  const double hidden_d = static_cast<double>(o.embed_dim) * o.mlp_ratio;
  if (!(std::isfinite(o.mlp_ratio) && hidden_d >= 2.0))
    return {"mlp_ratio", "must be finite with int(embed_dim * mlp_ratio) >= 2"};
  if (static_cast<int64_t>(hidden_d) % 2 != 0)
    return {"mlp_ratio", "int(embed_dim * mlp_ratio) = " + s(static_cast<int64_t>(hidden_d)) +
                             " must be even (the gated MLP splits it in two halves)"};
  if (o.split_size.size() != 2) return {"split_size", "must have two entries [Sh, Sw], got " + s(o.split_size.size())};
  for (int v : o.split_size)
    if (v < 2) return {"split_size", "entries must be >= 2 (the shift is half the window), got " + s(v)};
  if (has_shifted_block(o) && (o.img_size < 1 || o.img_size % o.split_size[0] != 0 || o.img_size % o.split_size[1] != 0))
    return {"img_size", "must be a multiple of both split_size entries (the shifted-window attn_mask buffers are built for "
                        "img_size x img_size), got " + s(o.img_size)};
  if (o.img_size < 1) return {"img_size", "must be >= 1, got " + s(o.img_size)};
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + s(o.num_feat)};
  if (!(std::isfinite(o.img_range) && o.img_range > 0)) return {"img_range", "must be a finite number > 0 (1.0 or 255.)"};
  if (!(o.drop_path_rate >= 0.0 && o.drop_path_rate < 1.0)) return {"drop_path_rate", "must be in [0, 1)"};
  if (o.three_conv && o.embed_dim < 4) return {"resi_connection", "3conv needs embed_dim >= 4"};
  return {"", ""};
}

RgtImpl::RgtImpl(const RgtOptions& o) : options_(o) {
  check_scale("rgt", o.scale, rgt_scales());
  const auto [key, problem] = rgt_validate(o);
  if (!key.empty()) throw Error("rgt: " + key + " " + problem);
  const int64_t c = o.embed_dim, f = o.num_feat, s = o.scale;
  conv_first = register_module("conv_first", conv3x3(3, c));
  auto before = register_module("before_RG", std::make_shared<torch::nn::Module>());
  before_norm = before->register_module("1", layer_norm(c));
  int total = 0;
  for (int d : o.depth) total += d;
  auto list = register_module("layers", torch::nn::ModuleList());
  int k = 0;  // global block index for the stochastic-depth decay rule (torch.linspace(0, rate, total))
  for (size_t i = 0; i < o.depth.size(); ++i) {
    std::vector<double> dpr;
    for (int j = 0; j < o.depth[i]; ++j, ++k) dpr.push_back(total > 1 ? o.drop_path_rate * k / (total - 1) : 0.0);
    layers.push_back(RgtResidualGroup(o, static_cast<int>(i), dpr));
    list->push_back(layers.back());
  }
  norm = register_module("norm", layer_norm(c));
  conv_after_body = register_swin_resi_conv(*this, "conv_after_body", c, o.three_conv);
  conv_before_upsample = conv3x3(c, f);
  register_module("conv_before_upsample",
                  torch::nn::Sequential(conv_before_upsample,
                                        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakyReluDefaultSlope))));
  torch::nn::Sequential seq;
  const int64_t stages = s == 3 ? 1 : static_cast<int64_t>(std::lround(std::log2(s)));
  const int64_t r = s == 3 ? 3 : 2;
  for (int64_t i = 0; i < stages; ++i) {
    upsample.push_back(conv3x3(f, r * r * f));
    seq->push_back(upsample.back());
    seq->push_back(torch::nn::PixelShuffle(r));
  }
  register_module("upsample", seq);
  conv_last = register_module("conv_last", conv3x3(f, 3));
}

std::pair<int64_t, int64_t> RgtImpl::padded_size(int64_t h, int64_t w) const {
  const int64_t floor_size = is_training() ? 4 : 16;
  h = std::max(h, floor_size);
  w = std::max(w, floor_size);
  int64_t side = 1;  // 4^T: RG-SA shrinks both sides T times by 4
  for (int64_t i = rgt_reduction_steps(h, w, is_training()); i > 0; --i) side *= 4;
  return {std::max(h, side), std::max(w, side)};  // side <= max(h, w): T is unchanged by this padding
}

torch::Tensor RgtImpl::deep_features(const torch::Tensor& f) {
  const int64_t h = f.size(2), w = f.size(3);
  torch::Tensor t = before_norm->forward(swin_map_to_tokens(f));
  // One pair of shift masks per forward for the padded map, shared by every shifted L-SA block (the
  // reference rebuilds them in each block); blocks use their own buffers when it is img_size x img_size.
  RgtShiftMasks masks;
  const int64_t sh = options_.split_size[0], sw = options_.split_size[1], m = std::max(sh, sw);
  const int64_t ph = h + (m - h % m) % m, pw = w + (m - w % m) % m;
  if (has_shifted_block(options_) && (ph != options_.img_size || pw != options_.img_size)) {
    masks.mask0 = swin_rect_shift_attention_mask(ph, pw, sh, sw, sh / 2, sw / 2, f.device()).to(f.dtype());
    masks.mask1 = swin_rect_shift_attention_mask(ph, pw, sw, sh, sw / 2, sh / 2, f.device()).to(f.dtype());
  }
  for (auto& layer : layers) t = layer->forward(t, h, w, masks);
  t = norm->forward(t);
  return conv_after_body(swin_tokens_to_map(t, h, w)) + f;
}

torch::Tensor RgtImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "rgt");
  const int64_t h = lr.size(2), w = lr.size(3), s = options_.scale;
  const auto [ph, pw] = padded_size(h, w);
  torch::Tensor x = ph > h || pw > w ? pad_reflect(lr, ph - h, pw - w) : lr;
  const torch::Tensor mean = torch::tensor({kDiv2kRgbMean[0], kDiv2kRgbMean[1], kDiv2kRgbMean[2]}).view({1, 3, 1, 1}).to(x.options());
  const double range = options_.img_range;
  x = (x - mean) * range;
  torch::Tensor y = F::leaky_relu(conv_before_upsample->forward(deep_features(conv_first->forward(x))),
                                  F::LeakyReLUFuncOptions().negative_slope(kLeakyReluDefaultSlope));
  const int64_t r = s == 3 ? 3 : 2;
  for (auto& up : upsample) y = torch::pixel_shuffle(up->forward(y), r);
  y = conv_last->forward(y);
  y = y / range + mean;
  if (ph == h && pw == w) return y;
  return y.slice(2, 0, h * s).slice(3, 0, w * s);
}

// --- YAML factory and registration ---

namespace {
const char* kRgtSummary =
    "RGT (Chen et al. ICLR 2024), reference layout (zhengchen1999/RGT rgt_arch.py); params:\n"
    "      embed_dim: 180 (even, divisible by each num_heads)   depth: [2,2,2,2] (blocks per group; official [6]*8)\n"
    "      num_heads: [2,2,2,2] (per group, >= 2; official 6)   mlp_ratio: 4.0 (official 2)   qkv_bias: true\n"
    "      split_size: [8, 8] (L-SA window [Sh, Sw]; official [8, 32])   c_ratio: 0.5 (RG-SA channel factor)\n"
    "      img_size: 64 (size of the stored attn_mask buffers)   resi_connection: 1conv | 3conv   num_feat: 64\n"
    "      img_range: 1.0   drop_path_rate: 0.1 (training only); scales 2, 3, 4, 8";
}  // namespace

Generator make_rgt(const core::Config& params, int scale) {
  check_scale(params, "rgt", scale, rgt_scales());
  RgtOptions o;
  o.scale = scale;
  o.embed_dim = params.get<int>("embed_dim", o.embed_dim);
  o.depth = params.get<std::vector<int>>("depth", o.depth);
  o.num_heads = params.get<std::vector<int>>("num_heads", o.num_heads);
  o.mlp_ratio = params.get<double>("mlp_ratio", o.mlp_ratio);
  o.qkv_bias = params.get<bool>("qkv_bias", o.qkv_bias);
  o.split_size = params.get<std::vector<int>>("split_size", o.split_size);
  o.c_ratio = params.get<double>("c_ratio", o.c_ratio);
  o.img_size = params.get<int>("img_size", o.img_size);
  const std::string resi = params.get<std::string>("resi_connection", "1conv");
  if (resi != "1conv" && resi != "3conv") params.fail("resi_connection", "unknown value '" + resi + "'; use 1conv or 3conv");
  o.three_conv = resi == "3conv";
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.img_range = params.get<double>("img_range", o.img_range);
  o.drop_path_rate = params.get<double>("drop_path_rate", o.drop_path_rate);
  const auto [key, problem] = rgt_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<RgtImpl>(o);
}

void register_rgt() { register_generator("rgt", make_rgt, kRgtSummary, detect_rgt); }

}  // namespace srlab::models
