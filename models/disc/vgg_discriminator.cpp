#include "models/disc/vgg_discriminator.h"

#include <algorithm>

#include "core/error.h"
#include "models/disc/discriminator_registry.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
constexpr double kVggSlope = 0.2;
constexpr int64_t kHidden = 100;  // linear1 width
constexpr int64_t kFinalSize = 4; // spatial size after the last stride-2 stage

int num_stages(int input_size) { return input_size == 256 ? 6 : 5; }
int64_t stage_channels(int64_t num_feat, int s) { return num_feat * std::min<int64_t>(int64_t{1} << s, 8); }

torch::Tensor vgg_lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(kVggSlope)); }

void check_options(const VggDiscriminatorOptions& o) {
  if (o.num_in_ch < 1) throw Error("vgg128: num_in_ch must be >= 1, got " + std::to_string(o.num_in_ch));
  if (o.num_feat < 1) throw Error("vgg128: num_feat must be >= 1, got " + std::to_string(o.num_feat));
  if (o.input_size != 128 && o.input_size != 256)
    throw Error("vgg128: input_size must be 128 or 256, got " + std::to_string(o.input_size));
}
}  // namespace

VggStyleDiscriminatorImpl::VggStyleDiscriminatorImpl(const VggDiscriminatorOptions& options) : options_(options) {
  check_options(options);
  const int64_t f = options.num_feat;
  auto add_conv = [&](int s, int i, int64_t in, int64_t out) {
    const bool first = s == 0 && i == 0;
    const int64_t k = i == 0 ? 3 : 4, stride = i == 0 ? 1 : 2;
    const std::string id = std::to_string(s) + "_" + std::to_string(i);
    convs_.push_back(register_module(
        "conv" + id, torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(1).bias(first))));
    bns_.push_back(first ? torch::nn::BatchNorm2d(nullptr)
                         : register_module("bn" + id, torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out))));
  };
  add_conv(0, 0, options.num_in_ch, f);
  add_conv(0, 1, f, f);
  for (int s = 1; s < num_stages(options.input_size); ++s) {
    add_conv(s, 0, stage_channels(f, s - 1), stage_channels(f, s));
    add_conv(s, 1, stage_channels(f, s), stage_channels(f, s));
  }
  linear1 = register_module("linear1", torch::nn::Linear(8 * f * kFinalSize * kFinalSize, kHidden));
  linear2 = register_module("linear2", torch::nn::Linear(kHidden, 1));
}

torch::nn::Conv2d VggStyleDiscriminatorImpl::conv(int stage, int index) const {
  if (stage < 0 || stage >= num_stages(options_.input_size) || index < 0 || index > 1)
    throw Error("vgg128: no layer conv" + std::to_string(stage) + "_" + std::to_string(index));
  return convs_[static_cast<size_t>(2 * stage + index)];
}

torch::Tensor VggStyleDiscriminatorImpl::forward(torch::Tensor x) {
  check_discriminator_batch(x, "vgg128", options_.num_in_ch);
  const int64_t size = options_.input_size;
  if (x.size(2) != size || x.size(3) != size)
    throw Error("vgg128: the input must be exactly " + std::to_string(size) + "x" + std::to_string(size) +
                " pixels (config key `input_size` = " + std::to_string(size) + "), got " + std::to_string(x.size(2)) +
                "x" + std::to_string(x.size(3)) + " (shape " + c10::str(x.sizes()) +
                "); crop the discriminator's input to that size or set input_size to 128 or 256");
  for (size_t i = 0; i < convs_.size(); ++i) {
    x = convs_[i]->forward(x);
    if (!bns_[i].is_empty()) x = bns_[i]->forward(x);
    x = vgg_lrelu(x);
  }
  x = vgg_lrelu(linear1->forward(x.flatten(1)));
  return linear2->forward(x);
}

int64_t vgg_discriminator_parameter_count(const VggDiscriminatorOptions& o) {
  const int64_t f = o.num_feat, c = o.num_in_ch;
  int64_t n = (9 * c * f + f) + (16 * f * f + 2 * f);
  for (int s = 1; s < num_stages(o.input_size); ++s) {
    const int64_t a = stage_channels(f, s - 1), b = stage_channels(f, s);
    n += 9 * a * b + 2 * b + 16 * b * b + 2 * b;
  }
  return n + (8 * f * kFinalSize * kFinalSize * kHidden + kHidden) + (kHidden + 1);
}

Discriminator make_vgg_discriminator(const core::Config& params) {
  VggDiscriminatorOptions o;
  o.num_in_ch = params.get<int>("num_in_ch", 3);
  if (o.num_in_ch < 1) params.fail("num_in_ch", "must be >= 1, got " + std::to_string(o.num_in_ch));
  o.num_feat = params.get<int>("num_feat", 64);
  if (o.num_feat < 1) params.fail("num_feat", "must be >= 1, got " + std::to_string(o.num_feat));
  o.input_size = params.get<int>("input_size", 128);
  if (o.input_size != 128 && o.input_size != 256)
    params.fail("input_size", "must be 128 or 256 (the VGG discriminator's linear1 expects 4x4 pixels after its "
                              "stride-2 stages), got " + std::to_string(o.input_size));
  return std::make_shared<VggStyleDiscriminatorImpl>(o);
}

void register_vgg_discriminator() {
  register_discriminator("vgg128", make_vgg_discriminator,
                         "ESRGAN VGG-style discriminator (BasicSR VGGStyleDiscriminator), logits (N,1); params "
                         "num_in_ch, num_feat, input_size (128|256, exact input size)");
}

}  // namespace srlab::models
