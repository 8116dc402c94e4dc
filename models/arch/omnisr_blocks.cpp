// OmniSR building blocks (models/arch/omnisr.h): LayerNorm2d, window / grid token layouts, window / grid
// self-attention, channel attention, gated FFN, MBConv, OSA block, ESA, OSAG.
#include <cmath>

#include "core/error.h"
#include "models/arch/omnisr.h"
#include "models/arch/swinir_blocks.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
torch::nn::Conv2d omnisr_conv(int64_t in, int64_t out, int64_t k, bool bias, int64_t groups = 1, int64_t stride = 1,
                       int64_t pad = -1) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad < 0 ? k / 2 : pad).groups(groups).bias(bias));
}

/// A parameter-less container registered as `name` in `parent` (a reference nn.Sequential level).
std::shared_ptr<torch::nn::Module> level(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

/// Reference OSA_Block layer indices of the conv pre-norm residuals, in order.
constexpr int kConvStages[6] = {4, 5, 6, 10, 11, 12};
}  // namespace

// --- LayerNorm2d ---

OmniLayerNorm2dImpl::OmniLayerNorm2dImpl(int64_t channels, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor OmniLayerNorm2dImpl::forward(const torch::Tensor& x) {
  const torch::Tensor mu = x.mean(1, true);
  const torch::Tensor var = (x - mu).pow(2).mean(1, true);
  const torch::Tensor y = (x - mu) / (var + eps).sqrt();
  return weight.view({1, -1, 1, 1}) * y + bias.view({1, -1, 1, 1});
}

// --- token layouts ---

torch::Tensor omnisr_window_tokens(const torch::Tensor& x, int64_t window) {
  return swin_window_partition(x.permute({0, 2, 3, 1}), window);
}

torch::Tensor omnisr_window_map(const torch::Tensor& tokens, int64_t window, int64_t height, int64_t width) {
  return swin_window_reverse(tokens, window, height, width).permute({0, 3, 1, 2});
}

torch::Tensor omnisr_grid_tokens(const torch::Tensor& x, int64_t window) {
  const int64_t b = x.size(0), c = x.size(1), gh = x.size(2) / window, gw = x.size(3) / window;
  // (b, d, w1, x, w2, y) -> (b, x, y, w1, w2, d)
  return x.view({b, c, window, gh, window, gw}).permute({0, 3, 5, 2, 4, 1}).reshape({-1, window * window, c});
}

torch::Tensor omnisr_grid_map(const torch::Tensor& tokens, int64_t window, int64_t height, int64_t width) {
  const int64_t c = tokens.size(2), gh = height / window, gw = width / window;
  const int64_t b = tokens.size(0) / (gh * gw);
  // (b, x, y, w1, w2, d) -> (b, d, w1, x, w2, y)
  return tokens.view({b, gh, gw, window, window, c}).permute({0, 5, 3, 1, 4, 2}).reshape({b, c, height, width});
}

// --- self-attention ---

OmniAttentionImpl::OmniAttentionImpl(int64_t dim, int64_t window, bool with_pe) {
  to_qkv = register_module("to_qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(false)));
  to_out = level(*this, "to_out")->register_module("0", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
  if (with_pe) {
    rel_pos_bias = register_module("rel_pos_bias", torch::nn::Embedding((2 * window - 1) * (2 * window - 1), heads));
    rel_pos_indices = swin_relative_position_index(window);
  }
}

torch::Tensor OmniAttentionImpl::forward(const torch::Tensor& x) {
  const torch::Tensor table = rel_pos_bias.is_empty() ? torch::Tensor() : rel_pos_bias->weight;
  // The index is no buffer (the reference's is non-persistent), so module.to(device) does not move it.
  if (table.defined() && rel_pos_indices.device() != table.device()) rel_pos_indices = rel_pos_indices.to(table.device());
  return to_out->forward(swin_window_attention_core(to_qkv->forward(x), heads, table, rel_pos_indices, {}));
}

// --- channel attention ---

OmniChannelAttentionImpl::OmniChannelAttentionImpl(int64_t dim, int64_t window_, bool grid_) : window(window_), grid(grid_) {
  temperature = register_parameter("temperature", torch::ones({heads, 1, 1}));
  qkv = register_module("qkv", omnisr_conv(dim, 3 * dim, 1, false));
  qkv_dwconv = register_module("qkv_dwconv", omnisr_conv(3 * dim, 3 * dim, 3, false, 3 * dim));
  project_out = register_module("project_out", omnisr_conv(dim, dim, 1, false));
}

torch::Tensor OmniChannelAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), m = window, d = c / heads;
  const int64_t gh = h / m, gw = w / m;
  // (b, head, d, h, ph, w, pw); window: groups (h w), tokens (ph pw); grid: groups (ph pw), tokens (h w).
  const std::vector<int64_t> order =
      grid ? std::vector<int64_t>{0, 4, 6, 1, 2, 3, 5} : std::vector<int64_t>{0, 3, 5, 1, 2, 4, 6};
  const int64_t groups = grid ? m * m : gh * gw, tokens = grid ? gh * gw : m * m;
  const auto split = [&](const torch::Tensor& t) {
    return t.reshape({b, heads, d, gh, m, gw, m}).permute(order).reshape({b, groups, heads, d, tokens});
  };
  const auto chunks = qkv_dwconv->forward(qkv->forward(x)).chunk(3, 1);
  const torch::Tensor q = F::normalize(split(chunks[0]), F::NormalizeFuncOptions().dim(-1));
  const torch::Tensor k = F::normalize(split(chunks[1]), F::NormalizeFuncOptions().dim(-1));
  const torch::Tensor v = split(chunks[2]);
  const torch::Tensor attn = (q.matmul(k.transpose(-2, -1)) * temperature).softmax(-1);
  const torch::Tensor out = attn.matmul(v);  // (b, groups, heads, d, tokens)
  // back to (b, head, d, h, ph, w, pw)
  const torch::Tensor map =
      grid ? out.view({b, m, m, heads, d, gh, gw}).permute({0, 3, 4, 5, 1, 6, 2})
           : out.view({b, gh, gw, heads, d, m, m}).permute({0, 3, 4, 1, 5, 2, 6});
  return project_out->forward(map.reshape({b, c, h, w}));
}

// --- gated FFN ---

OmniGatedFfnImpl::OmniGatedFfnImpl(int64_t dim) {
  project_in = register_module("project_in", omnisr_conv(dim, 2 * dim, 1, false));
  dwconv = register_module("dwconv", omnisr_conv(2 * dim, 2 * dim, 3, false, 2 * dim));
  project_out = register_module("project_out", omnisr_conv(dim, dim, 1, false));
}

torch::Tensor OmniGatedFfnImpl::forward(const torch::Tensor& x) {
  const auto ab = dwconv->forward(project_in->forward(x)).chunk(2, 1);
  return project_out->forward(torch::gelu(ab[0]) * ab[1]);
}

// --- MBConv ---

OmniMbConvImpl::OmniMbConvImpl(int64_t dim) {
  auto fn = level(*this, "fn");
  conv_in = fn->register_module("0", omnisr_conv(dim, dim, 1, true));
  dwconv = fn->register_module("2", omnisr_conv(dim, dim, 3, true, dim));
  auto gate = level(*level(*fn, "4"), "gate");
  const auto hidden = static_cast<int64_t>(static_cast<double>(dim) * 0.25);  // int(dim * shrinkage_rate)
  gate_down = gate->register_module("1", torch::nn::Linear(torch::nn::LinearOptions(dim, hidden).bias(false)));
  gate_up = gate->register_module("3", torch::nn::Linear(torch::nn::LinearOptions(hidden, dim).bias(false)));
  conv_out = fn->register_module("5", omnisr_conv(dim, dim, 1, true));
}

torch::Tensor OmniMbConvImpl::forward(const torch::Tensor& x) {
  torch::Tensor t = torch::gelu(dwconv->forward(torch::gelu(conv_in->forward(x))));
  const torch::Tensor g = torch::sigmoid(gate_up->forward(F::silu(gate_down->forward(t.mean({2, 3})))));
  t = t * g.view({g.size(0), g.size(1), 1, 1});
  return conv_out->forward(t) + x;
}

// --- OSA block ---

OsaBlockImpl::OsaBlockImpl(int64_t dim, int64_t window_, bool with_pe) : window(window_) {
  auto layer = level(*this, "layer");
  mbconv = layer->register_module("0", OmniMbConv(dim));
  const auto attention = [&](const std::string& index, torch::nn::LayerNorm& norm, OmniAttention& attn) {
    auto stage = level(*layer, index);
    norm = stage->register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    attn = stage->register_module("fn", OmniAttention(dim, window, with_pe));
  };
  attention("2", window_norm, window_attn);
  for (int i : kConvStages) {
    auto stage = level(*layer, std::to_string(i));
    conv_norms.push_back(stage->register_module("norm", OmniLayerNorm2d(dim)));
    if (i == 5 || i == 11) {
      (i == 5 ? window_channel : grid_channel) = stage->register_module("fn", OmniChannelAttention(dim, window, i == 11));
    } else {
      ffns.push_back(stage->register_module("fn", OmniGatedFfn(dim)));
    }
    if (i == 6) attention("8", grid_norm, grid_attn);  // registration order as the reference (layer.8 after 6)
  }
}

torch::Tensor OsaBlockImpl::forward(const torch::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  torch::Tensor y = mbconv->forward(x);
  torch::Tensor t = omnisr_window_tokens(y, window);
  y = omnisr_window_map(window_attn->forward(window_norm->forward(t)) + t, window, h, w);
  y = ffns[0]->forward(conv_norms[0]->forward(y)) + y;
  y = window_channel->forward(conv_norms[1]->forward(y)) + y;
  y = ffns[1]->forward(conv_norms[2]->forward(y)) + y;
  t = omnisr_grid_tokens(y, window);
  y = omnisr_grid_map(grid_attn->forward(grid_norm->forward(t)) + t, window, h, w);
  y = ffns[2]->forward(conv_norms[3]->forward(y)) + y;
  y = grid_channel->forward(conv_norms[4]->forward(y)) + y;
  return ffns[3]->forward(conv_norms[5]->forward(y)) + y;
}

// --- ESA ---

OmniEsaImpl::OmniEsaImpl(int64_t f, int64_t channels) {
  conv1 = register_module("conv1", omnisr_conv(channels, f, 1, true));
  conv_f = register_module("conv_f", omnisr_conv(f, f, 1, true));
  conv2 = register_module("conv2", omnisr_conv(f, f, 3, true, 1, 2, 0));
  conv3 = register_module("conv3", omnisr_conv(f, f, 3, true));
  conv4 = register_module("conv4", omnisr_conv(f, channels, 1, true));
}

torch::Tensor OmniEsaImpl::forward(const torch::Tensor& x) {
  const torch::Tensor c1 = conv1->forward(x);
  torch::Tensor c = F::max_pool2d(conv2->forward(c1), F::MaxPool2dFuncOptions(7).stride(3));
  c = F::interpolate(conv3->forward(c), F::InterpolateFuncOptions()
                                            .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                            .mode(torch::kBilinear)
                                            .align_corners(false));
  return x * torch::sigmoid(conv4->forward(c + conv_f->forward(c1)));
}

// --- OSAG ---

OsagImpl::OsagImpl(int64_t dim, int64_t block_num, int64_t window, bool with_pe, bool bias) {
  auto list = level(*this, "residual_layer");
  for (int64_t i = 0; i < block_num; ++i)
    blocks.push_back(list->register_module(std::to_string(i), OsaBlock(dim, window, with_pe)));
  conv = list->register_module(std::to_string(block_num), torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 1).bias(bias)));
  esa = register_module("esa", OmniEsa(std::max<int64_t>(dim / 4, 16), dim));
}

torch::Tensor OsagImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (auto& b : blocks) y = b->forward(y);
  return esa->forward(conv->forward(y) + x);
}

}  // namespace srlab::models
