#include "models/features/vgg19_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "core/error.h"
#include "models/weights/weight_file.h"

namespace srlab::models {
namespace fs = std::filesystem;
namespace nn = torch::nn;

namespace {

// Output channels of the 16 convolutions per block (configuration E), -1 = max-pool.
const std::vector<int> kConfig{64, 64, -1, 128, 128, -1, 256, 256, 256, 256, -1, 512, 512, 512, 512, -1,
                               512, 512, 512, 512, -1};

constexpr const char* kVggHowToMake =
    "SRLab ships no VGG19 weights: run `python3 scripts/convert_vgg19_weights.py --out vgg19_features.pt` where "
    "torchvision is installed (it writes torchvision's ImageNet VGG19 `features` tensors), then pass the file "
    "(`weights:` key of the perceptual_vgg loss) or set SRLAB_VGG19_WEIGHTS";

std::vector<std::string> make_names() {
  std::vector<std::string> names;
  int block = 1, conv = 1;
  for (int c : kConfig) {
    if (c < 0) {
      names.push_back(fmt::format("pool{}", block));
      ++block;
      conv = 1;
    } else {
      names.push_back(fmt::format("conv{}_{}", block, conv));
      names.push_back(fmt::format("relu{}_{}", block, conv));
      ++conv;
    }
  }
  return names;
}

nn::Sequential make_features() {
  nn::Sequential f;
  int64_t in = 3;
  for (int c : kConfig) {
    if (c < 0) {
      f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    f->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1)));
    f->push_back(nn::ReLU());
    in = c;
  }
  return f;
}

// Output channels of torchvision feature `index`: a conv and its ReLU have the conv's, a pool keeps its input's.
int64_t channels_at(size_t index) {
  int64_t ch = 3;
  size_t end = 0;  // one past the last feature index of the layers walked so far
  for (int c : kConfig) {
    if (c > 0) ch = c;
    end += c > 0 ? 2 : 1;
    if (index < end) return ch;
  }
  return ch;
}

}  // namespace

const std::vector<std::string>& vgg19_layer_names() {
  static const std::vector<std::string> names = make_names();
  return names;
}

size_t vgg19_layer_index(const std::string& name) {
  const auto& names = vgg19_layer_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
    throw Error(fmt::format("VGG19: unknown layer '{}'; valid layers (BasicSR names): {}", name, all));
  }
  return static_cast<size_t>(it - names.begin());
}

Vgg19FeaturesImpl::Vgg19FeaturesImpl(std::vector<std::string> layers, bool use_input_norm, bool range_norm)
    : use_input_norm_(use_input_norm), range_norm_(range_norm) {
  if (layers.empty()) throw Error("VGG19: no layers requested; name at least one (e.g. conv5_4)");
  std::set<size_t> idx;
  for (const auto& l : layers)
    if (!idx.insert(vgg19_layer_index(l)).second) throw Error(fmt::format("VGG19: layer '{}' is listed twice", l));
  std::vector<size_t> taps(idx.begin(), idx.end());
  std::vector<int64_t> channels;
  for (size_t i : taps) {
    layers_.push_back(vgg19_layer_names()[i]);
    channels.push_back(channels_at(i));
  }
  for (size_t i = 0; i <= taps.back(); ++i)
    if (vgg19_layer_names()[i].rfind("pool", 0) == 0) min_size_ *= 2;
  net = register_module("net", TappedFeatures(make_features(), taps, channels, min_size_));
  mean_ = register_buffer("mean", torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1}));
  std_ = register_buffer("std", torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1}));
  for (auto& p : parameters()) p.set_requires_grad(false);
  eval();
}

std::vector<torch::Tensor> Vgg19FeaturesImpl::forward(const torch::Tensor& x) {
  if (!x.defined() || !x.is_floating_point() || x.dim() != 4 || x.size(1) != 3) {
    std::ostringstream s;
    if (x.defined()) s << x.sizes() << " " << c10::toString(x.scalar_type());
    throw Error("VGG19: input " + (x.defined() ? s.str() : std::string("undefined")) +
                "; expected a float RGB batch (N,3,H,W) (replicate gray images to 3 channels)");
  }
  if (x.size(2) < min_size_ || x.size(3) < min_size_)
    throw Error(fmt::format("VGG19: input of {}x{} px is too small for layer {}; it needs H, W >= {} px", x.size(2),
                            x.size(3), layers_.back(), min_size_));
  torch::Tensor h = x.to(torch::kFloat32);
  if (range_norm_) h = (h + 1) / 2;
  if (use_input_norm_) h = (h - mean_) / std_;
  return net->forward(h);
}

Vgg19Features load_vgg19_features(const fs::path& weights, const std::vector<std::string>& layers, bool use_input_norm,
                                  bool range_norm) {
  Vgg19Features model(layers, use_input_norm, range_norm);
  const std::string what = "VGG19 weights";
  load_parameters_strict(*model, read_tensor_dict(weights, what, kVggHowToMake), "net.", weights, what, kVggHowToMake);
  model->eval();
  return model;
}

fs::path resolve_vgg19_weights(const std::string& explicit_path) {
  return resolve_weight_file(explicit_path, "SRLAB_VGG19_WEIGHTS", fs::path("weights") / "vgg" / "vgg19_features.pt",
                             "VGG19 weights", kVggHowToMake);
}

}  // namespace srlab::models
