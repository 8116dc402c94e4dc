// ATD building blocks (models/arch/atd.h): ATD-CA, AC-MSA, the window attention on precomputed qkv, the
// ConvFFN, the transformer layer and the ATDB. Reference: chaiNNer-org/spandrel libs/spandrel/spandrel/
// architectures/ATD/__arch/atd_arch.py (official LabShuHangGU/Adaptive-Token-Dictionary atd_arch.py).
#include <cmath>

#include "core/error.h"
#include "models/arch/atd.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {


/// Gathers rows of x (B, N, D) along N with index (B, N): out[b][i] = x[b][index[b][i]].
torch::Tensor gather_tokens(const torch::Tensor& x, const torch::Tensor& index) {
  return x.gather(1, index.unsqueeze(-1).expand({x.size(0), index.size(1), x.size(2)}));
}
}  // namespace

AtdCrossAttentionImpl::AtdCrossAttentionImpl(int64_t dim, int64_t num_tokens_, int64_t reducted_dim, bool qkv_bias)
    : num_tokens(num_tokens_) {
  wq = register_module("wq", trunc_normal_linear(dim, reducted_dim, qkv_bias));
  wk = register_module("wk", trunc_normal_linear(dim, reducted_dim, qkv_bias));
  wv = register_module("wv", trunc_normal_linear(dim, dim, qkv_bias));
  scale = register_parameter("scale", torch::full({num_tokens}, 0.5));
}

std::pair<torch::Tensor, torch::Tensor> AtdCrossAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& td) {
  const auto unit = F::NormalizeFuncOptions().dim(-1);
  const torch::Tensor q = F::normalize(wq->forward(x), unit);   // (B, N, r)
  const torch::Tensor k = F::normalize(wk->forward(td), unit);  // (B, m, r)
  const torch::Tensor v = wv->forward(td);                      // (B, m, C)
  torch::Tensor attn = q.matmul(k.transpose(-2, -1));           // (B, N, m)
  attn = attn * (1 + torch::clamp(scale, 0, 1) * std::log(static_cast<double>(num_tokens)));
  attn = torch::softmax(attn, -1);
  return {attn.matmul(v), attn};
}

AtdCategoryAttentionImpl::AtdCategoryAttentionImpl(int64_t dim, int64_t num_heads_, int64_t category_size_, bool qkv_bias)
    : num_heads(num_heads_), category_size(category_size_) {
  logit_scale = register_parameter("logit_scale", torch::full({1, 1}, std::log(10.0)));
  proj = register_module("proj", trunc_normal_linear(dim, dim, qkv_bias));
}

torch::Tensor AtdCategoryAttentionImpl::forward(const torch::Tensor& qkv, const torch::Tensor& sim) {
  const int64_t b = qkv.size(0), n = qkv.size(1), c3 = qkv.size(2), c = c3 / 3;
  const int64_t gs = std::min(n, category_size), ng = (n + gs - 1) / gs, pad = ng * gs - n;
  // Category per token, then the token order sorted by category. The reference sorts with
  // torch.sort(stable=False); ties are broken by that sort, so the same call is used here.
  const torch::Tensor category = sim.argmax(-1);                                         // (B, N)
  const torch::Tensor order = std::get<1>(torch::sort(category, /*stable=*/false, -1, false));  // (B, N)
  const torch::Tensor inverse =
      torch::empty_like(order).scatter_(1, order, torch::arange(n, order.options()).expand({b, n}).contiguous());
  torch::Tensor sorted = gather_tokens(qkv, order);  // (B, N, 3C)
  if (pad > 0) sorted = torch::cat({sorted, sorted.slice(1, n - pad, n).flip({1})}, 1);
  const torch::Tensor groups =
      sorted.reshape({b, ng, gs, 3, num_heads, c / num_heads}).permute({3, 0, 1, 4, 2, 5});  // (3, B, ng, h, gs, hd)
  const torch::Tensor max_scale = torch::log(torch::tensor(1.0f / 0.01f)).to(logit_scale.options());
  torch::Tensor attn = groups[0].matmul(groups[1].transpose(-2, -1));  // (B, ng, h, gs, gs)
  attn = attn * torch::clamp_max(logit_scale, max_scale).exp();
  attn = torch::softmax(attn, -1);
  const torch::Tensor y = attn.matmul(groups[2]).permute({0, 1, 3, 2, 4}).reshape({b, n + pad, c}).slice(1, 0, n);
  return proj->forward(gather_tokens(y, inverse));
}

AtdWindowAttentionImpl::AtdWindowAttentionImpl(int64_t dim, int64_t window, int64_t num_heads_) : num_heads(num_heads_) {
  relative_position_bias_table =
      register_parameter("relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), num_heads}));
  {
    torch::NoGradGuard ng;
    relative_position_bias_table.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  }
  proj = register_module("proj", trunc_normal_linear(dim, dim, true));
}

torch::Tensor AtdWindowAttentionImpl::forward(const torch::Tensor& qkv, const torch::Tensor& rpi, const torch::Tensor& mask) {
  return proj->forward(swin_window_attention_core(qkv, num_heads, relative_position_bias_table, rpi, mask));
}

AtdConvFfnImpl::AtdConvFfnImpl(int64_t dim, int64_t hidden, int64_t k) {
  fc1 = register_module("fc1", trunc_normal_linear(dim, hidden, true));
  auto dw = register_module("dwconv", std::make_shared<torch::nn::Module>());
  dwconv = torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, hidden, k).stride(1).padding((k - 1) / 2).groups(hidden));
  dw->register_module("depthwise_conv", torch::nn::Sequential(dwconv, torch::nn::GELU()));
  fc2 = register_module("fc2", trunc_normal_linear(hidden, dim, true));
}

torch::Tensor AtdConvFfnImpl::forward(const torch::Tensor& x, int64_t height, int64_t width) {
  const torch::Tensor h = torch::gelu(fc1->forward(x));
  const torch::Tensor d = torch::gelu(dwconv->forward(swin_tokens_to_map(h, height, width)));
  return fc2->forward(h + swin_map_to_tokens(d));
}

AtdLayerImpl::AtdLayerImpl(const AtdLayerOptions& o) : options_(o) {
  if (o.num_heads < 1 || o.dim % o.num_heads != 0)
    throw Error("atd: embed_dim " + std::to_string(o.dim) + " is not divisible by num_heads " + std::to_string(o.num_heads));
  norm1 = register_module("norm1", layer_norm(o.dim));
  norm2 = register_module("norm2", layer_norm(o.dim));
  if (!o.is_last) {
    auto n3 = register_module("norm3", std::make_shared<torch::nn::Module>());
    norm3_weight = n3->register_parameter("weight", torch::ones({o.num_tokens}));
    norm3_bias = n3->register_parameter("bias", torch::zeros({o.num_tokens}));
    sigma = register_parameter("sigma", torch::zeros({o.num_tokens, 1}));
  }
  wqkv = register_module("wqkv", trunc_normal_linear(o.dim, 3 * o.dim, o.qkv_bias));
  attn_win = register_module("attn_win", AtdWindowAttention(o.dim, o.window, o.num_heads));
  attn_atd = register_module("attn_atd", AtdCrossAttention(o.dim, o.num_tokens, o.reducted_dim, o.qkv_bias));
  attn_aca = register_module("attn_aca", AtdCategoryAttention(o.dim, o.num_heads, o.category_size, o.qkv_bias));
  const auto hidden = static_cast<int64_t>(static_cast<double>(o.dim) * o.mlp_ratio);  // int() as the reference
  convffn = register_module("convffn", AtdConvFfn(o.dim, hidden, o.kernel_size));
}

std::pair<torch::Tensor, torch::Tensor> AtdLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& td,
                                                              int64_t height, int64_t width, const torch::Tensor& rpi,
                                                              const torch::Tensor& mask) {
  const int64_t b = x.size(0), c = x.size(2), m = options_.window, s = options_.shift;
  const torch::Tensor xn = norm1->forward(x);
  const torch::Tensor qkv = wqkv->forward(xn);  // (B, N, 3C)
  const auto [x_atd, sim] = attn_atd->forward(xn, td);
  const torch::Tensor x_aca = attn_aca->forward(qkv, sim);

  torch::Tensor w = qkv.reshape({b, height, width, 3 * c});
  if (s > 0) w = torch::roll(w, {-s, -s}, {1, 2});
  w = attn_win->forward(swin_window_partition(w, m), rpi, s > 0 ? mask : torch::Tensor());
  w = swin_window_reverse(w, m, height, width);
  if (s > 0) w = torch::roll(w, {s, s}, {1, 2});

  torch::Tensor y = x + w.reshape({b, height * width, c}) + x_atd + x_aca;
  y = y + convffn->forward(norm2->forward(y), height, width);
  if (options_.is_last) return {y, td};
  // Adaptive refinement of the dictionary: each dictionary token mixes in the image tokens it attracts.
  const torch::Tensor normed = torch::instance_norm(sim.transpose(-1, -2), norm3_weight, norm3_bias, {}, {},
                                                    /*use_input_stats=*/true, 0.1, 1e-5, /*cudnn_enabled=*/false);
  const torch::Tensor mix = torch::softmax(normed, -1).matmul(y);  // (B, m, C)
  const torch::Tensor keep = torch::sigmoid(sigma);
  return {y, keep * td + (1 - keep) * mix};
}

AtdBlockImpl::AtdBlockImpl(const std::vector<AtdLayerOptions>& layer_options, bool three_conv) {
  const AtdLayerOptions& first = layer_options.at(0);
  residual_group = register_module("residual_group", std::make_shared<torch::nn::Module>());
  auto list = residual_group->register_module("layers", torch::nn::ModuleList());
  for (const auto& o : layer_options) {
    layers.push_back(AtdLayer(o));
    list->push_back(layers.back());
  }
  td = residual_group->register_parameter("td", torch::randn({first.num_tokens, first.dim}));
  conv = register_swin_resi_conv(*this, "conv", first.dim, three_conv);
}

torch::Tensor AtdBlockImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& rpi,
                                    const torch::Tensor& mask) {
  torch::Tensor h = x;
  torch::Tensor dict = td.unsqueeze(0).expand({x.size(0), td.size(0), td.size(1)});
  for (auto& layer : layers) std::tie(h, dict) = layer->forward(h, dict, height, width, rpi, mask);
  return swin_map_to_tokens(conv(swin_tokens_to_map(h, height, width))) + x;
}

}  // namespace srlab::models
