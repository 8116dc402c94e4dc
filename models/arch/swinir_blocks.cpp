#include "models/arch/swinir_blocks.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
/// Official initialisation of Linear layers (timm trunc_normal_ std 0.02 with bounds +-2, zero bias).
void init_linear(torch::nn::Linear& l) {
  torch::NoGradGuard ng;
  l->weight.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  if (l->bias.defined()) l->bias.zero_();
}


/// Region label of each of `n` rows (or columns) of a cyclically shifted map: 0 for [0, n-M), 1 for
/// [n-M, n-shift), 2 for [n-shift, n).
torch::Tensor region_labels(int64_t n, int64_t window, int64_t shift) {
  const torch::Tensor r = torch::arange(n, torch::kLong);
  return (r >= n - window).to(torch::kLong) + (r >= n - shift).to(torch::kLong);
}
}  // namespace

torch::Tensor swin_window_partition(const torch::Tensor& x, int64_t window) {
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  return x.view({b, h / window, window, w / window, window, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({-1, window * window, c});
}

torch::Tensor swin_window_reverse(const torch::Tensor& windows, int64_t window, int64_t height, int64_t width) {
  const int64_t c = windows.size(-1);
  const int64_t b = windows.size(0) / ((height / window) * (width / window));
  return windows.view({b, height / window, width / window, window, window, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({b, height, width, c});
}

torch::Tensor swin_relative_position_index(int64_t window) {
  const torch::Tensor t = torch::arange(window * window, torch::kLong);
  const torch::Tensor y = t.div(window, "floor"), x = t.remainder(window);
  const torch::Tensor dy = y.unsqueeze(1) - y.unsqueeze(0) + (window - 1);
  const torch::Tensor dx = x.unsqueeze(1) - x.unsqueeze(0) + (window - 1);
  return dy * (2 * window - 1) + dx;
}

torch::Tensor swin_shift_attention_mask(int64_t height, int64_t width, int64_t window, int64_t shift,
                                        torch::Device device) {
  if (window < 1 || height % window != 0 || width % window != 0 || shift <= 0 || shift >= window)
    throw Error("swinir: shifted-window mask needs H, W multiples of the window and 0 < shift < window, got " +
                std::to_string(height) + "x" + std::to_string(width) + ", window " + std::to_string(window) +
                ", shift " + std::to_string(shift));
  const torch::Tensor label = region_labels(height, window, shift).unsqueeze(1) * 3 +
                              region_labels(width, window, shift).unsqueeze(0);            // (H,W)
  const torch::Tensor win = swin_window_partition(label.view({1, height, width, 1}), window).squeeze(-1);  // (nW,N)
  const torch::Tensor differs = win.unsqueeze(1) != win.unsqueeze(2);                      // (nW,N,N)
  return (differs.to(torch::kFloat32) * -100.0f).to(device);
}

WindowAttentionImpl::WindowAttentionImpl(int64_t dim, int64_t window_, int64_t num_heads_, bool qkv_bias, bool own_index)
    : window(window_), num_heads(num_heads_) {
  if (num_heads < 1 || dim % num_heads != 0)
    throw Error("window attention: embed_dim " + std::to_string(dim) + " is not divisible by num_heads " +
                std::to_string(num_heads) + "; choose heads that divide embed_dim");
  relative_position_bias_table =
      register_parameter("relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), num_heads}));
  {
    torch::NoGradGuard ng;
    relative_position_bias_table.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  }
  if (own_index) relative_position_index = register_buffer("relative_position_index", swin_relative_position_index(window));
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(qkv_bias)));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
  init_linear(qkv);
  init_linear(proj);
}

torch::Tensor WindowAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  return forward(x, relative_position_index, mask);
}

torch::Tensor WindowAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& index, const torch::Tensor& mask) {
  return proj->forward(swin_window_attention_core(qkv->forward(x), num_heads, relative_position_bias_table, index, mask));
}

SwinTransformerBlockImpl::SwinTransformerBlockImpl(const SwinBlockOptions& o) : options_(o) {
  const auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim}).eps(1e-5)); };
  norm1 = register_module("norm1", ln());
  attn = register_module("attn", WindowAttention(o.dim, o.window, o.num_heads, o.qkv_bias));
  norm2 = register_module("norm2", ln());
  const auto hidden = static_cast<int64_t>(static_cast<double>(o.dim) * o.mlp_ratio);  // int() as the reference
  const SwinMlp m = register_swin_mlp(*this, o.dim, hidden);
  mlp = named_children()["mlp"];
  fc1 = m.fc1;
  fc2 = m.fc2;
  if (o.shift > 0) attn_mask = register_buffer("attn_mask", swin_shift_attention_mask(o.img_size, o.img_size, o.window, o.shift));
}

torch::Tensor SwinTransformerBlockImpl::drop_path(const torch::Tensor& x) const {
  // Per-sample keep decisions drawn from the CPU generator (saved in checkpoints: resume stays exact on
  // every device), as timm's DropPath: x / keep * Bernoulli(keep).
  return swin_drop_path(x, options_.drop_path, is_training());
}

torch::Tensor SwinTransformerBlockImpl::mask_for(int64_t height, int64_t width, const torch::Tensor& shift_mask) const {
  if (options_.shift == 0) return {};
  if (height == options_.img_size && width == options_.img_size) return attn_mask;
  if (!shift_mask.defined())
    return swin_shift_attention_mask(height, width, options_.window, options_.shift, attn_mask.device());
  return shift_mask;
}

torch::Tensor SwinTransformerBlockImpl::forward(const torch::Tensor& x, int64_t height, int64_t width,
                                                const torch::Tensor& shift_mask) {
  const int64_t b = x.size(0), c = x.size(2), m = options_.window, s = options_.shift;
  torch::Tensor h = norm1->forward(x).view({b, height, width, c});
  if (s > 0) h = torch::roll(h, {-s, -s}, {1, 2});
  h = attn->forward(swin_window_partition(h, m), mask_for(height, width, shift_mask));
  h = swin_window_reverse(h, m, height, width);
  if (s > 0) h = torch::roll(h, {s, s}, {1, 2});
  const torch::Tensor y = x + drop_path(h.reshape({b, height * width, c}));
  return y + drop_path(fc2->forward(torch::gelu(fc1->forward(norm2->forward(y)))));
}

torch::Tensor SwinResiConv::operator()(const torch::Tensor& x) {
  if (!three_conv()) return first->forward(x);
  const auto lrelu = [](const torch::Tensor& t) { return F::leaky_relu(t, F::LeakyReLUFuncOptions().negative_slope(kSwinLeakySlope)); };
  return last->forward(lrelu(mid->forward(lrelu(first->forward(x)))));
}

SwinResiConv register_swin_resi_conv(torch::nn::Module& parent, const std::string& name, int64_t dim, bool three_conv) {
  SwinResiConv r;
  if (!three_conv) {
    r.first = parent.register_module(name, same_conv(dim, dim, 3));
    return r;
  }
  if (dim < 4)
    throw Error("swinir: resi_connection 3conv needs embed_dim >= 4 (it uses embed_dim/4 channels), got " +
                std::to_string(dim));
  const int64_t q = dim / 4;
  r.first = same_conv(dim, q, 3);
  r.mid = same_conv(q, q, 1);
  r.last = same_conv(q, dim, 3);
  const auto lrelu = torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kSwinLeakySlope));
  parent.register_module(name, torch::nn::Sequential(r.first, lrelu, r.mid, lrelu, r.last));
  return r;
}

RstbImpl::RstbImpl(const std::vector<SwinBlockOptions>& block_options, bool three_conv) {
  residual_group = register_module("residual_group", std::make_shared<torch::nn::Module>());
  auto list = residual_group->register_module("blocks", torch::nn::ModuleList());
  for (const auto& o : block_options) {
    blocks.push_back(SwinTransformerBlock(o));
    list->push_back(blocks.back());
  }
  conv = register_swin_resi_conv(*this, "conv", block_options.at(0).dim, three_conv);
}

torch::Tensor RstbImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& shift_mask) {
  torch::Tensor h = x;
  for (auto& blk : blocks) h = blk->forward(h, height, width, shift_mask);
  return swin_map_to_tokens(conv(swin_tokens_to_map(h, height, width))) + x;
}

torch::Tensor swin_tokens_to_map(const torch::Tensor& tokens, int64_t height, int64_t width) {
  return tokens.transpose(1, 2).reshape({tokens.size(0), tokens.size(2), height, width});
}

torch::Tensor swin_map_to_tokens(const torch::Tensor& map) { return map.flatten(2).transpose(1, 2); }

// --- shared with omnisr ---

torch::Tensor swin_window_attention_core(const torch::Tensor& qkv, int64_t num_heads, const torch::Tensor& bias_table,
                                         const torch::Tensor& index, const torch::Tensor& mask) {
  const int64_t bw = qkv.size(0), n = qkv.size(1), c = qkv.size(2) / 3, hd = c / num_heads;
  const torch::Tensor qkv_t = qkv.reshape({bw, n, 3, num_heads, hd}).permute({2, 0, 3, 1, 4});
  const torch::Tensor bias = bias_table.defined() ? swin_relative_bias(bias_table, index) : torch::Tensor();
  const torch::Tensor out = swin_window_attention_core(qkv_t[0], qkv_t[1], qkv_t[2], std::pow(static_cast<double>(hd), -0.5), bias, mask);
  return out.transpose(1, 2).reshape({bw, n, c});
}

}  // namespace srlab::models

// --- shared with dat ---
namespace srlab::models {

torch::Tensor swin_window_partition(const torch::Tensor& x, int64_t window_h, int64_t window_w) {
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  return x.view({b, h / window_h, window_h, w / window_w, window_w, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({-1, window_h * window_w, c});
}

torch::Tensor swin_window_reverse(const torch::Tensor& windows, int64_t window_h, int64_t window_w, int64_t height,
                                  int64_t width) {
  const int64_t c = windows.size(-1);
  const int64_t b = windows.size(0) / ((height / window_h) * (width / window_w));
  return windows.view({b, height / window_h, width / window_w, window_h, window_w, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({b, height, width, c});
}

torch::Tensor swin_relative_position_index(int64_t window_h, int64_t window_w) {
  const torch::Tensor t = torch::arange(window_h * window_w, torch::kLong);
  const torch::Tensor y = t.div(window_w, "floor"), x = t.remainder(window_w);
  const torch::Tensor dy = y.unsqueeze(1) - y.unsqueeze(0) + (window_h - 1);
  const torch::Tensor dx = x.unsqueeze(1) - x.unsqueeze(0) + (window_w - 1);
  return dy * (2 * window_w - 1) + dx;
}

torch::Tensor swin_rect_shift_attention_mask(int64_t height, int64_t width, int64_t window_h, int64_t window_w,
                                             int64_t shift_h, int64_t shift_w, torch::Device device) {
  if (window_h < 1 || window_w < 1 || height % window_h != 0 || width % window_w != 0 || shift_h < 0 ||
      shift_h >= window_h || shift_w < 0 || shift_w >= window_w)
    throw Error("shifted-window mask needs H, W multiples of the window and 0 <= shift < window, got " +
                std::to_string(height) + "x" + std::to_string(width) + ", window " + std::to_string(window_h) + "x" +
                std::to_string(window_w) + ", shift " + std::to_string(shift_h) + "," + std::to_string(shift_w));
  const auto labels = [](int64_t n, int64_t window, int64_t shift) {
    return shift == 0 ? torch::zeros({n}, torch::kLong) : region_labels(n, window, shift);
  };
  const torch::Tensor label = labels(height, window_h, shift_h).unsqueeze(1) * 3 + labels(width, window_w, shift_w).unsqueeze(0);
  const torch::Tensor win =
      swin_window_partition(label.view({1, height, width, 1}), window_h, window_w).squeeze(-1);  // (nW,N)
  const torch::Tensor differs = win.unsqueeze(1) != win.unsqueeze(2);
  return (differs.to(torch::kFloat32) * -100.0f).to(device);
}

torch::Tensor swin_window_attention_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         double scale, const torch::Tensor& bias, const torch::Tensor& mask) {
  torch::Tensor attn = (q * scale).matmul(k.transpose(-2, -1));
  if (bias.defined()) attn = attn + bias.unsqueeze(0);
  if (mask.defined()) {
    const int64_t bw = attn.size(0), heads = attn.size(1), nq = attn.size(2), nk = attn.size(3), nw = mask.size(0);
    attn = (attn.view({bw / nw, nw, heads, nq, nk}) + mask.unsqueeze(1).unsqueeze(0)).view({-1, heads, nq, nk});
  }
  return torch::softmax(attn, -1).matmul(v);
}

torch::Tensor swin_drop_path(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const double keep = 1.0 - p;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  const torch::Tensor k = (torch::rand(shape) < keep).to(x.options());
  return x * k / keep;
}

// --- shared with hat ---
torch::Tensor swin_biased_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const torch::Tensor& bias, const torch::Tensor& mask) {
  const int64_t bw = q.size(0), heads = q.size(1), nq = q.size(2), hd = q.size(3);
  return swin_window_attention_core(q, k, v, std::pow(static_cast<double>(hd), -0.5), bias, mask)
      .transpose(1, 2)
      .reshape({bw, nq, heads * hd});
}

torch::Tensor swin_relative_bias(const torch::Tensor& table, const torch::Tensor& index) {
  const torch::Tensor rows = index.to(table.device()).view(-1).remainder(table.size(0));  // Python's negative indexing
  return table.index_select(0, rows).view({index.size(0), index.size(1), -1}).permute({2, 0, 1});
}

torch::Tensor SwinMlp::operator()(const torch::Tensor& x) { return fc2->forward(torch::gelu(fc1->forward(x))); }

SwinMlp register_swin_mlp(torch::nn::Module& parent, int64_t dim, int64_t hidden) {
  auto mlp = parent.register_module("mlp", std::make_shared<torch::nn::Module>());
  SwinMlp m;
  m.fc1 = mlp->register_module("fc1", torch::nn::Linear(dim, hidden));
  m.fc2 = mlp->register_module("fc2", torch::nn::Linear(hidden, dim));
  init_linear(m.fc1);
  init_linear(m.fc2);
  return m;
}

void swin_init_linear(torch::nn::Linear& linear) { init_linear(linear); }

}  // namespace srlab::models
