// RGT building blocks (models/arch/rgt.h): DPB, L-SA window attention, RG-SA, gated MLP, block, group.
#include <cmath>

#include "core/error.h"
#include "models/arch/rgt.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d depthwise(int64_t dim, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, kernel).stride(stride).padding(padding).groups(dim));
}

/// The (n, 2) float offsets (dy, dx), dy in [1-Wh, Wh-1] outer, dx in [1-Ww, Ww-1] inner (reference rpe_biases).
torch::Tensor offset_table(int64_t win_h, int64_t win_w) {
  const torch::Tensor dy = torch::arange(1 - win_h, win_h, torch::kLong);
  const torch::Tensor dx = torch::arange(1 - win_w, win_w, torch::kLong);
  const auto grid = torch::meshgrid({dy, dx}, "ij");
  return torch::stack({grid[0].flatten(), grid[1].flatten()}, 1).to(torch::kFloat32);
}

/// A Linear of in -> out with PyTorch's default init. in == 0 (the DPB of small models) is built as
/// PyTorch does it: a (out, 0) weight and a zero bias (bound 0 when fan_in is 0); LibTorch's init
/// would divide by fan_in 0, so it is built with in = 1 and the weight then emptied.
torch::nn::Linear rgt_linear(int64_t in, int64_t out, bool bias = true) {
  torch::nn::Linear l(torch::nn::LinearOptions(std::max<int64_t>(in, 1), out).bias(bias));
  if (in == 0) {
    torch::NoGradGuard ng;
    l->weight.set_data(torch::empty({out, 0}));
    if (bias) l->bias.zero_();
  }
  return l;
}

/// (B, L, C) tokens, L = H*W, -> (B, H, W, C).
torch::Tensor token_grid(const torch::Tensor& t, int64_t height, int64_t width) {
  return t.view({t.size(0), height, width, t.size(2)});
}
}  // namespace

bool rgt_block_shifted(int group, int block) {
  if (block % 2 != 0) return false;  // odd blocks are RG-SA
  return group % 2 == 0 ? (block > 0 && (block - 2) % 4 == 0) : block % 4 == 0;
}

int64_t rgt_reduction_steps(int64_t height, int64_t width, bool training) {
  const auto steps = [](int64_t n) -> int64_t {
    if (n < 1) return 0;
    return static_cast<int64_t>(std::log(static_cast<double>(n)) / std::log(4.0));  // Python int(math.log(n, 4))
  };
  if (training) return std::max(steps(height / 4), steps(width / 4));
  return std::max<int64_t>(2, std::max(steps(height / 16), steps(width / 16)));
}

// --- DPB ---

RgtDynamicPosBiasImpl::RgtDynamicPosBiasImpl(int64_t dim, int64_t num_heads) {
  const int64_t pd = dim / 4;
  pos_proj = register_module("pos_proj", rgt_linear(2, pd));
  const auto stage = [&](const std::string& name, torch::nn::LayerNorm& ln, torch::nn::Linear& lin, int64_t out) {
    ln = layer_norm(pd);
    lin = rgt_linear(pd, out);
    register_module(name, torch::nn::Sequential(ln, torch::nn::ReLU(), lin));
  };
  stage("pos1", ln1, lin1, pd);
  stage("pos2", ln2, lin2, pd);
  stage("pos3", ln3, lin3, num_heads);
}

torch::Tensor RgtDynamicPosBiasImpl::forward(const torch::Tensor& biases) {
  torch::Tensor p = pos_proj->forward(biases);
  if (p.size(-1) == 0) return lin3->bias.unsqueeze(0).expand({biases.size(0), lin3->bias.size(0)});
  p = lin1->forward(torch::relu(ln1->forward(p)));
  p = lin2->forward(torch::relu(ln2->forward(p)));
  return lin3->forward(torch::relu(ln3->forward(p)));
}

// --- L-SA ---

RgtWindowAttentionImpl::RgtWindowAttentionImpl(int64_t dim, int64_t heads, int64_t wh, int64_t ww)
    : num_heads(heads), win_h(wh), win_w(ww), scale(std::pow(static_cast<double>(dim / heads), -0.5)) {
  pos = register_module("pos", RgtDynamicPosBias(dim / 4, heads));
  rpe_biases = register_buffer("rpe_biases", offset_table(wh, ww));
  relative_position_index = register_buffer("relative_position_index", swin_relative_position_index(wh, ww));
}

torch::Tensor RgtWindowAttentionImpl::forward(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                              const torch::Tensor& v_in, int64_t height, int64_t width,
                                              const torch::Tensor& mask) {
  const int64_t c = q_in.size(2), n = win_h * win_w, hd = c / num_heads;
  const auto windows = [&](const torch::Tensor& t) {  // (B, L, C) -> (B', heads, N, hd)
    return swin_window_partition(token_grid(t, height, width), win_h, win_w)
        .reshape({-1, n, num_heads, hd})
        .permute({0, 2, 1, 3});
  };
  const torch::Tensor q = windows(q_in) * scale;
  torch::Tensor attn = q.matmul(windows(k_in).transpose(-2, -1));  // (B', heads, N, N)
  const torch::Tensor bias = pos->forward(rpe_biases).index_select(0, relative_position_index.view(-1)).view({n, n, -1});
  attn = attn + bias.permute({2, 0, 1}).unsqueeze(0);
  if (mask.defined()) {
    const int64_t nw = mask.size(0);
    attn = (attn.view({-1, nw, num_heads, n, n}) + mask.unsqueeze(1).unsqueeze(0)).view({-1, num_heads, n, n});
  }
  attn = torch::softmax(attn, -1);
  const torch::Tensor x = attn.matmul(windows(v_in)).transpose(1, 2).reshape({-1, n, c});
  return swin_window_reverse(x, win_h, win_w, height, width);
}

RgtLocalAttentionImpl::RgtLocalAttentionImpl(int64_t dim, int64_t heads, int64_t sh, int64_t sw, bool qkv_bias,
                                             bool shifted_, int64_t img)
    : split_h(sh), split_w(sw), img_size(img), shifted(shifted_) {
  qkv = register_module("qkv", rgt_linear(dim, 3 * dim, qkv_bias));
  proj = register_module("proj", rgt_linear(dim, dim));
  attn0 = RgtWindowAttention(dim / 2, heads / 2, sh, sw);
  attn1 = RgtWindowAttention(dim / 2, heads / 2, sw, sh);
  register_module("attns", torch::nn::ModuleList(attn0, attn1));
  if (shifted) {
    attn_mask_0 = register_buffer("attn_mask_0", swin_rect_shift_attention_mask(img, img, sh, sw, sh / 2, sw / 2));
    attn_mask_1 = register_buffer("attn_mask_1", swin_rect_shift_attention_mask(img, img, sw, sh, sw / 2, sh / 2));
  }
  get_v = register_module("get_v", depthwise(dim, 3, 1, 1));
}

torch::Tensor RgtLocalAttentionImpl::forward(const torch::Tensor& x, int64_t height, int64_t width,
                                             const RgtShiftMasks& masks) {
  const int64_t b = x.size(0), l = x.size(1), c = x.size(2), half = c / 2;
  const torch::Tensor qkv_t = qkv->forward(x).reshape({b, -1, 3, c}).permute({2, 0, 1, 3});  // (3, B, L, C)
  const torch::Tensor v_map = qkv_t[2].transpose(-2, -1).contiguous().view({b, c, height, width});
  const int64_t m = std::max(split_h, split_w);
  const int64_t pad_b = (m - height % m) % m, pad_r = (m - width % m) % m;
  const int64_t ph = height + pad_b, pw = width + pad_r;
  torch::Tensor grid = qkv_t.reshape({3 * b, height, width, c});  // zero padding as the reference's F.pad
  if (pad_b > 0 || pad_r > 0) grid = F::pad(grid.permute({0, 3, 1, 2}), F::PadFuncOptions({0, pad_r, 0, pad_b})).permute({0, 2, 3, 1});
  grid = grid.reshape({3, b, ph, pw, c});
  torch::Tensor g0 = grid.slice(4, 0, half), g1 = grid.slice(4, half, c);
  torch::Tensor mask0, mask1;
  if (shifted) {
    g0 = torch::roll(g0, {-(split_h / 2), -(split_w / 2)}, {2, 3});
    g1 = torch::roll(g1, {-(split_w / 2), -(split_h / 2)}, {2, 3});
    const bool own = ph == img_size && pw == img_size;
    mask0 = own ? attn_mask_0 : masks.mask0;
    mask1 = own ? attn_mask_1 : masks.mask1;
    if (!mask0.defined()) mask0 = swin_rect_shift_attention_mask(ph, pw, split_h, split_w, split_h / 2, split_w / 2, x.device()).to(x.dtype());
    if (!mask1.defined()) mask1 = swin_rect_shift_attention_mask(ph, pw, split_w, split_h, split_w / 2, split_h / 2, x.device()).to(x.dtype());
  }
  const auto tokens = [&](const torch::Tensor& g, int i) { return g[i].reshape({b, ph * pw, -1}); };
  torch::Tensor x0 = attn0->forward(tokens(g0, 0), tokens(g0, 1), tokens(g0, 2), ph, pw, mask0);  // (B, ph, pw, C/2)
  torch::Tensor x1 = attn1->forward(tokens(g1, 0), tokens(g1, 1), tokens(g1, 2), ph, pw, mask1);
  if (shifted) {
    x0 = torch::roll(x0, {split_h / 2, split_w / 2}, {1, 2});
    x1 = torch::roll(x1, {split_w / 2, split_h / 2}, {1, 2});
  }
  x0 = x0.slice(1, 0, height).slice(2, 0, width).reshape({b, l, half});
  x1 = x1.slice(1, 0, height).slice(2, 0, width).reshape({b, l, c - half});
  const torch::Tensor lcm = get_v->forward(v_map).permute({0, 2, 3, 1}).contiguous().view({b, l, c});
  return proj->forward(torch::cat({x0, x1}, 2) + lcm);
}

// --- RG-SA ---

RgtRecursiveAttentionImpl::RgtRecursiveAttentionImpl(int64_t dim, int64_t heads, bool qkv_bias, double c_ratio)
    : num_heads(heads),
      cr(static_cast<int64_t>(static_cast<double>(dim) * c_ratio)),
      scale(std::pow(static_cast<double>(dim / heads) * c_ratio, -0.5)) {
  reduction1 = register_module("reduction1", depthwise(dim, 4, 4, 0));
  dwconv = register_module("dwconv", depthwise(dim, 3, 1, 1));
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, cr, 1)));
  norm = layer_norm(cr);
  register_module("norm_act", torch::nn::Sequential(norm, torch::nn::GELU()));
  q = register_module("q", rgt_linear(dim, cr, qkv_bias));
  k = register_module("k", rgt_linear(cr, cr, qkv_bias));
  v = register_module("v", rgt_linear(cr, dim, qkv_bias));
  cpe = register_module("cpe", depthwise(dim, 3, 1, 1));
  proj = register_module("proj", rgt_linear(dim, dim));
}

torch::Tensor RgtRecursiveAttentionImpl::forward(const torch::Tensor& x, int64_t height, int64_t width) {
  const int64_t b = x.size(0), n = x.size(1), c = x.size(2);
  const int64_t steps = rgt_reduction_steps(height, width, is_training());
  int64_t factor = 1;
  for (int64_t i = 0; i < steps; ++i) factor *= 4;
  if (height < factor || width < factor)
    throw Error("rgt: RG-SA cannot shrink a " + std::to_string(height) + "x" + std::to_string(width) + " map " +
                std::to_string(steps) + " times by 4 (RgtImpl pads inputs so that this cannot happen)");
  torch::Tensor r = x.permute({0, 2, 1}).reshape({b, c, height, width}).contiguous();
  for (int64_t i = 0; i < steps; ++i) r = reduction1->forward(r);
  r = conv->forward(dwconv->forward(r)).reshape({b, cr, -1}).permute({0, 2, 1}).contiguous();  // (B, N', C')
  r = torch::gelu(norm->forward(r));
  const int64_t hd_qk = cr / num_heads, hd_v = c / num_heads;
  const torch::Tensor qh = q->forward(x).reshape({b, n, num_heads, hd_qk}).permute({0, 2, 1, 3});
  const torch::Tensor kh = k->forward(r).reshape({b, -1, num_heads, hd_qk}).permute({0, 2, 1, 3});
  torch::Tensor vh = v->forward(r).reshape({b, -1, num_heads, hd_v}).permute({0, 2, 1, 3});  // (B, heads, N', hd)
  const torch::Tensor attn = torch::softmax(qh.matmul(kh.transpose(-2, -1)) * scale, -1);
  const torch::Tensor v_map =
      vh.transpose(1, 2).reshape({b, -1, c}).transpose(1, 2).contiguous().view({b, c, height / factor, width / factor});
  vh = vh + cpe->forward(v_map).view({b, c, -1}).view({b, num_heads, hd_v, -1}).transpose(-1, -2);
  return proj->forward(attn.matmul(vh).transpose(1, 2).reshape({b, n, c}));
}

// --- MLP, block, group ---

RgtMlpImpl::RgtMlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", rgt_linear(dim, hidden));
  auto sg = register_module("sg", std::make_shared<torch::nn::Module>());
  sg_norm = sg->register_module("norm", layer_norm(hidden / 2));
  sg_conv = sg->register_module("conv", depthwise(hidden / 2, 3, 1, 1));
  fc2 = register_module("fc2", rgt_linear(hidden / 2, dim));
}

torch::Tensor RgtMlpImpl::forward(const torch::Tensor& x, int64_t height, int64_t width) {
  const torch::Tensor h = torch::gelu(fc1->forward(x));
  const auto halves = h.chunk(2, -1);
  const int64_t b = h.size(0), c2 = h.size(2) / 2;
  const torch::Tensor g = sg_conv->forward(sg_norm->forward(halves[1]).transpose(1, 2).contiguous().view({b, c2, height, width}))
                              .flatten(2)
                              .transpose(-1, -2);
  return fc2->forward(halves[0] * g);
}

RgtBlockImpl::RgtBlockImpl(const RgtOptions& o, int group, int block, double drop_path) : drop_path_(drop_path) {
  const int64_t c = o.embed_dim, heads = o.num_heads.at(group);
  gamma = register_parameter("gamma", torch::full({c}, 1e-4));
  norm1 = register_module("norm1", layer_norm(c));
  if (block % 2 == 0)
    local = register_module("attn", RgtLocalAttention(c, heads, o.split_size.at(0), o.split_size.at(1), o.qkv_bias,
                                                      rgt_block_shifted(group, block), o.img_size));
  else
    recursive = register_module("attn", RgtRecursiveAttention(c, heads, o.qkv_bias, o.c_ratio));
  mlp = register_module("mlp", RgtMlp(c, static_cast<int64_t>(static_cast<double>(c) * o.mlp_ratio)));
  norm2 = register_module("norm2", layer_norm(c));
}

torch::Tensor RgtBlockImpl::drop_path(const torch::Tensor& x) const {
  if (!is_training() || drop_path_ <= 0.0) return x;
  const double keep = 1.0 - drop_path_;
  // Per-sample keep decisions from the CPU generator, as timm's DropPath: x / keep * Bernoulli(keep).
  const torch::Tensor k = (torch::rand({x.size(0), 1, 1}) < keep).to(x.options());
  return x * k / keep;
}

torch::Tensor RgtBlockImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const RgtShiftMasks& masks) {
  const torch::Tensor a = local ? local->forward(norm1->forward(x), height, width, masks)
                                : recursive->forward(norm1->forward(x), height, width);
  torch::Tensor y = x + drop_path(a);
  y = y + drop_path(mlp->forward(norm2->forward(y), height, width));
  return y + x * gamma;
}

RgtResidualGroupImpl::RgtResidualGroupImpl(const RgtOptions& o, int group, const std::vector<double>& drop_paths) {
  auto list = register_module("blocks", torch::nn::ModuleList());
  for (int j = 0; j < o.depth.at(group); ++j) {
    blocks.push_back(RgtBlock(o, group, j, drop_paths.at(j)));
    list->push_back(blocks.back());
  }
  conv = register_swin_resi_conv(*this, "conv", o.embed_dim, o.three_conv);
}

torch::Tensor RgtResidualGroupImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const RgtShiftMasks& masks) {
  torch::Tensor h = x;
  for (auto& blk : blocks) h = blk->forward(h, height, width, masks);
  return x + swin_map_to_tokens(conv(swin_tokens_to_map(h, height, width)));
}

}  // namespace srlab::models
