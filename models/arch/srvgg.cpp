#include "models/arch/srvgg.h"

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/detect_util.h"
#include "models/arch/registry.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
const std::vector<int> kSrvggScales{2, 3, 4};


/// The first invalid option as {key, problem}, or {"", ""} when all are valid.
std::pair<std::string, std::string> validate(const SrvggOptions& o) {
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  if (o.num_conv < 0) return {"num_conv", "must be >= 0, got " + std::to_string(o.num_conv)};
  return {"", ""};
}
}  // namespace

SrvggCompactImpl::SrvggCompactImpl(const SrvggOptions& options) : options_(options) {
  check_scale("srvgg_compact", options.scale, kSrvggScales);
  const auto [key, problem] = validate(options);
  if (!key.empty()) throw Error("srvgg_compact: " + key + " " + problem);
  const int64_t f = options.num_feat, s = options.scale;
  body = torch::nn::Sequential();
  auto push_activation = [&] {
    switch (options_.act_type) {
      case SrvggActivation::kPrelu:
        body->push_back(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(f)));
        break;
      case SrvggActivation::kRelu:
        body->push_back(torch::nn::ReLU());
        break;
      case SrvggActivation::kLeakyRelu:
        body->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kSrvggLeakySlope)));
        break;
    }
  };
  body->push_back(conv3x3(3, f));
  push_activation();
  for (int k = 0; k < options.num_conv; ++k) {
    body->push_back(conv3x3(f, f));
    push_activation();
  }
  body->push_back(conv3x3(f, 3 * s * s));
  register_module("body", body);
}

torch::Tensor SrvggCompactImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "srvgg_compact");
  const int64_t s = options_.scale;
  const torch::Tensor out = torch::pixel_shuffle(body->forward(lr), s);
  const torch::Tensor base = F::interpolate(
      lr, F::InterpolateFuncOptions().size(std::vector<int64_t>{lr.size(2) * s, lr.size(3) * s}).mode(torch::kNearest));
  return out + base;
}

int64_t srvgg_parameter_count(const SrvggOptions& o) {
  const int64_t f = o.num_feat, k = o.num_conv, out = 3LL * o.scale * o.scale;
  int64_t n = 28 * f + k * (9 * f * f + f) + (9 * f * out + out);
  if (o.act_type == SrvggActivation::kPrelu) n += (k + 1) * f;
  return n;
}

Generator make_srvgg_compact(const core::Config& params, int scale) {
  check_scale(params, "srvgg_compact", scale, kSrvggScales);
  SrvggOptions o;
  o.scale = scale;
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.num_conv = params.get<int>("num_conv", o.num_conv);
  const std::string act = params.get<std::string>("act_type", "prelu");
  if (act == "prelu")
    o.act_type = SrvggActivation::kPrelu;
  else if (act == "relu")
    o.act_type = SrvggActivation::kRelu;
  else if (act == "leakyrelu")
    o.act_type = SrvggActivation::kLeakyRelu;
  else
    params.fail("act_type", "unknown activation '" + act + "'; use prelu, relu or leakyrelu");
  const auto [key, problem] = validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<SrvggCompactImpl>(o);
}

std::optional<DetectedModel> detect_srvgg_compact(const StateDict& sd) {
  const torch::Tensor* first = find_tensor(sd, "body.0.weight", 4);
  if (!first || first->size(1) != 3) return std::nullopt;
  std::vector<int> convs, slopes;
  for (int i : key_indices(sd, "body.", ".weight")) (sd.at("body." + std::to_string(i) + ".weight").dim() == 4 ? convs : slopes).push_back(i);
  for (size_t k = 0; k < convs.size(); ++k)
    if (convs[k] != static_cast<int>(2 * k)) return std::nullopt;  // convs sit at body.0, 2, 4, ...
  if (convs.size() < 2) return std::nullopt;
  const int64_t out = sd.at("body." + std::to_string(convs.back()) + ".weight").size(0);
  const int s = subpixel_scale(out);
  if (s == 0) throw Error("SRVGGNetCompact weights: the last conv has " + std::to_string(out) + " outputs, not 3*s*s");
  // PReLU slopes (1-D body.<odd>.weight) reveal act_type prelu (BasicSR's default); relu and leakyrelu
  // leave no trace: relu is assumed (override with act_type=leakyrelu)
  const std::string act = slopes.empty() ? "relu" : "prelu";
  return DetectedModel{"type: srvgg_compact\nnum_feat: " + std::to_string(first->size(0)) + "\nnum_conv: " +
                           std::to_string(convs.size() - 2) + "\nact_type: " + act + "\n",
                       s};
}

void register_srvgg() {
  register_generator("srvgg_compact", make_srvgg_compact,
                     "SRVGGNetCompact (Real-ESRGAN compact, Wang et al. 2021), BasicSR layout; params num_feat, "
                     "num_conv, act_type",
                     detect_srvgg_compact);
}

}  // namespace srlab::models
