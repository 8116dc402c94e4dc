#include "models/arch/dat.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {



const std::vector<int> kDatScales{2, 3, 4, 8};
}  // namespace

std::pair<std::string, std::string> dat_validate(const DatOptions& o) {
  if (o.embed_dim < 16 || o.embed_dim % 2 != 0)
    return {"embed_dim", "must be even and >= 16 (the interaction module uses embed_dim/16 channels), got " +
                             std::to_string(o.embed_dim)};
  if (o.split_size.size() != 2 || o.split_size[0] < 1 || o.split_size[1] < 1)
    return {"split_size", "must be two window sides [Mh, Mw] >= 1, e.g. [8, 32]"};
  const int lo = std::min(o.split_size[0], o.split_size[1]), hi = std::max(o.split_size[0], o.split_size[1]);
  if (hi % lo != 0)
    return {"split_size", "the larger side must be a multiple of the smaller (the attention pads to a multiple of the "
                          "larger side and tiles it with both windows), got [" + std::to_string(o.split_size[0]) + ", " +
                              std::to_string(o.split_size[1]) + "]"};
  if (o.depth.empty()) return {"depth", "must list at least one residual group depth, e.g. [6, 6, 6, 6, 6, 6]"};
  for (int d : o.depth)
    if (d < 1) return {"depth", "every entry must be >= 1, got " + std::to_string(d)};
  if (o.num_heads.size() != o.depth.size())
    return {"num_heads", "must have one entry per depth entry (" + std::to_string(o.depth.size()) + "), got " +
                             std::to_string(o.num_heads.size())};
  for (int h : o.num_heads)
    if (h < 2 || o.embed_dim % h != 0 || (o.embed_dim / 2) % (h / 2) != 0)
      return {"num_heads", "entry " + std::to_string(h) + " must be >= 2, divide embed_dim " + std::to_string(o.embed_dim) +
                               ", and its half must divide embed_dim/2"};
  const auto hidden = static_cast<int64_t>(o.embed_dim * o.expansion_factor);
  if (!std::isfinite(o.expansion_factor) || hidden < 2 || hidden % 2 != 0)
    return {"expansion_factor", "int(embed_dim * expansion_factor) must be an even number >= 2"};
  if (o.img_size < hi || o.img_size % o.split_size[0] != 0 || o.img_size % o.split_size[1] != 0)
    return {"img_size", "must be a multiple of both split_size sides (the shifted-window attn_mask buffers are built for "
                        "img_size x img_size), got " + std::to_string(o.img_size)};
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  if (!(std::isfinite(o.img_range) && o.img_range > 0)) return {"img_range", "must be a finite number > 0 (1.0 or 255.)"};
  if (!(o.drop_path_rate >= 0.0 && o.drop_path_rate < 1.0)) return {"drop_path_rate", "must be in [0, 1)"};
  return {"", ""};
}

DatImpl::DatImpl(const DatOptions& o) : options_(o) {
  check_scale("dat", o.scale, kDatScales);
  const auto [key, problem] = dat_validate(o);
  if (!key.empty()) throw Error("dat: " + key + " " + problem);
  const int64_t c = o.embed_dim;
  conv_first = register_module("conv_first", conv3x3(3, c));
  auto before = register_module("before_RG", std::make_shared<torch::nn::Module>());
  before_rg = before->register_module("1", layer_norm(c));
  int total = 0;
  for (int d : o.depth) total += d;
  auto list = register_module("layers", torch::nn::ModuleList());
  int k = 0;  // global block index for the stochastic-depth decay rule
  for (size_t i = 0; i < o.depth.size(); ++i) {
    std::vector<DatBlockOptions> blocks;
    for (int j = 0; j < o.depth[i]; ++j, ++k) {
      DatBlockOptions b;
      b.dim = c;
      b.num_heads = o.num_heads[i];
      b.split_h = o.split_size[0];
      b.split_w = o.split_size[1];
      b.img_size = o.img_size;
      b.expansion_factor = o.expansion_factor;
      b.qkv_bias = o.qkv_bias;
      b.group_index = static_cast<int64_t>(i);
      b.block_index = j;
      b.drop_path = total > 1 ? o.drop_path_rate * k / (total - 1) : 0.0;  // torch.linspace(0, rate, total)
      blocks.push_back(b);
    }
    layers.push_back(DatResidualGroup(blocks, o.three_conv));
    list->push_back(layers.back());
  }
  norm = register_module("norm", layer_norm(c));
  conv_after_body = register_swin_resi_conv(*this, "conv_after_body", c, o.three_conv);
  const int64_t f = o.num_feat, s = o.scale;
  if (o.direct_upsampler) {
    upsample.push_back(conv3x3(c, 3 * s * s));
    register_module("upsample", torch::nn::Sequential(upsample[0], torch::nn::PixelShuffle(s)));
    return;
  }
  conv_before_upsample = conv3x3(c, f);
  register_module("conv_before_upsample",
                  torch::nn::Sequential(conv_before_upsample, torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakyReluDefaultSlope))));
  torch::nn::Sequential seq;
  const int64_t stages = s == 3 ? 1 : static_cast<int64_t>(std::lround(std::log2(s)));
  for (int64_t i = 0; i < stages; ++i) {
    const int64_t r = s == 3 ? 3 : 2;
    upsample.push_back(conv3x3(f, r * r * f));
    seq->push_back(upsample.back());
    seq->push_back(torch::nn::PixelShuffle(r));
  }
  register_module("upsample", seq);
  conv_last = register_module("conv_last", conv3x3(f, 3));
}

bool DatImpl::any_shifted() const {
  for (size_t i = 0; i < options_.depth.size(); ++i)
    for (int j = 0; j < options_.depth[i]; j += 2)
      if (dat_block_shifted(static_cast<int64_t>(i), j)) return true;
  return false;
}

torch::Tensor DatImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "dat");
  const int64_t h = lr.size(2), w = lr.size(3), s = options_.scale;
  const torch::Tensor mean =
      torch::tensor({kSwinIrRgbMean[0], kSwinIrRgbMean[1], kSwinIrRgbMean[2]}).view({1, 3, 1, 1}).to(lr.options());
  const double range = options_.img_range;
  const torch::Tensor f = conv_first->forward((lr - mean) * range);
  // One pair of shifted-window masks per forward for the padded size, shared by every shifted block (the
  // official code rebuilds them in each block); blocks use their own buffers at img_size x img_size.
  const int64_t m = std::max(options_.split_size[0], options_.split_size[1]);
  const int64_t ph = h + (m - h % m) % m, pw = w + (m - w % m) % m;
  std::pair<torch::Tensor, torch::Tensor> masks;
  if (any_shifted() && (ph != options_.img_size || pw != options_.img_size)) {
    masks = dat_shift_masks(ph, pw, options_.split_size[0], options_.split_size[1], f.device());
    masks = {masks.first.to(f.dtype()), masks.second.to(f.dtype())};
  }
  torch::Tensor t = before_rg->forward(swin_map_to_tokens(f));
  for (auto& layer : layers) t = layer->forward(t, h, w, masks);
  const torch::Tensor deep = conv_after_body(swin_tokens_to_map(norm->forward(t), h, w)) + f;
  torch::Tensor y;
  if (options_.direct_upsampler) {
    y = torch::pixel_shuffle(upsample[0]->forward(deep), s);
  } else {
    y = F::leaky_relu(conv_before_upsample->forward(deep), F::LeakyReLUFuncOptions().negative_slope(kLeakyReluDefaultSlope));
    for (auto& conv : upsample) y = torch::pixel_shuffle(conv->forward(y), s == 3 ? 3 : 2);
    y = conv_last->forward(y);
  }
  return y / range + mean;
}

}  // namespace srlab::models
