#include "models/features/squeezenet.h"

#include <fmt/format.h>

#include <sstream>

#include "core/error.h"

namespace srlab::models {
namespace F = torch::nn::functional;

FireImpl::FireImpl(int64_t in_channels, int64_t s, int64_t e1, int64_t e3) {
  squeeze = register_module("squeeze", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, s, 1)));
  expand1x1 = register_module("expand1x1", torch::nn::Conv2d(torch::nn::Conv2dOptions(s, e1, 1)));
  expand3x3 = register_module("expand3x3", torch::nn::Conv2d(torch::nn::Conv2dOptions(s, e3, 3).padding(1)));
}

torch::Tensor FireImpl::forward(const torch::Tensor& x) {
  const torch::Tensor s = torch::relu(squeeze->forward(x));
  return torch::cat({torch::relu(expand1x1->forward(s)), torch::relu(expand3x3->forward(s))}, 1);
}

SqueezeNetFeaturesImpl::SqueezeNetFeaturesImpl() {
  // A plain container module named "features" so that parameter names are features.<i>.*.
  features_ = register_module("features", std::make_shared<torch::nn::Module>());
  conv0 = features_->register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 64, 3).stride(2)));
  struct Spec {
    int index;
    int64_t in, s, e1, e3;
  };
  static const Spec kSpecs[] = {{3, 64, 16, 64, 64},      {4, 128, 16, 64, 64},    {6, 128, 32, 128, 128},
                                {7, 256, 32, 128, 128},   {9, 256, 48, 192, 192},  {10, 384, 48, 192, 192},
                                {11, 384, 64, 256, 256},  {12, 512, 64, 256, 256}};
  for (const Spec& sp : kSpecs)
    fires.push_back(features_->register_module(std::to_string(sp.index), Fire(sp.in, sp.s, sp.e1, sp.e3)));
}

std::vector<torch::Tensor> SqueezeNetFeaturesImpl::forward(const torch::Tensor& x) {
  if (!x.defined() || x.dim() != 4 || x.size(1) != 3 || !x.is_floating_point() || x.size(2) < 3 ||
      x.size(3) < 3) {
    std::ostringstream s;
    if (x.defined()) s << x.sizes() << " " << c10::toString(x.scalar_type());
    throw Error(fmt::format("SqueezeNet features: expected a float (N,3,H,W) batch with H,W >= 3, got {}",
                            x.defined() ? s.str() : std::string("<undefined>")));
  }
  const auto pool = [](const torch::Tensor& t) {
    return F::max_pool2d(t, F::MaxPool2dFuncOptions(3).stride(2).ceil_mode(true));
  };
  std::vector<torch::Tensor> taps;
  taps.reserve(7);
  torch::Tensor h = torch::relu(conv0->forward(x));  // features.0-1
  taps.push_back(h);
  h = pool(h);                                        // features.2
  h = fires[1]->forward(fires[0]->forward(h));        // features.3-4
  taps.push_back(h);
  h = pool(h);                                        // features.5
  h = fires[3]->forward(fires[2]->forward(h));        // features.6-7
  taps.push_back(h);
  h = pool(h);                                        // features.8
  for (int k = 4; k < 8; ++k) {                       // features.9, 10, 11, 12
    h = fires[k]->forward(h);
    taps.push_back(h);
  }
  return taps;
}

}  // namespace srlab::models
