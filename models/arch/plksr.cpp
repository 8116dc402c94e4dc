#include "models/arch/plksr.h"

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace {

torch::nn::Conv2d plksr_conv(int64_t in, int64_t out, int64_t k) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2));
}

/// The reference's trunc_normal_(std=0.02) (bounds +-2 = 100 sigma: a plain normal in practice).
torch::nn::Conv2d plksr_small_init(torch::nn::Conv2d c) {
  torch::NoGradGuard no_grad;
  c->weight.normal_(0.0, 0.02);
  return c;
}

/// Adds an empty holder module `name` to `parent` (for dotted reference keys such as lk.conv, attn.f.0).
std::shared_ptr<torch::nn::Module> holder(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}
}  // namespace

const std::vector<int> kPlksrScales{1, 2, 3, 4, 8};

ChannelLayerNormImpl::ChannelLayerNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
  bias = register_parameter("bias", torch::zeros({dim}));
}

torch::Tensor ChannelLayerNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor u = x.mean(1, true);
  const torch::Tensor v = (x - u).pow(2).mean(1, true);
  return weight.view({1, -1, 1, 1}) * ((x - u) / torch::sqrt(v + eps)) + bias.view({1, -1, 1, 1});
}

PlkBlockImpl::PlkBlockImpl(const PlksrOptions& o) {
  const int64_t d = o.dim;
  const bool real = o.variant == PlksrVariant::kRealPlksr;
  if (real && o.layer_norm) layer_norm = register_module("layer_norm", ChannelLayerNorm(d));
  const CcmType ccm = real ? CcmType::kDccm : o.ccm_type;
  const int64_t k0 = ccm == CcmType::kIccm ? 1 : 3, k2 = ccm == CcmType::kCcm ? 1 : 3;
  channel_mixer = torch::nn::Sequential(plksr_conv(d, 2 * d, k0));
  if (real)
    channel_mixer->push_back(torch::nn::Mish());
  else
    channel_mixer->push_back(torch::nn::GELU());
  channel_mixer->push_back(plksr_small_init(plksr_conv(2 * d, d, k2)));
  register_module(real ? "channel_mixer" : "channe_mixer", channel_mixer);
  pdim = static_cast<int64_t>(d * o.split_ratio);
  with_idt = !real && o.with_idt;
  lk_conv = plksr_small_init(plksr_conv(pdim, pdim, o.kernel_size));
  holder(*this, "lk")->register_module("conv", lk_conv);
  if (o.use_ea) {
    attn_conv = plksr_small_init(plksr_conv(d, d, 3));
    holder(*this, "attn")->register_module("f", torch::nn::Sequential(attn_conv, torch::nn::Sigmoid()));
  }
  refine = register_module("refine", plksr_small_init(plksr_conv(d, d, 1)));
  if (real && !o.layer_norm) norm = register_module("norm", torch::nn::GroupNorm(o.norm_groups, d));
}

torch::Tensor PlkBlockImpl::partial_large_kernel(const torch::Tensor& x) {
  const torch::Tensor x1 = x.narrow(1, 0, pdim), x2 = x.narrow(1, pdim, x.size(1) - pdim);
  torch::Tensor y1 = lk_conv->forward(x1);
  if (with_idt) y1 = y1 + x1;
  return torch::cat({y1, x2}, 1);
}

torch::Tensor PlkBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = layer_norm ? layer_norm->forward(x) : x;
  y = partial_large_kernel(channel_mixer->forward(y));
  if (attn_conv) y = y * torch::sigmoid(attn_conv->forward(y));
  y = refine->forward(y);
  if (norm) y = norm->forward(y);
  return y + x;
}

std::pair<std::string, std::string> plksr_invalid_option(const PlksrOptions& o) {
  if (o.dim < 1) return {"dim", "must be >= 1, got " + std::to_string(o.dim)};
  if (o.n_blocks < 1) return {"n_blocks", "must be >= 1, got " + std::to_string(o.n_blocks)};
  if (o.kernel_size < 1 || o.kernel_size % 2 == 0)
    return {"kernel_size", "must be odd and >= 1, got " + std::to_string(o.kernel_size)};
  const auto p = static_cast<int64_t>(o.dim * o.split_ratio);
  if (p < 1 || p > o.dim)
    return {"split_ratio", "must give 1..dim large-kernel channels (int(dim * split_ratio)), got " + std::to_string(p)};
  if (o.variant == PlksrVariant::kRealPlksr && !o.layer_norm && (o.norm_groups < 1 || o.dim % o.norm_groups != 0))
    return {"norm_groups", "must divide dim (" + std::to_string(o.dim) + "), got " + std::to_string(o.norm_groups)};
  if (o.variant == PlksrVariant::kPlksr && (o.layer_norm || o.dysample || o.dropout != 0.0))
    return {"layer_norm", "layer_norm, dysample and dropout exist in realplksr only"};
  if (o.dropout < 0.0 || o.dropout >= 1.0) return {"dropout", "must be in [0, 1), got " + std::to_string(o.dropout)};
  return {"", ""};
}

PlksrImpl::PlksrImpl(const PlksrOptions& o) : options_(o) {
  check_scale(type(), o.scale, kPlksrScales);
  const auto [key, problem] = plksr_invalid_option(o);
  if (!key.empty()) throw Error(type() + ": " + key + " " + problem);
  const int64_t s = o.scale, out = 3 * s * s;
  feats = torch::nn::Sequential(plksr_small_init(plksr_conv(3, o.dim, 3)));
  for (int i = 0; i < o.n_blocks; ++i) feats->push_back(PlkBlock(o));
  if (o.variant == PlksrVariant::kRealPlksr) feats->push_back(torch::nn::Dropout2d(o.dropout));
  feats->push_back(plksr_small_init(plksr_conv(o.dim, out, 3)));
  register_module("feats", feats);
  if (o.dysample) {
    DySampleOptions d;
    d.in_channels = out;
    d.out_channels = 3;
    d.scale = s;
    d.groups = s % 2 != 0 ? 3 : 4;
    d.end_convolution = s != 1;
    to_img = register_module("to_img", DySample(d));
  }
}

torch::Tensor PlksrImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, type());
  const int64_t s = options_.scale;
  const torch::Tensor x = feats->forward(lr) + lr.repeat_interleave(s * s, 1);
  return to_img ? to_img->forward(x) : torch::pixel_shuffle(x, s);
}

}  // namespace srlab::models
