#include "losses/vgg_perceptual_loss.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "core/error.h"
#include "losses/pixel_losses.h"
#include "losses/registry.h"

namespace srlab::losses {

namespace {

// Checks everything except the weight file; returns {key, message} of the first problem or {"", ""}.
std::pair<std::string, std::string> check_options(const VggPerceptualOptions& o) {
  if (o.criterion != "l1" && o.criterion != "l2")
    return {"criterion", fmt::format("unknown criterion '{}'; use l1 or l2", o.criterion)};
  if (o.layer_weights.empty()) return {"layer_weights", "is empty; name at least one layer, e.g. {conv5_4: 1.0}"};
  bool any_positive = false;
  for (const auto& [name, w] : o.layer_weights) {
    try {
      models::vgg19_layer_index(name);
    } catch (const Error& e) {
      return {"layer_weights", e.what()};
    }
    if (!(std::isfinite(w) && w >= 0))
      return {"layer_weights", fmt::format("weight {} of {} is invalid; layer weights must be finite and >= 0", w, name)};
    any_positive = any_positive || w > 0;
  }
  if (!any_positive) return {"layer_weights", "every layer weight is 0; at least one must be > 0"};
  return {"", ""};
}

std::vector<std::string> layer_names(const VggPerceptualOptions& o) {
  std::vector<std::string> names;
  for (const auto& kv : o.layer_weights) names.push_back(kv.first);
  return names;
}

}  // namespace

VggPerceptualLoss::VggPerceptualLoss(const VggPerceptualOptions& opts)
    : VggPerceptualLoss(
          [&] {
            if (const auto [key, msg] = check_options(opts); !key.empty())
              throw Error("perceptual_vgg loss: " + key + ": " + msg);
            return models::load_vgg19_features(models::resolve_vgg19_weights(opts.weights), layer_names(opts),
                                               opts.use_input_norm, opts.range_norm);
          }(),
          opts) {}

VggPerceptualLoss::VggPerceptualLoss(models::Vgg19Features network, const VggPerceptualOptions& opts)
    : opts_(opts), net_(std::move(network)) {
  if (const auto [key, msg] = check_options(opts_); !key.empty()) throw Error("perceptual_vgg loss: " + key + ": " + msg);
  if (net_.is_empty()) throw Error("perceptual_vgg loss: the VGG19 network is null");
  if (net_->layers().size() != opts_.layer_weights.size())
    throw Error("perceptual_vgg loss: the network's layers differ from the keys of layer_weights");
  for (const auto& l : net_->layers()) {
    const auto it = opts_.layer_weights.find(l);
    if (it == opts_.layer_weights.end())
      throw Error("perceptual_vgg loss: the network's layer " + l + " is not in layer_weights");
    weights_.push_back(it->second);
  }
  for (auto& p : net_->parameters()) p.set_requires_grad(false);
  net_->eval();
}

torch::Tensor VggPerceptualLoss::forward(const LossInputs& in) const {
  check_same_shape(in.sr, in.hr, "perceptual_vgg");
  const torch::Tensor mean = net_->named_buffers()["mean"];
  if (in.sr.device() != mean.device())
    throw Error("perceptual_vgg: the images are on " + in.sr.device().str() + " but the VGG19 network is on " +
                mean.device().str() + "; call to(device) on the loss (WeightedLoss::to)");
  const std::vector<torch::Tensor> fs = net_.ptr()->forward(in.sr);
  std::vector<torch::Tensor> fh;
  {
    torch::NoGradGuard ng;
    fh = net_.ptr()->forward(in.hr);
  }
  torch::Tensor total = torch::zeros({}, in.sr.options().dtype(torch::kFloat32));
  for (size_t i = 0; i < fs.size(); ++i) {
    if (weights_[i] == 0) continue;
    const torch::Tensor diff = fs[i] - fh[i];
    total = total + weights_[i] * (opts_.criterion == "l1" ? diff.abs().mean() : diff.square().mean());
  }
  return total;
}

void VggPerceptualLoss::to(torch::Device device) { net_->to(device); }

void register_vgg_perceptual_loss() {
  register_loss(
      "perceptual_vgg",
      [](const core::Config& params) -> LossPtr {
        VggPerceptualOptions o;
        o.weights = params.get<std::string>("weights", "");
        if (params.has("layer_weights")) {
          const core::Config lw = params.at("layer_weights");
          if (!lw.is_map())
            params.fail("layer_weights", "must be a map layer name -> weight, e.g. {conv5_4: 1.0}");
          o.layer_weights.clear();
          for (const auto& k : lw.keys()) o.layer_weights[k] = lw.req<double>(k);
        }
        o.criterion = params.get<std::string>("criterion", o.criterion);
        o.use_input_norm = params.get<bool>("use_input_norm", o.use_input_norm);
        o.range_norm = params.get<bool>("range_norm", o.range_norm);
        if (const auto [key, msg] = check_options(o); !key.empty()) params.fail(key, msg);
        try {
          return std::make_shared<VggPerceptualLoss>(o);
        } catch (const Error& e) {
          params.fail("weights", e.what());
        }
      },
      "feature loss on frozen VGG19 features (SRGAN/ESRGAN; user-converted torchvision weights); keys weights, "
      "layer_weights {name: w}, criterion l1|l2, use_input_norm, range_norm");
}

}  // namespace srlab::losses
