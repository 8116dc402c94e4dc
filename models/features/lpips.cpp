#include "models/features/lpips.h"

#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"
#include "core/shape.h"
#include "models/weights/weight_file.h"

namespace srlab::models {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLpipsHowToMake =
    "use ../shared/data/weights/lpips/lpips_squeeze_v0.1.pt or convert the `lpips` Python package's weights with "
    "scripts/convert_lpips_weights.py";

void check_pair(const torch::Tensor& a, const torch::Tensor& b, int64_t min_size) {
  for (const auto* t : {&a, &b}) {
    const char* name = t == &a ? "first" : "second";
    if (!t->defined()) throw Error(fmt::format("LPIPS: the {} input is undefined", name));
    if (!t->is_floating_point())
      throw Error(fmt::format("LPIPS: the {} input is {}; pass float images", name,
                              std::string(c10::toString(t->scalar_type()))));
    if (t->dim() != 4 || t->size(1) != 3)
      throw Error(fmt::format("LPIPS: the {} input has shape {}; expected an RGB batch (N,3,H,W) (replicate "
                              "gray images to 3 channels, add a batch dimension with unsqueeze(0))",
                              name, core::shape_text(*t)));
  }
  if (a.sizes() != b.sizes())
    throw Error(fmt::format("LPIPS: input shapes differ: {} vs {}", core::shape_text(a), core::shape_text(b)));
  if (a.size(2) < min_size || a.size(3) < min_size)
    throw Error(fmt::format("LPIPS: images of {}x{} px are too small; height and width must be >= {} px",
                            a.size(2), a.size(3), min_size));
  if (a.size(0) == 0) throw Error("LPIPS: empty batch (N = 0)");
  {
    torch::NoGradGuard ng;
    if (!torch::isfinite(a).all().item<bool>() || !torch::isfinite(b).all().item<bool>())
      throw Error("LPIPS: an input contains NaN or infinite values");
  }
}

torch::Tensor unit_normalise(const torch::Tensor& x) {
  return x / (torch::sqrt(x.pow(2).sum(1, /*keepdim=*/true)) + 1e-10);
}

}  // namespace

LpipsImpl::LpipsImpl(const std::string& net) : net_(net) {
  std::vector<int64_t> channels;
  if (net == "squeeze") {
    backbone = register_module("net", SqueezeNetFeatures());
    channels.assign(SqueezeNetFeaturesImpl::kTapChannels.begin(), SqueezeNetFeaturesImpl::kTapChannels.end());
  } else if (net == "alex" || net == "vgg") {
    tapped = register_module("net", net == "alex" ? alexnet_lpips_features() : vgg16_lpips_features());
    channels = tapped->tap_channels();
    min_size_ = tapped->min_size();
  } else {
    throw Error(fmt::format("LPIPS: unknown backbone '{}'; use squeeze, alex or vgg", net));
  }
  register_buffer("shift", torch::tensor({-0.030f, -0.088f, -0.188f}).view({1, 3, 1, 1}));
  register_buffer("scale", torch::tensor({0.458f, 0.448f, 0.450f}).view({1, 3, 1, 1}));
  for (size_t k = 0; k < channels.size(); ++k) {
    auto lin = std::make_shared<torch::nn::Module>();
    torch::nn::Sequential model(
        torch::nn::Identity(),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(channels[k], 1, 1).bias(false)));
    lin->register_module("model", model);
    register_module("lin" + std::to_string(k), lin);
    lins.push_back(model);
  }
  for (auto& p : parameters()) p.set_requires_grad(false);
  eval();
}

torch::Tensor LpipsImpl::forward(const torch::Tensor& a, const torch::Tensor& b) {
  check_pair(a, b, min_size_);
  return forward_raw(a * 2 - 1, b * 2 - 1);
}

torch::Tensor LpipsImpl::forward_raw(const torch::Tensor& a, const torch::Tensor& b) {
  check_pair(a, b, min_size_);
  const torch::Tensor shift = named_buffers()["shift"], scale = named_buffers()["scale"];
  // One backbone pass over both batches.
  const int64_t n = a.size(0);
  const torch::Tensor x = (torch::cat({a, b}, 0).to(torch::kFloat32) - shift) / scale;
  const std::vector<torch::Tensor> taps = backbone ? backbone->forward(x) : tapped->forward(x);
  torch::Tensor total;
  for (size_t k = 0; k < taps.size(); ++k) {
    const torch::Tensor f = unit_normalise(taps[k]);
    const torch::Tensor d = (f.narrow(0, 0, n) - f.narrow(0, n, n)).pow(2);
    const torch::Tensor v = lins[k]->forward(d).mean({1, 2, 3});  // (N): 1 channel, spatial mean
    total = total.defined() ? total + v : v;
  }
  return total;
}

Lpips load_lpips(const fs::path& weights, const std::string& net) {
  Lpips model(net);  // throws for an unsupported backbone
  const std::string what = "LPIPS-" + net + " weights";
  // Expected names: the module's parameter names with the "net." prefix removed.
  load_parameters_strict(*model, read_tensor_dict(weights, what, kLpipsHowToMake), "net.", weights, what, kLpipsHowToMake);
  model->eval();
  return model;
}

fs::path resolve_lpips_weights(const std::string& explicit_path, const std::string& net) {
  return resolve_weight_file(explicit_path, "SRLAB_LPIPS_WEIGHTS", fs::path("weights") / "lpips" / ("lpips_" + net + "_v0.1.pt"),
                             "LPIPS weights", std::string("pass --lpips-weights PATH (a loss: its `weights:` key); ") + kLpipsHowToMake);
}

}  // namespace srlab::models
