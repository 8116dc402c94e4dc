#include "models/lpips.h"

#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"

namespace srlab::models {
namespace fs = std::filesystem;
namespace {

constexpr const char* kHowToMake =
    "use ../shared/data/weights/lpips/lpips_squeeze_v0.1.pt or convert the `lpips` Python package's weights with "
    "scripts/convert_lpips_weights.py";

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

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
                              name, shape_str(*t)));
  }
  if (a.sizes() != b.sizes())
    throw Error(fmt::format("LPIPS: input shapes differ: {} vs {}", shape_str(a), shape_str(b)));
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
  torch::IValue iv;
  {
    std::string bytes;
    try {
      bytes = core::read_file(weights);
    } catch (const Error& e) {
      throw Error(fmt::format("{}; {}", e.what(), kHowToMake));
    }
    try {
      iv = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    } catch (const c10::Error& e) {
      throw Error(fmt::format("LPIPS-{} weights {}: not a readable torch.save file ({}); {}", net, weights.string(),
                              std::string(e.what_without_backtrace()).substr(0, 200), kHowToMake));
    }
  }
  if (!iv.isGenericDict())
    throw Error(fmt::format("LPIPS-{} weights {}: expected a dict name -> tensor, found {}; {}", net, weights.string(),
                            iv.tagKind(), kHowToMake));
  std::map<std::string, torch::Tensor> file;
  for (const auto& kv : iv.toGenericDict()) {
    if (!kv.key().isString() || !kv.value().isTensor())
      throw Error(fmt::format("LPIPS-{} weights {}: every entry must map a string name to a tensor; {}",
                              net, weights.string(), kHowToMake));
    file[kv.key().toStringRef()] = kv.value().toTensor();
  }
  // Expected names: the module's parameter names with the "net." prefix removed.
  std::map<std::string, torch::Tensor> expected;
  for (const auto& p : model->named_parameters(true)) {
    std::string name = p.key();
    if (name.rfind("net.", 0) == 0) name = name.substr(4);
    expected[name] = p.value();
  }
  torch::NoGradGuard ng;
  for (auto& [name, param] : expected) {
    auto it = file.find(name);
    if (it == file.end())
      throw Error(fmt::format("LPIPS-{} weights {}: tensor '{}' is missing (expected shape {}); {}", net, weights.string(),
                              name, shape_str(param), kHowToMake));
    if (it->second.sizes() != param.sizes())
      throw Error(fmt::format("LPIPS-{} weights {}: tensor '{}' has shape {}, expected {}; {}", net, weights.string(), name,
                              shape_str(it->second), shape_str(param), kHowToMake));
    if (!it->second.is_floating_point())
      throw Error(fmt::format("LPIPS-{} weights {}: tensor '{}' is {}, expected float; {}", net, weights.string(), name,
                              std::string(c10::toString(it->second.scalar_type())), kHowToMake));
    param.copy_(it->second.to(torch::kCPU, torch::kFloat32));
  }
  for (const auto& [name, t] : file)
    if (!expected.count(name))
      throw Error(fmt::format("LPIPS-{} weights {}: unexpected tensor '{}' (shape {}); is this a different network "
                              "than LPIPS-{}? {}",
                              net, weights.string(), name, shape_str(t), net, kHowToMake));
  model->eval();
  return model;
}

fs::path resolve_lpips_weights(const std::string& explicit_path, const std::string& net) {
  const std::string file_name = "lpips_" + net + "_v0.1.pt";
  if (!explicit_path.empty()) {
    const fs::path p = core::expand_data_path(explicit_path);
    if (!fs::is_regular_file(p))
      throw Error(fmt::format("LPIPS weights: '{}' (given explicitly, --lpips-weights) is not a file; {}",
                              p.string(), kHowToMake));
    return p;
  }
  std::vector<std::string> tried;
  if (const char* env = std::getenv("SRLAB_LPIPS_WEIGHTS"); env != nullptr && *env != '\0') {
    const fs::path p = env;
    if (fs::is_regular_file(p)) return p;
    throw Error(fmt::format("LPIPS weights: SRLAB_LPIPS_WEIGHTS='{}' is not a file; fix or unset it, or pass "
                            "--lpips-weights PATH; {}",
                            p.string(), kHowToMake));
  }
  tried.push_back("--lpips-weights / config: not given");
  tried.push_back("$SRLAB_LPIPS_WEIGHTS: not set");
  const fs::path data = core::find_shared_data_dir();
  if (!data.empty()) {
    const fs::path p = data / "weights" / "lpips" / file_name;
    if (fs::is_regular_file(p)) return p;
    tried.push_back(p.string() + ": no such file");
  } else {
    std::string c;
    for (const auto& d : core::shared_data_candidates()) c += (c.empty() ? "" : ", ") + d.string();
    tried.push_back("shared data folder <data>/weights/lpips/" + file_name + ": no shared data folder found (looked in " + c + ")");
  }
  std::string msg = "LPIPS weights not found; tried: ";
  for (size_t i = 0; i < tried.size(); ++i) msg += (i ? "; " : "") + tried[i];
  throw Error(msg + ". Pass --lpips-weights PATH or set SRLAB_LPIPS_WEIGHTS; " + kHowToMake);
}

}  // namespace srlab::models
