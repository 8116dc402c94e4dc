#include "models/arch/dat_blocks.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {


torch::nn::Conv2d conv1x1(int64_t in, int64_t out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)); }

torch::nn::Conv2d depthwise3x3(int64_t dim) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 3).stride(1).padding(1).groups(dim));
}

torch::nn::BatchNorm2d batch_norm(int64_t dim) { return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(dim)); }

/// (B, H*W, C) -> (B, C, H, W) and (B, C, H, W) -> (B, H*W, C).
torch::Tensor to_map(const torch::Tensor& t, int64_t h, int64_t w) { return swin_tokens_to_map(t, h, w); }
torch::Tensor to_tokens(const torch::Tensor& m) { return m.permute({0, 2, 3, 1}).reshape({m.size(0), -1, m.size(1)}); }

}  // namespace

torch::Tensor dat_gelu(const torch::Tensor& x) {
  // The hook replaces the gradient that reaches GeluBackward by a contiguous copy, so it has the (contiguous)
  // input's strides. A hook rather than a custom autograd::Function: GCC 14 warns (-Wstringop-overflow, a false
  // positive in std::vector<bool>::reserve) inside Function<T>::apply of LibTorch 2.6's custom_function.h.
  torch::Tensor y = torch::gelu(x.contiguous());
  if (y.requires_grad()) y.register_hook([](const torch::Tensor& grad) { return grad.contiguous(); });
  return y;
}

bool dat_block_shifted(int64_t group_index, int64_t block_index) {
  if (group_index % 2 == 0) return block_index > 0 && (block_index - 2) % 4 == 0;
  return block_index % 4 == 0;
}

std::pair<torch::Tensor, torch::Tensor> dat_shift_masks(int64_t height, int64_t width, int64_t split_h, int64_t split_w,
                                                        torch::Device device) {
  return {swin_rect_shift_attention_mask(height, width, split_h, split_w, split_h / 2, split_w / 2, device),
          swin_rect_shift_attention_mask(height, width, split_w, split_h, split_w / 2, split_h / 2, device)};
}

DatInteraction register_dat_interaction(torch::nn::Module& parent, int64_t dim) {
  if (dim < 16)
    throw Error("dat: embed_dim must be >= 16 (the interaction module reduces it to embed_dim/16 channels), got " +
                std::to_string(dim));
  DatInteraction a;
  a.dwconv = parent.register_module("dwconv", torch::nn::Sequential(depthwise3x3(dim), batch_norm(dim), DatGelu()));
  a.channel_interaction = parent.register_module(
      "channel_interaction",
      torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)), conv1x1(dim, dim / 8),
                            batch_norm(dim / 8), DatGelu(), conv1x1(dim / 8, dim)));
  a.spatial_interaction = parent.register_module(
      "spatial_interaction",
      torch::nn::Sequential(conv1x1(dim, dim / 16), batch_norm(dim / 16), DatGelu(), conv1x1(dim / 16, 1)));
  return a;
}

DatPosLinearImpl::DatPosLinearImpl(int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({out, in}));
  bias = register_parameter("bias", torch::zeros({out}));
  torch::NoGradGuard ng;
  weight.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
}

torch::Tensor DatPosLinearImpl::forward(const torch::Tensor& x) { return F::linear(x, weight, bias); }

DatDynamicPosBiasImpl::DatDynamicPosBiasImpl(int64_t pos_dim, int64_t num_heads) {
  pos_proj = register_module("pos_proj", DatPosLinear(2, pos_dim));
  const auto stage = [&](int64_t out) {
    return torch::nn::Sequential(layer_norm(pos_dim), torch::nn::ReLU(), DatPosLinear(pos_dim, out));
  };
  pos1 = register_module("pos1", stage(pos_dim));
  pos2 = register_module("pos2", stage(pos_dim));
  pos3 = register_module("pos3", stage(num_heads));
}

torch::Tensor DatDynamicPosBiasImpl::forward(const torch::Tensor& offsets) {
  return pos3->forward(pos2->forward(pos1->forward(pos_proj->forward(offsets))));
}

DatWindowBranchImpl::DatWindowBranchImpl(int64_t dim, int64_t window_h_, int64_t window_w_, int64_t num_heads_)
    : window_h(window_h_), window_w(window_w_), num_heads(num_heads_) {
  if (num_heads < 1 || dim % num_heads != 0)
    throw Error("dat: the spatial branch width embed_dim/2 = " + std::to_string(dim) +
                " is not divisible by its heads num_heads/2 = " + std::to_string(num_heads));
  pos = register_module("pos", DatDynamicPosBias(dim / 4 / 4, num_heads));
  // Relative offsets (dy, dx) of the ((2Mh-1)(2Mw-1)) table rows, dy outer, as float (official rpe_biases).
  const torch::Tensor dy = torch::arange(1 - window_h, window_h, torch::kFloat32);
  const torch::Tensor dx = torch::arange(1 - window_w, window_w, torch::kFloat32);
  const auto grid = torch::meshgrid({dy, dx}, "ij");
  rpe_biases = register_buffer("rpe_biases", torch::stack({grid[0].flatten(), grid[1].flatten()}, 1).contiguous());
  relative_position_index = register_buffer("relative_position_index", swin_relative_position_index(window_h, window_w));
}

torch::Tensor DatWindowBranchImpl::forward(const torch::Tensor& qkv, int64_t height, int64_t width, const torch::Tensor& mask) {
  const int64_t b = qkv.size(1), c = qkv.size(3), n = window_h * window_w, hd = c / num_heads;
  const auto windows = [&](const torch::Tensor& t) {  // (B, H*W, c) -> (B*nW, heads, N, hd)
    return swin_window_partition(t.reshape({b, height, width, c}), window_h, window_w)
        .reshape({-1, n, num_heads, hd})
        .permute({0, 2, 1, 3});
  };
  const torch::Tensor bias = pos->forward(rpe_biases)
                                 .index_select(0, relative_position_index.view(-1))
                                 .view({n, n, -1})
                                 .permute({2, 0, 1});
  const torch::Tensor out = swin_window_attention_core(windows(qkv[0]), windows(qkv[1]), windows(qkv[2]),
                                                       std::pow(static_cast<double>(hd), -0.5), bias, mask);
  return swin_window_reverse(out.transpose(1, 2).reshape({-1, n, c}), window_h, window_w, height, width);
}

DatSpatialAttentionImpl::DatSpatialAttentionImpl(const DatBlockOptions& o)
    : options_(o), shifted_(dat_block_shifted(o.group_index, o.block_index)) {
  if (o.dim % 2 != 0 || o.num_heads < 2)
    throw Error("dat: the spatial attention splits embed_dim and num_heads in halves: embed_dim must be even and "
                "num_heads >= 2, got " + std::to_string(o.dim) + " and " + std::to_string(o.num_heads));
  qkv = register_module("qkv", trunc_normal_linear(o.dim, 3 * o.dim, o.qkv_bias));
  proj = register_module("proj", trunc_normal_linear(o.dim, o.dim));
  auto list = register_module("attns", torch::nn::ModuleList());
  attns.push_back(DatWindowBranch(o.dim / 2, o.split_h, o.split_w, o.num_heads / 2));
  attns.push_back(DatWindowBranch(o.dim / 2, o.split_w, o.split_h, o.num_heads / 2));
  for (auto& a : attns) list->push_back(a);
  if (shifted_) {
    auto [m0, m1] = dat_shift_masks(o.img_size, o.img_size, o.split_h, o.split_w);
    attn_mask_0 = register_buffer("attn_mask_0", m0);
    attn_mask_1 = register_buffer("attn_mask_1", m1);
  }
  aim = register_dat_interaction(*this, o.dim);
}

torch::Tensor DatSpatialAttentionImpl::forward(const torch::Tensor& x, int64_t height, int64_t width,
                                               const std::pair<torch::Tensor, torch::Tensor>& masks) {
  const int64_t b = x.size(0), l = x.size(1), c = x.size(2), half = c / 2;
  const int64_t sh = options_.split_h, sw = options_.split_w, m = std::max(sh, sw);
  torch::Tensor qkv_t = qkv->forward(x).reshape({b, -1, 3, c}).permute({2, 0, 1, 3});  // (3,B,L,C)
  const torch::Tensor v = qkv_t[2].transpose(-2, -1).contiguous().view({b, c, height, width});
  const int64_t pad_r = (m - width % m) % m, pad_b = (m - height % m) % m;
  const int64_t ph = height + pad_b, pw = width + pad_r;
  qkv_t = qkv_t.reshape({3 * b, height, width, c}).permute({0, 3, 1, 2});
  if (pad_r > 0 || pad_b > 0) qkv_t = F::pad(qkv_t, F::PadFuncOptions({0, pad_r, 0, pad_b}));
  qkv_t = qkv_t.reshape({3, b, c, -1}).transpose(-2, -1);  // (3,B,pH*pW,C), zero-padded
  const auto crop = [&](const torch::Tensor& t) { return t.slice(1, 0, height).slice(2, 0, width).reshape({b, l, half}); };
  torch::Tensor x1, x2;
  if (shifted_) {
    const torch::Tensor grid = qkv_t.reshape({3, b, ph, pw, c});
    const int64_t s0 = sh / 2, s1 = sw / 2;
    const torch::Tensor q0 = torch::roll(grid.slice(4, 0, half), {-s0, -s1}, {2, 3}).reshape({3, b, ph * pw, half});
    const torch::Tensor q1 = torch::roll(grid.slice(4, half, c), {-s1, -s0}, {2, 3}).reshape({3, b, ph * pw, half});
    torch::Tensor mask0 = attn_mask_0, mask1 = attn_mask_1;
    if (ph != options_.img_size || pw != options_.img_size) {
      std::pair<torch::Tensor, torch::Tensor> own;
      if (!masks.first.defined()) own = dat_shift_masks(ph, pw, sh, sw, x.device());
      const auto& use = masks.first.defined() ? masks : own;
      mask0 = use.first.to(x.dtype());
      mask1 = use.second.to(x.dtype());
    }
    x1 = crop(torch::roll(attns[0]->forward(q0, ph, pw, mask0), {s0, s1}, {1, 2}));
    x2 = crop(torch::roll(attns[1]->forward(q1, ph, pw, mask1), {s1, s0}, {1, 2}));
  } else {
    x1 = crop(attns[0]->forward(qkv_t.slice(3, 0, half), ph, pw, {}));
    x2 = crop(attns[1]->forward(qkv_t.slice(3, half, c), ph, pw, {}));
  }
  const torch::Tensor attended = torch::cat({x1, x2}, 2);  // (B,L,C)
  torch::Tensor conv_x = aim.dwconv->forward(v);
  const torch::Tensor channel_map = aim.channel_interaction->forward(conv_x).permute({0, 2, 3, 1}).reshape({b, 1, c});
  const torch::Tensor spatial_map = aim.spatial_interaction->forward(to_map(attended, height, width));
  conv_x = torch::sigmoid(spatial_map) * conv_x;
  return proj->forward(attended * torch::sigmoid(channel_map) + to_tokens(conv_x));
}

DatChannelAttentionImpl::DatChannelAttentionImpl(int64_t dim, int64_t num_heads_, bool qkv_bias) : num_heads(num_heads_) {
  if (num_heads < 1 || dim % num_heads != 0)
    throw Error("dat: embed_dim " + std::to_string(dim) + " is not divisible by num_heads " + std::to_string(num_heads));
  temperature = register_parameter("temperature", torch::ones({num_heads, 1, 1}));
  qkv = register_module("qkv", trunc_normal_linear(dim, 3 * dim, qkv_bias));
  proj = register_module("proj", trunc_normal_linear(dim, dim));
  aim = register_dat_interaction(*this, dim);
}

torch::Tensor DatChannelAttentionImpl::forward(const torch::Tensor& x, int64_t height, int64_t width) {
  const int64_t b = x.size(0), n = x.size(1), c = x.size(2);
  const torch::Tensor qkv_t = qkv->forward(x).reshape({b, n, 3, num_heads, c / num_heads}).permute({2, 0, 3, 1, 4});
  const auto unit = [](const torch::Tensor& t) { return F::normalize(t, F::NormalizeFuncOptions().dim(-1)); };
  const torch::Tensor q = unit(qkv_t[0].transpose(-2, -1)), k = unit(qkv_t[1].transpose(-2, -1));
  const torch::Tensor v = qkv_t[2].transpose(-2, -1);  // (B, heads, d, N)
  const torch::Tensor attn = torch::softmax(q.matmul(k.transpose(-2, -1)) * temperature, -1);
  torch::Tensor attended = attn.matmul(v).permute({0, 3, 1, 2}).reshape({b, n, c});
  torch::Tensor conv_x = aim.dwconv->forward(v.reshape({b, c, height, width}));
  const torch::Tensor channel_map = aim.channel_interaction->forward(to_map(attended, height, width));
  const torch::Tensor spatial_map = aim.spatial_interaction->forward(conv_x).permute({0, 2, 3, 1}).reshape({b, n, 1});
  attended = attended * torch::sigmoid(spatial_map);
  conv_x = conv_x * torch::sigmoid(channel_map);
  return proj->forward(attended + to_tokens(conv_x));
}

DatSgfnImpl::DatSgfnImpl(int64_t dim, int64_t hidden) {
  if (hidden < 2 || hidden % 2 != 0)
    throw Error("dat: the SGFN hidden width int(embed_dim * expansion_factor) must be even and >= 2, got " +
                std::to_string(hidden));
  fc1 = register_module("fc1", trunc_normal_linear(dim, hidden));
  sg = register_module("sg", std::make_shared<torch::nn::Module>());
  sg_norm = sg->register_module("norm", layer_norm(hidden / 2));
  sg_conv = sg->register_module("conv", depthwise3x3(hidden / 2));
  fc2 = register_module("fc2", trunc_normal_linear(hidden / 2, dim));
}

torch::Tensor DatSgfnImpl::forward(const torch::Tensor& x, int64_t height, int64_t width) {
  const auto halves = dat_gelu(fc1->forward(x)).chunk(2, -1);
  const torch::Tensor gate = swin_map_to_tokens(sg_conv->forward(to_map(sg_norm->forward(halves[1]), height, width)));
  return fc2->forward(halves[0] * gate);
}

DatBlockImpl::DatBlockImpl(const DatBlockOptions& o) : options_(o) {
  norm1 = register_module("norm1", layer_norm(o.dim));
  if (o.block_index % 2 == 0)
    spatial = register_module("attn", DatSpatialAttention(o));
  else
    channel = register_module("attn", DatChannelAttention(o.dim, o.num_heads, o.qkv_bias));
  const auto hidden = static_cast<int64_t>(static_cast<double>(o.dim) * o.expansion_factor);  // int() as the reference
  ffn = register_module("ffn", DatSgfn(o.dim, hidden));
  norm2 = register_module("norm2", layer_norm(o.dim));
}

torch::Tensor DatBlockImpl::forward(const torch::Tensor& x, int64_t height, int64_t width,
                                    const std::pair<torch::Tensor, torch::Tensor>& masks) {
  const torch::Tensor n1 = norm1->forward(x);
  const torch::Tensor a = spatial ? spatial->forward(n1, height, width, masks) : channel->forward(n1, height, width);
  const torch::Tensor y = x + swin_drop_path(a, options_.drop_path, is_training());
  return y + swin_drop_path(ffn->forward(norm2->forward(y), height, width), options_.drop_path, is_training());
}

DatResidualGroupImpl::DatResidualGroupImpl(const std::vector<DatBlockOptions>& block_options, bool three_conv) {
  auto list = register_module("blocks", torch::nn::ModuleList());
  for (const auto& o : block_options) {
    blocks.push_back(DatBlock(o));
    list->push_back(blocks.back());
  }
  conv = register_swin_resi_conv(*this, "conv", block_options.at(0).dim, three_conv);
}

torch::Tensor DatResidualGroupImpl::forward(const torch::Tensor& x, int64_t height, int64_t width,
                                            const std::pair<torch::Tensor, torch::Tensor>& masks) {
  torch::Tensor h = x;
  for (auto& blk : blocks) h = blk->forward(h, height, width, masks);
  return x + swin_map_to_tokens(conv(swin_tokens_to_map(h, height, width)));
}

}  // namespace srlab::models
