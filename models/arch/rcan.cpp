#include "models/arch/rcan.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/reflect_pad.h"

namespace srlab::models {

namespace {
const std::vector<int> kRcanScales{1, 2, 3, 4, 8};
const std::vector<std::string> kActModes{"relu", "leaky_relu", "elu", "silu", "gelu", "none"};

/// The reference's default_conv: k x k, padding k/2, bias.

/// The reference's get_activation (in-place variants are the same function).
torch::nn::AnyModule activation(const std::string& mode) {
  if (mode == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (mode == "leaky_relu") return torch::nn::AnyModule(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
  if (mode == "elu") return torch::nn::AnyModule(torch::nn::ELU(torch::nn::ELUOptions().alpha(1.0)));
  if (mode == "silu") return torch::nn::AnyModule(torch::nn::SiLU());
  if (mode == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  return torch::nn::AnyModule(torch::nn::Identity());
}

/// A MeanShift conv (3 -> 3, 1x1): identity weight, bias sign * rgb_range * mean.
torch::nn::Conv2d mean_shift(double rgb_range, double sign) {
  torch::nn::Conv2d c(torch::nn::Conv2dOptions(3, 3, 1).bias(true));
  torch::NoGradGuard ng;
  c->weight.copy_(torch::eye(3).view({3, 3, 1, 1}));
  for (int i = 0; i < 3; ++i)  // float32 product, as the reference's sign * rgb_range * Tensor(rgb_mean)
    c->bias[i].fill_(static_cast<float>(sign * rgb_range) * kDiv2kRgbMean[i]);
  return c;
}
}  // namespace

RcanChannelAttentionImpl::RcanChannelAttentionImpl(int64_t channels, int64_t reduction) {
  conv_du = register_module("conv_du", torch::nn::Sequential(same_conv(channels, channels / reduction, 1), torch::nn::ReLU(),
                                                             same_conv(channels / reduction, channels, 1), torch::nn::Sigmoid()));
}

torch::Tensor RcanChannelAttentionImpl::forward(const torch::Tensor& x) {
  return x * conv_du->forward(torch::adaptive_avg_pool2d(x, {1, 1}));
}

RcabImpl::RcabImpl(int64_t channels, int64_t kernel_size, int64_t reduction, const std::string& act_mode) {
  body = torch::nn::Sequential();
  body->push_back(same_conv(channels, channels, kernel_size));
  body->push_back(activation(act_mode));
  body->push_back(same_conv(channels, channels, kernel_size));
  body->push_back(RcanChannelAttention(channels, reduction));
  register_module("body", body);
}

torch::Tensor RcabImpl::forward(const torch::Tensor& x) { return body->forward(x) + x; }

RcanResidualGroupImpl::RcanResidualGroupImpl(int64_t channels, int64_t kernel_size, int64_t reduction,
                                             const std::string& act_mode, int64_t n_resblocks) {
  body = torch::nn::Sequential();
  for (int64_t b = 0; b < n_resblocks; ++b) body->push_back(Rcab(channels, kernel_size, reduction, act_mode));
  body->push_back(same_conv(channels, channels, kernel_size));
  register_module("body", body);
}

torch::Tensor RcanResidualGroupImpl::forward(const torch::Tensor& x) { return body->forward(x) + x; }

std::pair<std::string, std::string> rcan_validate(const RcanOptions& o) {
  if (std::find(kRcanScales.begin(), kRcanScales.end(), o.scale) == kRcanScales.end())
    return {"scale", "must be 1, 2, 3, 4 or 8, got " + std::to_string(o.scale)};
  if (o.unshuffle_mod && o.scale > 2)
    return {"unshuffle_mod", "the pixel-unshuffle stem supports scales 1 and 2 only (the reference ignores it above x2), got x" +
                                 std::to_string(o.scale)};
  if (o.n_resgroups < 1) return {"n_resgroups", "must be >= 1, got " + std::to_string(o.n_resgroups)};
  if (o.n_resblocks < 0) return {"n_resblocks", "must be >= 0, got " + std::to_string(o.n_resblocks)};
  if (o.n_feats < 1) return {"n_feats", "must be >= 1, got " + std::to_string(o.n_feats)};
  if (o.reduction < 1 || o.n_feats / o.reduction < 1)
    return {"reduction", "must be >= 1 and <= n_feats (" + std::to_string(o.n_feats) + "), got " + std::to_string(o.reduction)};
  if (o.kernel_size < 1 || o.kernel_size % 2 == 0)
    return {"kernel_size", "must be odd and >= 1, got " + std::to_string(o.kernel_size)};
  if (!(std::isfinite(o.rgb_range) && o.rgb_range > 0)) return {"rgb_range", "must be a finite number > 0 (255 as in the reference)"};
  if (std::find(kActModes.begin(), kActModes.end(), o.act_mode) == kActModes.end())
    return {"act_mode", "unknown activation '" + o.act_mode + "'; use relu, leaky_relu, elu, silu, gelu or none"};
  return {"", ""};
}

RcanImpl::RcanImpl(const RcanOptions& options) : options_(options) {
  const auto [key, problem] = rcan_validate(options);
  if (!key.empty()) throw Error("rcan: " + key + " " + problem);
  const int64_t f = options.n_feats, k = options.kernel_size, r = options.reduction, d = downscale_factor();
  if (options.norm) {
    sub_mean = register_module("sub_mean", mean_shift(options.rgb_range, -1));
    add_mean = register_module("add_mean", mean_shift(options.rgb_range, 1));
  }
  head = torch::nn::Sequential();
  if (options.unshuffle_mod) head->push_back(torch::nn::PixelUnshuffle(d));
  head->push_back(same_conv(3 * d * d, f, k));
  register_module("head", head);
  body = torch::nn::Sequential();
  for (int g = 0; g < options.n_resgroups; ++g)
    body->push_back(RcanResidualGroup(f, k, r, options.act_mode, options.n_resblocks));
  body->push_back(same_conv(f, f, k));
  register_module("body", body);
  tail = register_module("tail", RcanTail(f, k, options.unshuffle_mod ? 4 : options.scale));
}

RcanTailImpl::RcanTailImpl(int64_t channels, int64_t kernel_size, int scale) {
  up = torch::nn::Sequential();
  if (scale == 3) {
    up->push_back(same_conv(channels, 9 * channels, 3));
    up->push_back(torch::nn::PixelShuffle(3));
  } else {
    for (int t = scale; t > 1; t /= 2) {
      up->push_back(same_conv(channels, 4 * channels, 3));
      up->push_back(torch::nn::PixelShuffle(2));
    }
  }
  register_module("0", up);
  last = register_module("1", same_conv(channels, 3, kernel_size));
}

torch::Tensor RcanTailImpl::forward(const torch::Tensor& x) { return last->forward(up->is_empty() ? x : up->forward(x)); }

torch::Tensor RcanImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "rcan");
  const int64_t h = lr.size(2), w = lr.size(3);
  const double range = options_.norm ? options_.rgb_range : 1.0;
  torch::Tensor x = reflect_pad_to_multiple(lr, downscale_factor()) * range;
  if (options_.norm) x = sub_mean->forward(x);
  x = head->forward(x);
  const torch::Tensor res = body->forward(x) + x;
  torch::Tensor y = tail->forward(res);
  if (options_.norm) y = add_mean->forward(y);
  y = y / range;
  const int64_t s = options_.scale;
  if (y.size(2) != h * s || y.size(3) != w * s) y = y.slice(2, 0, h * s).slice(3, 0, w * s);
  return y;
}

Generator make_rcan(const core::Config& params, int scale) {
  RcanOptions o;
  o.scale = scale;
  o.n_resgroups = params.get<int>("n_resgroups", o.n_resgroups);
  o.n_resblocks = params.get<int>("n_resblocks", o.n_resblocks);
  o.n_feats = params.get<int>("n_feats", o.n_feats);
  o.reduction = params.get<int>("reduction", o.reduction);
  o.kernel_size = params.get<int>("kernel_size", o.kernel_size);
  o.norm = params.get<bool>("norm", o.norm);
  o.rgb_range = params.get<double>("rgb_range", o.rgb_range);
  o.act_mode = params.get<std::string>("act_mode", o.act_mode);
  o.unshuffle_mod = params.get<bool>("unshuffle_mod", o.unshuffle_mod);
  if (std::find(kRcanScales.begin(), kRcanScales.end(), scale) == kRcanScales.end()) check_scale(params, "rcan", scale, kRcanScales);
  const auto [key, problem] = rcan_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<RcanImpl>(o);
}

void register_rcan() {
  register_generator("rcan", make_rcan,
                     "RCAN (Zhang et al., ECCV 2018), official/spandrel layout; params n_resgroups (10), n_resblocks "
                     "(20), n_feats (64), reduction (16), kernel_size (3), norm (mean shifts, true), rgb_range (255), "
                     "act_mode (relu), unshuffle_mod (false; x1/x2); scales 1,2,3,4,8",
                     detect_rcan);
}

}  // namespace srlab::models
