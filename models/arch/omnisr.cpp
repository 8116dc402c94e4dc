// OmniSR generator, YAML factory and registration (models/arch/omnisr.h).
#include "models/arch/omnisr.h"

#include <fmt/format.h>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
/// Smallest padded side ESA runs at: conv2 (3x3, stride 2) must leave >= 7 rows for the 7x7 max-pool.
constexpr int64_t kMinPaddedSide = 15;

const char* kOmniSrSummary =
    "OmniSR (Wang et al., CVPR 2023), official/spandrel layout; params num_feat (multiple of 4, default 64), "
    "block_num (OSA blocks per group, 1), res_num (OSAGs, 1), window_size (8), pe (relative position bias, true), "
    "bias (true); scales 1,2,3,4,8";
}  // namespace

std::vector<int> omnisr_scales() { return {1, 2, 3, 4, 8}; }

std::pair<std::string, std::string> omnisr_validate(const OmniSrOptions& o) {
  if (o.num_feat < 4 || o.num_feat % 4 != 0)
    return {"num_feat", fmt::format("must be a positive multiple of 4 (4 attention heads), got {}", o.num_feat)};
  if (o.block_num < 1) return {"block_num", fmt::format("must be >= 1, got {}", o.block_num)};
  if (o.res_num < 1) return {"res_num", fmt::format("must be >= 1, got {}", o.res_num)};
  if (o.window_size < 1) return {"window_size", fmt::format("must be >= 1, got {}", o.window_size)};
  return {"", ""};
}

int64_t omnisr_min_input_size(int64_t window) {
  const int64_t padded = (kMinPaddedSide + window - 1) / window * window;
  return std::max<int64_t>(1, padded - window + 1);
}

OmniSrImpl::OmniSrImpl(const OmniSrOptions& o) : options_(o) {
  check_scale("omnisr", o.scale, omnisr_scales());
  const auto [key, problem] = omnisr_validate(o);
  if (!key.empty()) throw Error("omnisr: " + key + " " + problem);
  const int64_t c = o.num_feat;
  auto list = register_module("residual_layer", std::make_shared<torch::nn::Module>());
  for (int g = 0; g < o.res_num; ++g)
    groups.push_back(list->register_module(std::to_string(g), Osag(c, o.block_num, o.window_size, o.pe, o.bias)));
  const auto conv3 = [&](int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(o.bias));
  };
  input = register_module("input", conv3(3, c));
  output = register_module("output", conv3(c, c));
  up = register_module("up", std::make_shared<torch::nn::Module>())->register_module("0", conv3(c, 3LL * o.scale * o.scale));
}

torch::Tensor OmniSrImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "omnisr");
  const int64_t h = lr.size(2), w = lr.size(3), m = options_.window_size, s = options_.scale;
  const int64_t min_side = omnisr_min_input_size(m);
  if (h < min_side || w < min_side)
    throw Error(fmt::format("omnisr: input {}x{} is too small: with window_size {} each side must be >= {} (the "
                            "reference's ESA max-pool needs a padded side of >= {})",
                            h, w, m, min_side, kMinPaddedSide));
  const int64_t pad_h = (m - h % m) % m, pad_w = (m - w % m) % m;
  torch::Tensor x = lr;
  if (pad_h > 0 || pad_w > 0) x = F::pad(lr, F::PadFuncOptions({0, pad_w, 0, pad_h}).mode(torch::kConstant).value(0.0));
  const torch::Tensor r = input->forward(x);
  torch::Tensor y = r;
  for (auto& g : groups) y = g->forward(y);
  y = output->forward(y) + r;
  y = F::pixel_shuffle(up->forward(y), s);
  return y.slice(2, 0, h * s).slice(3, 0, w * s);
}

Generator make_omnisr(const core::Config& params, int scale) {
  check_scale(params, "omnisr", scale, omnisr_scales());
  OmniSrOptions o;
  o.scale = scale;
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.block_num = params.get<int>("block_num", o.block_num);
  o.res_num = params.get<int>("res_num", o.res_num);
  o.window_size = params.get<int>("window_size", o.window_size);
  o.pe = params.get<bool>("pe", o.pe);
  o.bias = params.get<bool>("bias", o.bias);
  const auto [key, problem] = omnisr_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<OmniSrImpl>(o);
}

void register_omnisr() { register_generator("omnisr", make_omnisr, kOmniSrSummary, detect_omnisr); }

}  // namespace srlab::models
