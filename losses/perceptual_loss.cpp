#include "losses/perceptual_loss.h"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <sstream>
#include <utility>

#include "core/error.h"
#include "losses/pixel_losses.h"
#include "losses/registry.h"

namespace srlab::losses {

namespace {

// Number of backbone taps of an LPIPS net name, 0 for an unknown name.
int num_taps(const std::string& net) {
  if (net == "squeeze") return static_cast<int>(models::SqueezeNetFeaturesImpl::kTapChannels.size());
  if (net == "vgg" || net == "alex") return 5;
  return 0;
}

// Checks everything except the weight file. Returns {key, message} of the first problem, or {"", ""}.
std::pair<std::string, std::string> check_options(const PerceptualOptions& o) {
  const int n = num_taps(o.net);
  if (n == 0) return {"net", fmt::format("unknown LPIPS backbone '{}'; use squeeze (default), vgg or alex", o.net)};
  if (o.criterion != "l1" && o.criterion != "l2")
    return {"criterion", fmt::format("unknown criterion '{}'; use l1 or l2", o.criterion)};
  std::set<int> seen;
  for (int l : o.layers) {
    if (l < 0 || l >= n)
      return {"layers", fmt::format("tap index {} is out of range; the {} backbone has taps 0..{}", l, o.net, n - 1)};
    if (!seen.insert(l).second) return {"layers", fmt::format("tap index {} is listed twice", l)};
  }
  if (o.layers.empty() && !o.layer_weights.empty() && static_cast<int>(o.layer_weights.size()) != n)
    return {"layer_weights", fmt::format("has {} values but `layers` is not given, so all {} taps of {} are used; give "
                                         "one weight per tap or list the layers",
                                         o.layer_weights.size(), n, o.net)};
  if (!o.layers.empty() && !o.layer_weights.empty() && o.layer_weights.size() != o.layers.size())
    return {"layer_weights", fmt::format("has {} values for {} layers; give one weight per layer", o.layer_weights.size(),
                                         o.layers.size())};
  bool any_positive = o.layer_weights.empty();
  for (double w : o.layer_weights) {
    if (!(std::isfinite(w) && w >= 0))
      return {"layer_weights", fmt::format("weight {} is invalid; layer weights must be finite and >= 0", w)};
    any_positive = any_positive || w > 0;
  }
  if (!any_positive) return {"layer_weights", "every layer weight is 0; at least one must be > 0"};
  return {"", ""};
}

// Resolves and loads the LPIPS network; for the backbones SRLab ships no weights for, the error says how
// to convert them.
models::Lpips load_network(const PerceptualOptions& o) {
  try {
    return models::load_lpips(models::resolve_lpips_weights(o.weights, o.net), o.net);
  } catch (const Error& e) {
    if (o.net == "squeeze") throw Error(std::string("perceptual loss: ") + e.what());
    throw Error(fmt::format(
        "perceptual loss (net: {0}): SRLab ships no LPIPS-{0} weights; convert them from the `lpips` Python package "
        "with `python3 scripts/convert_lpips_weights.py --net {0} --out lpips_{0}_v0.1.pt` (where pip install lpips "
        "works) and pass `weights: PATH` or set SRLAB_LPIPS_WEIGHTS. Details: {1}",
        o.net, e.what()));
  }
}

// LPIPS's channel-wise unit normalisation (models/features/lpips.cpp). The squared norm is clamped at 1e-20 so that
// an all-zero feature vector (ReLU outputs) gives a zero gradient instead of 0 * inf = NaN; the value
// differs from LPIPS's only where the norm is < 1e-10.
torch::Tensor unit_normalise(const torch::Tensor& x) {
  return x / (torch::sqrt(x.pow(2).sum(1, /*keepdim=*/true).clamp_min(1e-20)) + 1e-10);
}

}  // namespace

PerceptualLoss::PerceptualLoss(const PerceptualOptions& opts) : opts_(opts) {
  if (const auto [key, msg] = check_options(opts_); !key.empty()) throw Error("perceptual loss: " + key + ": " + msg);
  net_ = load_network(opts_);
  init();
}

PerceptualLoss::PerceptualLoss(models::Lpips network, const PerceptualOptions& opts) : opts_(opts), net_(std::move(network)) {
  if (net_.is_empty()) throw Error("perceptual loss: the LPIPS network is null");
  opts_.net = net_->net();
  if (const auto [key, msg] = check_options(opts_); !key.empty()) throw Error("perceptual loss: " + key + ": " + msg);
  init();
}

void PerceptualLoss::init() {
  for (auto& p : net_->parameters()) p.set_requires_grad(false);
  net_->eval();
  layers_.clear();
  if (opts_.layers.empty())
    for (int l = 0; l < num_taps(opts_.net); ++l) layers_.push_back(l);
  else
    layers_ = opts_.layers;
  layer_weights_ = opts_.layer_weights.empty() ? std::vector<double>(layers_.size(), 1.0) : opts_.layer_weights;
}

std::vector<torch::Tensor> PerceptualLoss::features(const torch::Tensor& img) const {
  models::LpipsImpl& m = *net_.ptr();
  const torch::Tensor shift = m.named_buffers()["shift"], scale = m.named_buffers()["scale"];
  const torch::Tensor x = (img.to(torch::kFloat32) * 2 - 1 - shift) / scale;
  return m.backbone ? m.backbone->forward(x) : m.tapped->forward(x);
}

torch::Tensor PerceptualLoss::forward(const LossInputs& in) const {
  check_same_shape(in.sr, in.hr, "perceptual");
  const torch::Tensor &sr = in.sr, &hr = in.hr;
  if (sr.dim() != 4 || sr.size(1) != 3) {
    std::ostringstream s;
    s << sr.sizes();
    throw Error("perceptual: sr and hr have shape " + s.str() +
                "; expected RGB batches (N,3,H,W) (replicate gray images to 3 channels)");
  }
  const int64_t min_size = net_->min_size();
  if (sr.size(2) < min_size || sr.size(3) < min_size)
    throw Error(fmt::format("perceptual: images of {}x{} px are too small; the LPIPS {} backbone needs H, W >= {} px{}; "
                            "use larger HR patches",
                            sr.size(2), sr.size(3), opts_.net, min_size,
                            opts_.net == "squeeze" ? " (LPIPS kMinSize)" : ""));
  const torch::Tensor shift = net_->named_buffers()["shift"];
  if (sr.device() != shift.device())
    throw Error("perceptual: the images are on " + sr.device().str() + " but the LPIPS network is on " +
                shift.device().str() + "; call to(device) on the loss (WeightedLoss::to)");

  const std::vector<torch::Tensor> fs = features(sr);
  std::vector<torch::Tensor> fh;
  {
    torch::NoGradGuard ng;
    fh = features(hr);
  }
  torch::Tensor total = torch::zeros({}, sr.options().dtype(torch::kFloat32));
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layer_weights_[i] == 0) continue;
    const auto l = static_cast<size_t>(layers_[i]);
    torch::Tensor v;
    if (opts_.lpips_weighted) {
      const torch::Tensor d = (unit_normalise(fs[l]) - unit_normalise(fh[l])).pow(2);
      v = net_.ptr()->lins[l].ptr()->forward(d).mean();  // spatial mean per image, then batch mean (equal sizes)
    } else {
      const torch::Tensor diff = fs[l] - fh[l];
      v = opts_.criterion == "l1" ? diff.abs().mean() : diff.square().mean();
    }
    total = total + layer_weights_[i] * v;
  }
  return total;
}

void PerceptualLoss::to(torch::Device device) { net_->to(device); }

void register_perceptual_loss() {
  register_loss(
      "perceptual",
      [](const core::Config& params) -> LossPtr {
        PerceptualOptions o;
        o.weights = params.get<std::string>("weights", "");
        o.net = params.get<std::string>("net", o.net);
        o.layers = params.get<std::vector<int>>("layers", {});
        if (params.has("layers") && o.layers.empty()) params.fail("layers", "is empty; omit it to use every tap");
        o.layer_weights = params.get<std::vector<double>>("layer_weights", {});
        o.lpips_weighted = params.get<bool>("lpips_weighted", false);
        if (o.lpips_weighted && params.has("criterion"))
          params.fail("criterion", "is not used with `lpips_weighted: true` (LPIPS uses its learned squared distance)");
        o.criterion = params.get<std::string>("criterion", o.criterion);
        if (const auto [key, msg] = check_options(o); !key.empty()) params.fail(key, msg);
        try {
          return std::make_shared<PerceptualLoss>(o);
        } catch (const Error& e) {
          params.fail("weights", e.what());
        }
      },
      "feature loss on the frozen LPIPS backbone (Johnson et al. 2016); keys weights, net, layers, layer_weights, "
      "criterion l1|l2, lpips_weighted");
}

}  // namespace srlab::losses
