#include "models/features/lpips_backbones.h"

namespace srlab::models {

namespace nn = torch::nn;

TappedFeaturesImpl::TappedFeaturesImpl(nn::Sequential features, std::vector<size_t> tap_after,
                                       std::vector<int64_t> tap_channels, int64_t min_size)
    : tap_after_(std::move(tap_after)), tap_channels_(std::move(tap_channels)), min_size_(min_size) {
  features_ = register_module("features", std::move(features));
}

std::vector<torch::Tensor> TappedFeaturesImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> taps;
  torch::Tensor h = x;
  size_t next = 0;
  for (size_t i = 0; i < features_->size() && next < tap_after_.size(); ++i) {
    const std::shared_ptr<nn::Module> m = features_->ptr(i);
    if (auto* c = m->as<nn::Conv2d>())
      h = c->forward(h);
    else if (auto* r = m->as<nn::ReLU>())
      h = r->forward(h);
    else if (auto* p = m->as<nn::MaxPool2d>())
      h = p->forward(h);
    if (i == tap_after_[next]) {
      taps.push_back(h);
      ++next;
    }
  }
  return taps;
}

namespace {
nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}
}  // namespace

TappedFeatures alexnet_lpips_features() {
  nn::Sequential f;
  f->push_back(conv(3, 64, 11, 4, 2));                            // 0
  f->push_back(nn::ReLU());                                       // 1  tap
  f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)));  // 2
  f->push_back(conv(64, 192, 5, 1, 2));                           // 3
  f->push_back(nn::ReLU());                                       // 4  tap
  f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)));  // 5
  f->push_back(conv(192, 384, 3, 1, 1));                          // 6
  f->push_back(nn::ReLU());                                       // 7  tap
  f->push_back(conv(384, 256, 3, 1, 1));                          // 8
  f->push_back(nn::ReLU());                                       // 9  tap
  f->push_back(conv(256, 256, 3, 1, 1));                          // 10
  f->push_back(nn::ReLU());                                       // 11 tap
  return TappedFeatures(f, std::vector<size_t>{1, 4, 7, 9, 11}, std::vector<int64_t>{64, 192, 384, 256, 256}, 31);
}

TappedFeatures vgg16_lpips_features() {
  nn::Sequential f;
  const std::vector<int> cfg{64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512};
  int64_t in = 3;
  for (int c : cfg) {
    if (c < 0) {
      f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    f->push_back(conv(in, c, 3, 1, 1));
    f->push_back(nn::ReLU());
    in = c;
  }
  return TappedFeatures(f, std::vector<size_t>{3, 8, 15, 22, 29}, std::vector<int64_t>{64, 128, 256, 512, 512}, 16);
}

}  // namespace srlab::models
