#include "models/arch/rrdbnet.h"

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/detect_util.h"
#include "models/arch/registry.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
const std::vector<int> kRrdbnetScales{1, 2, 4};
constexpr double kSlope = 0.2;     // LeakyReLU negative slope (ESRGAN)
constexpr double kResScale = 0.2;  // residual scaling inside ResidualDenseBlock and RRDB (ESRGAN Sec. 3.1)


torch::Tensor rrdb_lrelu(const torch::Tensor& x) {
  return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(kSlope));
}

/// BasicSR's default_init_weights(..., scale=0.1): Kaiming-normal (a = 0, fan_in), times 0.1, bias 0.
void init_scaled_kaiming(torch::nn::Conv2d& conv, double scale) {
  torch::NoGradGuard ng;
  torch::nn::init::kaiming_normal_(conv->weight);
  conv->weight.mul_(scale);
  conv->bias.zero_();
}

/// The first invalid option as {key, problem}, or {"", ""} when all are valid.
std::pair<std::string, std::string> validate(const RrdbNetOptions& o) {
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  if (o.num_block < 0) return {"num_block", "must be >= 0, got " + std::to_string(o.num_block)};
  if (o.num_grow_ch < 1) return {"num_grow_ch", "must be >= 1, got " + std::to_string(o.num_grow_ch)};
  return {"", ""};
}
}  // namespace

ResidualDenseBlockImpl::ResidualDenseBlockImpl(int64_t num_feat, int64_t num_grow_ch) {
  const int64_t f = num_feat, g = num_grow_ch;
  conv1 = register_module("conv1", conv3x3(f, g));
  conv2 = register_module("conv2", conv3x3(f + g, g));
  conv3 = register_module("conv3", conv3x3(f + 2 * g, g));
  conv4 = register_module("conv4", conv3x3(f + 3 * g, g));
  conv5 = register_module("conv5", conv3x3(f + 4 * g, f));
  for (auto* c : {&conv1, &conv2, &conv3, &conv4, &conv5}) init_scaled_kaiming(*c, 0.1);
}

torch::Tensor ResidualDenseBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor x1 = rrdb_lrelu(conv1->forward(x));
  const torch::Tensor x2 = rrdb_lrelu(conv2->forward(torch::cat({x, x1}, 1)));
  const torch::Tensor x3 = rrdb_lrelu(conv3->forward(torch::cat({x, x1, x2}, 1)));
  const torch::Tensor x4 = rrdb_lrelu(conv4->forward(torch::cat({x, x1, x2, x3}, 1)));
  const torch::Tensor x5 = conv5->forward(torch::cat({x, x1, x2, x3, x4}, 1));
  return x5 * kResScale + x;
}

RrdbImpl::RrdbImpl(int64_t num_feat, int64_t num_grow_ch) {
  rdb1 = register_module("rdb1", ResidualDenseBlock(num_feat, num_grow_ch));
  rdb2 = register_module("rdb2", ResidualDenseBlock(num_feat, num_grow_ch));
  rdb3 = register_module("rdb3", ResidualDenseBlock(num_feat, num_grow_ch));
}

torch::Tensor RrdbImpl::forward(const torch::Tensor& x) {
  return rdb3->forward(rdb2->forward(rdb1->forward(x))) * kResScale + x;
}

RrdbNetImpl::RrdbNetImpl(const RrdbNetOptions& options) : options_(options) {
  check_scale("rrdbnet", options.scale, kRrdbnetScales);
  const auto [key, problem] = validate(options);
  if (!key.empty()) throw Error("rrdbnet: " + key + " " + problem);
  const int64_t f = options.num_feat, r = unshuffle_factor();
  conv_first = register_module("conv_first", conv3x3(3 * r * r, f));
  body = torch::nn::Sequential();
  for (int i = 0; i < options.num_block; ++i) body->push_back(Rrdb(f, options.num_grow_ch));
  register_module("body", body);
  conv_body = register_module("conv_body", conv3x3(f, f));
  conv_up1 = register_module("conv_up1", conv3x3(f, f));
  conv_up2 = register_module("conv_up2", conv3x3(f, f));
  conv_hr = register_module("conv_hr", conv3x3(f, f));
  conv_last = register_module("conv_last", conv3x3(f, 3));
}

torch::Tensor RrdbNetImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "rrdbnet");
  const int64_t r = unshuffle_factor(), s = options_.scale;
  const int64_t h = lr.size(2), w = lr.size(3);
  torch::Tensor feat = lr;
  if (r > 1) {
    const int64_t ph = (r - h % r) % r, pw = (r - w % r) % r;
    if (ph > 0 || pw > 0) {
      if (ph >= h || pw >= w)
        throw Error("rrdbnet x" + std::to_string(s) + ": an LR input of " + std::to_string(h) + "x" +
                    std::to_string(w) + " is too small: it is reflect-padded to a multiple of the pixel-unshuffle "
                    "factor " + std::to_string(r) + ", which needs h and w >= " + std::to_string(r == 2 ? 2 : 3));
      feat = F::pad(feat, F::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReflect));
    }
    feat = torch::pixel_unshuffle(feat, r);
  }
  feat = conv_first->forward(feat);
  torch::Tensor trunk = options_.num_block > 0 ? body->forward(feat) : feat;
  feat = feat + conv_body->forward(trunk);
  const auto up2 = F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest);
  feat = rrdb_lrelu(conv_up1->forward(F::interpolate(feat, up2)));
  feat = rrdb_lrelu(conv_up2->forward(F::interpolate(feat, up2)));
  torch::Tensor out = conv_last->forward(rrdb_lrelu(conv_hr->forward(feat)));
  if (out.size(2) != h * s || out.size(3) != w * s) out = out.slice(2, 0, h * s).slice(3, 0, w * s);
  return out;
}

int64_t rrdbnet_parameter_count(const RrdbNetOptions& o) {
  const int64_t f = o.num_feat, g = o.num_grow_ch;
  const int64_t r = o.scale == 4 ? 1 : 4 / o.scale;
  const int64_t conv_ff = 9 * f * f + f;
  int64_t rdb = 9 * (f + 4 * g) * f + f;
  for (int64_t j = 1; j <= 4; ++j) rdb += 9 * (f + (j - 1) * g) * g + g;
  return (9 * 3 * r * r * f + f) + o.num_block * 3 * rdb + 4 * conv_ff + (27 * f + 3);
}

Generator make_rrdbnet(const core::Config& params, int scale) {
  check_scale(params, "rrdbnet", scale, kRrdbnetScales);
  RrdbNetOptions o;
  o.scale = scale;
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.num_block = params.get<int>("num_block", o.num_block);
  o.num_grow_ch = params.get<int>("num_grow_ch", o.num_grow_ch);
  const auto [key, problem] = validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<RrdbNetImpl>(o);
}

std::optional<DetectedModel> detect_rrdbnet(const StateDict& sd) {
  const torch::Tensor* first = find_tensor(sd, "conv_first.weight", 4);
  const torch::Tensor* last = find_tensor(sd, "conv_last.weight", 4);
  if (!first || !last || !has_keys(sd, {"conv_body.weight", "conv_up1.weight", "conv_up2.weight", "conv_hr.weight"}))
    return std::nullopt;
  const std::vector<int> blocks = key_indices(sd, "body.", ".rdb1.conv1.weight");
  if (!is_contiguous_from_zero(blocks)) throw Error("RRDBNet weights: the body blocks are not numbered 0..B-1");
  const int64_t in_ch = first->size(1);
  int scale = 0;
  if (in_ch == 3) scale = 4;
  else if (in_ch == 12) scale = 2;   // pixel-unshuffle by 2 (Real-ESRGAN x2)
  else if (in_ch == 48) scale = 1;   // pixel-unshuffle by 4 (Real-ESRGAN x1)
  else throw Error("RRDBNet weights: conv_first has " + std::to_string(in_ch) + " input channels; SRLab's RRDBNet "
                   "reads RGB (3 at x4, 12 at x2, 48 at x1)");
  if (last->size(0) != 3)
    throw Error("RRDBNet weights: conv_last has " + std::to_string(last->size(0)) + " output channels; SRLab's "
                "RRDBNet writes RGB (num_out_ch 3)");
  int64_t grow = 32;  // BasicSR's default; no trace without blocks
  if (!blocks.empty()) grow = sd.at("body.0.rdb1.conv1.weight").size(0);
  return DetectedModel{"type: rrdbnet\nnum_feat: " + std::to_string(first->size(0)) + "\nnum_block: " +
                           std::to_string(blocks.size()) + "\nnum_grow_ch: " + std::to_string(grow) + "\n",
                       scale};
}

void register_rrdbnet() {
  register_generator("rrdbnet", make_rrdbnet,
                     "RRDBNet (ESRGAN, Wang et al. 2018; x1/x2 via pixel-unshuffle as Real-ESRGAN), BasicSR layout; "
                     "params num_feat, num_block, num_grow_ch",
                     detect_rrdbnet);
}

}  // namespace srlab::models
