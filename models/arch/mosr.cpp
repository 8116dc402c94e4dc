// MoSR modules (models/arch/mosr.h). The factory, detector and registration are in mosr_detect.cpp.
#include "models/arch/mosr.h"

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace {
constexpr int64_t kGeoEnsemble = 8;    ///< GPS: the number of averaged predictions
constexpr int64_t kDySampleGroups = 4; ///< the reference builds DySample with its default groups

torch::nn::Conv2d mosr_conv(int64_t in, int64_t out, int64_t k, int64_t groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).groups(groups).bias(true));
}

/// normal(0, 0.02) weight and zero bias (the reference's trunc_normal_(std=0.02): bounds +-2 never reached).
torch::nn::Conv2d mosr_small_init(torch::nn::Conv2d c) {
  torch::NoGradGuard no_grad;
  c->weight.normal_(0.0, 0.02);
  c->bias.zero_();
  return c;
}
}  // namespace

const std::vector<int> kMosrScales{1, 2, 3, 4, 8};

std::string mosr_upsampler_name(MosrUpsampler u) {
  switch (u) {
    case MosrUpsampler::kPixelShuffle: return "ps";
    case MosrUpsampler::kGeoPixelShuffle: return "gps";
    case MosrUpsampler::kDySample: return "dys";
  }
  return "?";
}

std::pair<std::string, std::string> mosr_invalid_option(const MosrOptions& o) {
  if (o.n_block < 1) return {"n_block", "must be >= 1, got " + std::to_string(o.n_block)};
  if (o.dim < 1) return {"dim", "must be >= 1, got " + std::to_string(o.dim)};
  if (o.kernel_size < 1 || o.kernel_size % 2 == 0)
    return {"kernel_size", "must be odd and >= 1, got " + std::to_string(o.kernel_size)};
  const auto hidden = static_cast<int64_t>(o.expansion_ratio * o.dim);
  const auto conv = static_cast<int64_t>(o.conv_ratio * o.dim);
  if (!(o.expansion_ratio > 0.0) || hidden < 1)
    return {"expansion_ratio", "int(expansion_ratio * dim) must be >= 1, got " + std::to_string(hidden)};
  if (!(o.conv_ratio > 0.0) || conv < 1 || conv > hidden)
    return {"conv_ratio", "int(conv_ratio * dim) = " + std::to_string(conv) +
                              " must be in 1 .. int(expansion_ratio * dim) = " + std::to_string(hidden)};
  if (!(o.drop_path >= 0.0 && o.drop_path < 1.0)) return {"drop_path", "must be in [0, 1)"};
  if (o.upsampler == MosrUpsampler::kDySample && o.dim % kDySampleGroups != 0)
    return {"dim", "must be a multiple of 4 with upsampler dys (DySample groups), got " + std::to_string(o.dim)};
  return {"", ""};
}

GatedCnnBlockImpl::GatedCnnBlockImpl(int64_t dim, double expansion_ratio, int64_t kernel_size, double conv_ratio,
                                     double drop_path_)
    : hidden(static_cast<int64_t>(expansion_ratio * dim)),
      conv_channels(static_cast<int64_t>(conv_ratio * dim)),
      drop_path(drop_path_) {
  norm = register_module("norm", ChannelLayerNorm(dim, 1e-6));
  fc1 = register_module("fc1", mosr_small_init(mosr_conv(dim, 2 * hidden, 3)));
  conv = register_module("conv", mosr_small_init(mosr_conv(conv_channels, conv_channels, kernel_size, conv_channels)));
  fc2 = register_module("fc2", mosr_small_init(mosr_conv(hidden, dim, 3)));
}

torch::Tensor GatedCnnBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor t = fc1->forward(norm->forward(x));
  const torch::Tensor g = t.narrow(1, 0, hidden);
  const torch::Tensor i = t.narrow(1, hidden, hidden - conv_channels);
  const torch::Tensor c = t.narrow(1, 2 * hidden - conv_channels, conv_channels);
  torch::Tensor y = torch::mish(fc2->forward(torch::mish(g) * torch::cat({i, conv->forward(c)}, 1)));
  if (is_training() && drop_path > 0.0) {
    // Per-sample keep decisions from the CPU generator (as SwinIR's blocks), timm's x / keep * Bernoulli(keep).
    const double keep = 1.0 - drop_path;
    y = y * (torch::rand({y.size(0), 1, 1, 1}) < keep).to(y.options()) / keep;
  }
  return y + (x - 0.5);
}

MosrConvBlockImpl::MosrConvBlockImpl(int64_t in_channels, int64_t out_channels) {
  block = register_module("block", torch::nn::Sequential(mosr_conv(in_channels, out_channels, 3), torch::nn::Mish(),
                                                         mosr_conv(out_channels, out_channels, 3), torch::nn::Mish()));
  conv11 = register_module("conv11", mosr_conv(in_channels, out_channels, 1));
}

torch::Tensor MosrConvBlockImpl::forward(const torch::Tensor& x) { return block->forward(x) + conv11->forward(x); }

GeoPixelShuffleImpl::GeoPixelShuffleImpl(int64_t dim, int64_t scale_, int64_t out_channels, int64_t kernel_size)
    : scale(scale_) {
  in_to_k = register_module("in_to_k", mosr_conv(dim, scale * scale * out_channels * kGeoEnsemble, kernel_size));
}

torch::Tensor GeoPixelShuffleImpl::forward(const torch::Tensor& x) {
  const torch::Tensor k = in_to_k->forward(x);
  const torch::Tensor mean = k.view({k.size(0), kGeoEnsemble, -1, k.size(2), k.size(3)}).mean(1);
  return torch::pixel_shuffle(mean, scale);
}

MosrImpl::MosrImpl(const MosrOptions& o) : options_(o) {
  check_scale("mosr", o.scale, kMosrScales);
  const auto [key, problem] = mosr_invalid_option(o);
  if (!key.empty()) throw Error("mosr: " + key + " " + problem);
  const int64_t d = o.dim, s = o.scale;
  gblocks = torch::nn::Sequential(mosr_conv(3, d, 3));
  for (int k = 0; k < o.n_block; ++k) {
    // torch.linspace(0, drop_path, n_block)
    const double rate = o.n_block > 1 ? o.drop_path * k / (o.n_block - 1) : 0.0;
    gblocks->push_back(GatedCnnBlock(d, o.expansion_ratio, o.kernel_size, o.conv_ratio, rate));
  }
  gblocks->push_back(mosr_conv(d, 2 * d, 3));
  gblocks->push_back(torch::nn::Mish());
  gblocks->push_back(mosr_conv(2 * d, d, 3));
  gblocks->push_back(torch::nn::Mish());
  gblocks->push_back(mosr_conv(d, d, 1));
  register_module("gblocks", gblocks);
  shortcut = register_module("shortcut", MosrConvBlock(3, d));
  switch (o.upsampler) {
    case MosrUpsampler::kPixelShuffle:
      ps = register_module("upsampler", torch::nn::Sequential(mosr_conv(d, 3 * s * s, 3), torch::nn::PixelShuffle(s)));
      break;
    case MosrUpsampler::kGeoPixelShuffle:
      gps = register_module("upsampler", GeoPixelShuffle(d, s, 3));
      break;
    case MosrUpsampler::kDySample: {
      DySampleOptions dopt;
      dopt.in_channels = d;
      dopt.out_channels = 3;
      dopt.scale = s;
      dopt.groups = kDySampleGroups;
      dopt.end_convolution = true;
      dys = register_module("upsampler", DySample(dopt));
      break;
    }
  }
}

torch::Tensor MosrImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "mosr");
  const torch::Tensor x = gblocks->forward(lr) + (shortcut->forward(lr) - 0.5);
  if (ps) return ps->forward(x);
  if (gps) return gps->forward(x);
  return dys->forward(x);
}

}  // namespace srlab::models
