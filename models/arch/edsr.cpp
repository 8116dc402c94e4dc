#include "models/arch/edsr.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/detect_util.h"
#include "models/arch/registry.h"

namespace srlab::models {

namespace {
const std::vector<int> kEdsrScales{2, 3, 4};


/// The first invalid option as {key, problem}, or {"", ""} when all are valid.
std::pair<std::string, std::string> validate(const EdsrOptions& o) {
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  if (o.num_block < 0) return {"num_block", "must be >= 0, got " + std::to_string(o.num_block)};
  if (!(std::isfinite(o.res_scale) && o.res_scale > 0))
    return {"res_scale", "must be a finite number > 0 (1.0 for EDSR-baseline, 0.1 for EDSR)"};
  if (!(std::isfinite(o.img_range) && o.img_range > 0))
    return {"img_range", "must be a finite number > 0 (255. as in BasicSR)"};
  return {"", ""};
}
}  // namespace

ResidualBlockNoBNImpl::ResidualBlockNoBNImpl(int64_t num_feat, double res_scale) : res_scale_(res_scale) {
  conv1 = register_module("conv1", conv3x3(num_feat, num_feat));
  conv2 = register_module("conv2", conv3x3(num_feat, num_feat));
}

torch::Tensor ResidualBlockNoBNImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = conv2->forward(torch::relu(conv1->forward(x)));
  if (res_scale_ != 1.0) out = out * res_scale_;
  return x + out;
}

EdsrImpl::EdsrImpl(const EdsrOptions& options, std::string type_name)
    : options_(options), type_name_(std::move(type_name)) {
  check_scale("edsr", options.scale, kEdsrScales);
  const auto [key, problem] = validate(options);
  if (!key.empty()) throw Error("edsr: " + key + " " + problem);
  const int64_t f = options.num_feat;
  conv_first = register_module("conv_first", conv3x3(3, f));
  body = torch::nn::Sequential();
  for (int i = 0; i < options.num_block; ++i) body->push_back(ResidualBlockNoBN(f, options.res_scale));
  register_module("body", body);
  conv_after_body = register_module("conv_after_body", conv3x3(f, f));
  upsample = torch::nn::Sequential();
  if (options.scale == 3) {
    upsample->push_back(conv3x3(f, 9 * f));
    upsample->push_back(torch::nn::PixelShuffle(3));
  } else {
    for (int s = options.scale; s > 1; s /= 2) {  // 2 -> one stage, 4 -> two stages
      upsample->push_back(conv3x3(f, 4 * f));
      upsample->push_back(torch::nn::PixelShuffle(2));
    }
  }
  register_module("upsample", upsample);
  conv_last = register_module("conv_last", conv3x3(f, 3));
  mean_ = torch::tensor({static_cast<float>(options.rgb_mean[0]), static_cast<float>(options.rgb_mean[1]),
                         static_cast<float>(options.rgb_mean[2])})
              .view({1, 3, 1, 1});
}

torch::Tensor EdsrImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "edsr");
  const torch::Tensor mean = mean_.to(lr.options());
  const double range = options_.img_range;
  torch::Tensor x = conv_first->forward((lr - mean) * range);
  torch::Tensor res = conv_after_body->forward(options_.num_block > 0 ? body->forward(x) : x) + x;
  torch::Tensor y = conv_last->forward(upsample->forward(res));
  return y / range + mean;
}

int64_t edsr_parameter_count(const EdsrOptions& o) {
  const int64_t f = o.num_feat;
  const int64_t conv_ff = 9 * f * f + f;
  int64_t up = 0;
  if (o.scale == 3)
    up = 81 * f * f + 9 * f;
  else
    for (int s = o.scale; s > 1; s /= 2) up += 36 * f * f + 4 * f;
  return (27 * f + f) + o.num_block * 2 * conv_ff + conv_ff + up + (27 * f + 3);
}

Generator make_edsr(const core::Config& params, int scale) {
  check_scale(params, "edsr", scale, kEdsrScales);
  EdsrOptions o;
  o.scale = scale;
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.num_block = params.get<int>("num_block", o.num_block);
  o.res_scale = params.get<double>("res_scale", o.res_scale);
  o.img_range = params.get<double>("img_range", o.img_range);
  if (params.has("rgb_mean")) {
    const auto mean = params.req<std::vector<double>>("rgb_mean");
    if (mean.size() != 3)
      params.fail("rgb_mean", "expected a list of 3 numbers (R, G, B mean in [0,1]), got " +
                                  std::to_string(mean.size()) + " values");
    for (int c = 0; c < 3; ++c) o.rgb_mean[c] = mean[c];
  }
  const auto [key, problem] = validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<EdsrImpl>(o, "edsr");
}

Generator make_edsr_baseline(const core::Config& params, int scale) {
  check_scale(params, "edsr_baseline", scale, kEdsrScales);
  EdsrOptions o;  // defaults are the EDSR-baseline sizes
  o.scale = scale;
  return std::make_shared<EdsrImpl>(o, "edsr_baseline");
}

namespace {
/// {num_feat, num_block, scale} of BasicSR EDSR keys, or nullopt.
std::optional<std::array<int64_t, 3>> edsr_sizes(const StateDict& sd) {
  const torch::Tensor* first = find_tensor(sd, "conv_first.weight", 4);
  const torch::Tensor* up0 = find_tensor(sd, "upsample.0.weight", 4);
  if (!first || !up0 || first->size(1) != 3 || !has_keys(sd, {"conv_after_body.weight", "conv_last.weight"}))
    return std::nullopt;
  const int64_t f = first->size(0);
  const std::vector<int> blocks = key_indices(sd, "body.", ".conv1.weight");
  if (!is_contiguous_from_zero(blocks)) throw Error("EDSR weights: the body blocks are not numbered 0..B-1");
  int64_t scale = 0;
  if (up0->size(0) == 9 * f) scale = 3;
  else if (up0->size(0) == 4 * f) scale = sd.count("upsample.2.weight") ? 4 : 2;
  else return std::nullopt;
  return std::array<int64_t, 3>{f, static_cast<int64_t>(blocks.size()), scale};
}
}  // namespace

std::optional<DetectedModel> detect_edsr(const StateDict& sd) {
  const auto s = edsr_sizes(sd);
  if (!s || ((*s)[0] == 64 && (*s)[1] == 16)) return std::nullopt;  // baseline sizes: edsr_baseline's
  // res_scale, img_range and rgb_mean leave no trace: BasicSR's defaults (1, 255, DIV2K mean) apply
  return DetectedModel{"type: edsr\nnum_feat: " + std::to_string((*s)[0]) + "\nnum_block: " + std::to_string((*s)[1]) + "\n",
                       static_cast<int>((*s)[2])};
}

std::optional<DetectedModel> detect_edsr_baseline(const StateDict& sd) {
  const auto s = edsr_sizes(sd);
  if (!s || (*s)[0] != 64 || (*s)[1] != 16) return std::nullopt;
  return DetectedModel{"type: edsr_baseline\n", static_cast<int>((*s)[2])};
}

void register_edsr() {
  register_generator("edsr", make_edsr,
                     "EDSR (Lim et al. 2017), BasicSR layout; params num_feat, num_block, res_scale, img_range, "
                     "rgb_mean",
                     detect_edsr);
  register_generator("edsr_baseline", make_edsr_baseline,
                     "EDSR-baseline preset (64 feat, 16 blocks, res_scale 1); no parameters", detect_edsr_baseline);
}

}  // namespace srlab::models
