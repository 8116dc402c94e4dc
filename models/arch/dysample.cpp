#include "models/arch/dysample.h"

#include "core/error.h"

namespace srlab::models {

namespace F = torch::nn::functional;

DySampleImpl::DySampleImpl(const DySampleOptions& o) : options_(o) {
  if (o.groups < 1 || o.in_channels < o.groups || o.in_channels % o.groups != 0 || o.scale < 1)
    throw Error("DySample: in_channels (" + std::to_string(o.in_channels) + ") must be a positive multiple of groups (" +
                std::to_string(o.groups) + ") and scale >= 1");
  const int64_t s = o.scale, n = 2 * o.groups * s * s;
  if (o.end_convolution)
    end_conv = register_module("end_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, o.out_channels, 1)));
  offset = register_module("offset", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, n, 1)));
  scope = register_module("scope", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, n, 1).bias(false)));
  {
    torch::NoGradGuard no_grad;
    offset->weight.normal_(0.0, 0.02);  // reference: trunc_normal_(std=0.02), bounds +-2 never reached
    scope->weight.zero_();
  }
  // Sub-pixel offsets h_k = (k - (s-1)/2) / s; x-offset of column j = h_j, y-offset of row i = h_i.
  const torch::Tensor h = (torch::arange(s, torch::kFloat32) - (s - 1) / 2.0) / static_cast<double>(s);
  const torch::Tensor x_off = h.view({1, s}).expand({s, s}), y_off = h.view({s, 1}).expand({s, s});
  const torch::Tensor pos = torch::stack({x_off, y_off}).unsqueeze(1).expand({2, o.groups, s, s});
  init_pos = register_buffer("init_pos", pos.reshape({1, n, 1, 1}).contiguous());
}

torch::Tensor DySampleImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t s = options_.scale, g = options_.groups;
  const torch::Tensor off = (offset->forward(x) * torch::sigmoid(scope->forward(x)) * 0.5 + init_pos)
                                .view({b, 2, g * s * s, h, w});
  // Pixel centres (x = col + 0.5, y = row + 0.5), normalised by (W, H) to grid_sample's [-1, 1].
  const auto opts = x.options();
  const torch::Tensor cx = (torch::arange(w, opts) + 0.5).view({1, 1, 1, 1, w}).expand({1, 1, 1, h, w});
  const torch::Tensor cy = (torch::arange(h, opts) + 0.5).view({1, 1, 1, h, 1}).expand({1, 1, 1, h, w});
  const torch::Tensor norm = torch::tensor({static_cast<float>(w), static_cast<float>(h)}, opts).view({1, 2, 1, 1, 1});
  const torch::Tensor coords = 2 * (torch::cat({cx, cy}, 1) + off) / norm - 1;
  const torch::Tensor grid = torch::pixel_shuffle(coords.reshape({b, -1, h, w}), s)
                                 .view({b, 2, g, s * h, s * w})
                                 .permute({0, 2, 3, 4, 1})
                                 .contiguous()
                                 .flatten(0, 1);
  torch::Tensor out = F::grid_sample(x.reshape({b * g, c / g, h, w}), grid,
                                     F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false))
                          .view({b, c, s * h, s * w});
  return options_.end_convolution ? end_conv->forward(out) : out;
}

}  // namespace srlab::models
