// HAT building blocks (see models/arch/hat.h): channel attention, HAB, OCAB, RHAG, the OCAB's relative
// position index. Window partition, the self-attention index, the shift mask, the attention arithmetic
// and the MLP are SwinIR's (models/arch/swinir_blocks.h).
#include <cmath>

#include "core/error.h"
#include "models/arch/hat.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {


/// Per-sample stochastic depth in training (timm DropPath: x / keep * Bernoulli(keep)); identity in eval.
torch::Tensor drop_path(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const double keep = 1.0 - p;
  const torch::Tensor k = (torch::rand({x.size(0), 1, 1}) < keep).to(x.options());
  return x * k / keep;
}
}  // namespace

torch::Tensor hat_oca_relative_position_index(int64_t window, int64_t overlap_window) {
  const torch::Tensor qi = torch::arange(window * window, torch::kLong);
  const torch::Tensor kj = torch::arange(overlap_window * overlap_window, torch::kLong);
  const torch::Tensor qy = qi.div(window, "floor"), qx = qi.remainder(window);
  const torch::Tensor ky = kj.div(overlap_window, "floor"), kx = kj.remainder(overlap_window);
  const int64_t offset = window - overlap_window + 1;
  const torch::Tensor dy = ky.unsqueeze(0) - qy.unsqueeze(1) + offset;  // (M^2, Mo^2)
  const torch::Tensor dx = kx.unsqueeze(0) - qx.unsqueeze(1) + offset;
  return dy * (window + overlap_window - 1) + dx;
}

HatChannelAttentionImpl::HatChannelAttentionImpl(int64_t dim, int64_t squeezed) {
  attention = register_module(
      "attention", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)),
                                         same_conv(dim, squeezed, 1), torch::nn::ReLU(), same_conv(squeezed, dim, 1),
                                         torch::nn::Sigmoid()));
}

torch::Tensor HatChannelAttentionImpl::forward(const torch::Tensor& x) { return x * attention->forward(x); }

HabImpl::HabImpl(const HabOptions& o) : options_(o) {
  norm1 = register_module("norm1", layer_norm(o.dim));
  attn = register_module("attn", WindowAttention(o.dim, o.window, o.num_heads, o.qkv_bias, /*own_index=*/false));
  conv_block = register_module("conv_block", std::make_shared<torch::nn::Module>());
  cab = conv_block->register_module(
      "cab", torch::nn::Sequential(same_conv(o.dim, o.compressed, 3), torch::nn::GELU(), same_conv(o.compressed, o.dim, 3),
                                   HatChannelAttention(o.dim, o.squeezed)));
  norm2 = register_module("norm2", layer_norm(o.dim));
  mlp = register_swin_mlp(*this, o.dim, static_cast<int64_t>(static_cast<double>(o.dim) * o.mlp_ratio));
}

torch::Tensor HabImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi_sa,
                               const torch::Tensor& mask) {
  const int64_t b = x.size(0), c = x.size(2), m = options_.window, s = options_.shift;
  const torch::Tensor h = norm1->forward(x).view({b, height, width, c});
  const torch::Tensor conv_x = cab->forward(h.permute({0, 3, 1, 2})).permute({0, 2, 3, 1}).reshape({b, height * width, c});
  torch::Tensor a = s > 0 ? torch::roll(h, {-s, -s}, {1, 2}) : h;
  a = attn->forward(swin_window_partition(a, m), rpi_sa, s > 0 ? mask : torch::Tensor());
  a = swin_window_reverse(a, m, height, width);
  if (s > 0) a = torch::roll(a, {s, s}, {1, 2});
  const bool training = is_training();
  const torch::Tensor y =
      x + drop_path(a.reshape({b, height * width, c}), options_.drop_path, training) + conv_x * options_.conv_scale;
  return y + drop_path(mlp(norm2->forward(y)), options_.drop_path, training);
}

OcabImpl::OcabImpl(int64_t dim, int64_t window_, int64_t overlap_window_, int64_t num_heads_, bool qkv_bias, double mlp_ratio)
    : window(window_), overlap_window(overlap_window_), num_heads(num_heads_) {
  if (num_heads < 1 || dim % num_heads != 0)
    throw Error("hat: embed_dim " + std::to_string(dim) + " is not divisible by num_heads " + std::to_string(num_heads));
  norm1 = register_module("norm1", layer_norm(dim));
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(qkv_bias)));
  const int64_t side = window + overlap_window - 1;
  relative_position_bias_table = register_parameter("relative_position_bias_table", torch::zeros({side * side, num_heads}));
  {
    torch::NoGradGuard ng;
    relative_position_bias_table.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  }
  proj = register_module("proj", torch::nn::Linear(dim, dim));
  swin_init_linear(qkv);
  swin_init_linear(proj);
  norm2 = register_module("norm2", layer_norm(dim));
  mlp = register_swin_mlp(*this, dim, static_cast<int64_t>(static_cast<double>(dim) * mlp_ratio));
}

torch::Tensor OcabImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi_oca) {
  const int64_t b = x.size(0), c = x.size(2), m = window, mo = overlap_window, d = c / num_heads;
  const torch::Tensor h = norm1->forward(x).view({b, height, width, c});
  const torch::Tensor qkv_t = qkv->forward(h).reshape({b, height, width, 3, c}).permute({3, 0, 4, 1, 2});  // (3,B,C,H,W)
  const torch::Tensor q_windows = swin_window_partition(qkv_t[0].permute({0, 2, 3, 1}), m);           // (B*nW, M^2, C)
  const torch::Tensor kv = torch::cat({qkv_t[1], qkv_t[2]}, 1);                                        // (B, 2C, H, W)
  const torch::Tensor unfolded =
      F::unfold(kv, F::UnfoldFuncOptions({mo, mo}).stride(m).padding((mo - m) / 2));  // (B, 2C*Mo^2, nW)
  const int64_t nw = unfolded.size(2);
  // (B, [2, C, Mo^2], nW) -> (2, B*nW, Mo^2, C): the official rearrange "b (nc ch owh oww) nw -> nc (b nw) (owh oww) ch".
  const torch::Tensor kv_windows = unfolded.view({b, 2, c, mo * mo, nw}).permute({1, 0, 4, 3, 2}).reshape({2, b * nw, mo * mo, c});
  const int64_t bw = q_windows.size(0), nq = q_windows.size(1), nk = mo * mo;
  const auto heads = [&](const torch::Tensor& t, int64_t n) { return t.reshape({bw, n, num_heads, d}).permute({0, 2, 1, 3}); };
  const torch::Tensor out = swin_biased_attention(heads(q_windows, nq), heads(kv_windows[0], nk), heads(kv_windows[1], nk),
                                                  swin_relative_bias(relative_position_bias_table, rpi_oca), torch::Tensor());
  const torch::Tensor y = proj->forward(swin_window_reverse(out, m, height, width).reshape({b, height * width, c})) + x;
  return y + mlp(norm2->forward(y));
}

RhagImpl::RhagImpl(const std::vector<HabOptions>& block_options, int64_t overlap_window, bool identity_resi) {
  const HabOptions& o = block_options.at(0);
  residual_group = register_module("residual_group", std::make_shared<torch::nn::Module>());
  auto list = residual_group->register_module("blocks", torch::nn::ModuleList());
  for (const auto& bo : block_options) {
    blocks.push_back(Hab(bo));
    list->push_back(blocks.back());
  }
  overlap_attn = residual_group->register_module(
      "overlap_attn", Ocab(o.dim, o.window, overlap_window, o.num_heads, o.qkv_bias, o.mlp_ratio));
  if (!identity_resi) conv = register_swin_resi_conv(*this, "conv", o.dim, false);
}

torch::Tensor RhagImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi_sa,
                                const torch::Tensor& rpi_oca, const torch::Tensor& mask) {
  torch::Tensor h = x;
  for (auto& blk : blocks) h = blk->forward(h, height, width, rpi_sa, mask);
  h = overlap_attn->forward(h, height, width, rpi_oca);
  if (conv.first.is_empty()) return h + x;
  return swin_map_to_tokens(conv(swin_tokens_to_map(h, height, width))) + x;
}

}  // namespace srlab::models
