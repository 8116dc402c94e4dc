// HAT generator, YAML factory and registration (see models/arch/hat.h).
#include "models/arch/swin_options.h"
#include "models/arch/hat.h"
#include "models/arch/reflect_pad.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
const std::vector<int> kHatScales{2, 3, 4, 8};



const char* kHatSummary =
    "HAT (Chen et al. 2023), official layout (XPixelGroup/HAT hat_arch.py); scales 2,3,4,8; params:\n"
    "      embed_dim: 96 (divisible by each num_heads)   depths: [6,6,6,6] (HABs per RHAG)   num_heads: [6,6,6,6]\n"
    "      window_size: 16   compress_ratio: 3   squeeze_factor: 30   conv_scale: 0.01   overlap_ratio: 0.5\n"
    "      mlp_ratio: 4.0   img_size: 64   resi_connection: 1conv | identity   num_feat: 64   img_range: 1.0\n"
    "      patch_norm: true   qkv_bias: true   drop_path_rate: 0.1 (stochastic depth, training only)";
}  // namespace

int64_t HatOptions::overlap_window() const {
  return static_cast<int64_t>(static_cast<double>(window_size) * overlap_ratio) + window_size;  // int(M * r) + M
}

std::pair<std::string, std::string> hat_validate(const HatOptions& o) {
  for (const SwinProblem& p : {validate_swin_trunk(o.embed_dim, o.depths, o.num_heads, o.window_size, "RHAG depth"),
                            validate_swin_ratios(o.embed_dim, o.mlp_ratio, o.img_range),
                            validate_swin_img_size(o.img_size, o.window_size, /*multiple=*/false), validate_drop_path_rate(o.drop_path_rate)})
    if (!p.first.empty()) return p;
  if (o.compress_ratio < 1 || o.embed_dim / o.compress_ratio < 1)
    return {"compress_ratio", "must be in [1, embed_dim], got " + std::to_string(o.compress_ratio)};
  if (o.squeeze_factor < 1 || o.embed_dim / o.squeeze_factor < 1)
    return {"squeeze_factor", "must be in [1, embed_dim], got " + std::to_string(o.squeeze_factor)};
  if (!std::isfinite(o.conv_scale)) return {"conv_scale", "must be finite"};
  if (!(std::isfinite(o.overlap_ratio) && o.overlap_ratio >= 0.0 && o.overlap_ratio <= 8.0))
    return {"overlap_ratio", "must be in [0, 8]"};
  if ((o.overlap_window() - o.window_size) % 2 != 0)
    return {"overlap_ratio", "gives an overlapping window of " + std::to_string(o.overlap_window()) + " for window_size " +
                                 std::to_string(o.window_size) + ": int(window_size * overlap_ratio) must be even (the "
                                 "official unfold pads (Mo - M) / 2 on each side)"};
  if (o.num_feat < 1) return {"num_feat", "must be >= 1, got " + std::to_string(o.num_feat)};
  return {"", ""};
}

HatImpl::HatImpl(const HatOptions& o) : options_(o) {
  check_scale("hat", o.scale, kHatScales);
  const auto [key, problem] = hat_validate(o);
  if (!key.empty()) throw Error("hat: " + key + " " + problem);
  const int64_t c = o.embed_dim, m = o.window_size, f = o.num_feat;
  relative_position_index_SA = register_buffer("relative_position_index_SA", swin_relative_position_index(m));
  relative_position_index_OCA =
      register_buffer("relative_position_index_OCA", hat_oca_relative_position_index(m, o.overlap_window()));
  conv_first = register_module("conv_first", conv3x3(3, c));
  if (o.patch_norm) {
    auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
    patch_norm = patch_embed->register_module("norm", layer_norm(c));
  }
  int total = 0;
  for (int d : o.depths) total += d;
  auto list = register_module("layers", torch::nn::ModuleList());
  int k = 0;  // global block index for the stochastic-depth decay rule
  for (size_t i = 0; i < o.depths.size(); ++i) {
    std::vector<HabOptions> blocks;
    for (int j = 0; j < o.depths[i]; ++j, ++k) {
      HabOptions b;
      b.dim = c;
      b.num_heads = o.num_heads[i];
      b.window = m;
      b.shift = j % 2 == 0 ? 0 : o.shift();
      b.compressed = c / o.compress_ratio;
      b.squeezed = c / o.squeeze_factor;
      b.conv_scale = o.conv_scale;
      b.mlp_ratio = o.mlp_ratio;
      b.qkv_bias = o.qkv_bias;
      b.drop_path = total > 1 ? o.drop_path_rate * k / (total - 1) : 0.0;  // torch.linspace(0, rate, total)
      blocks.push_back(b);
    }
    layers.push_back(Rhag(blocks, o.overlap_window(), o.identity_resi));
    list->push_back(layers.back());
  }
  norm = register_module("norm", layer_norm(c));
  if (!o.identity_resi) conv_after_body = register_swin_resi_conv(*this, "conv_after_body", c, false);
  conv_before_upsample = conv3x3(c, f);
  register_module("conv_before_upsample",
                  torch::nn::Sequential(conv_before_upsample,
                                        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakyReluDefaultSlope))));
  torch::nn::Sequential seq;
  const int64_t r = o.scale == 3 ? 3 : 2;
  const int64_t stages = o.scale == 3 ? 1 : static_cast<int64_t>(std::lround(std::log2(o.scale)));
  for (int64_t i = 0; i < stages; ++i) {
    upsample.push_back(conv3x3(f, r * r * f));
    seq->push_back(upsample.back());
    seq->push_back(torch::nn::PixelShuffle(r));
  }
  register_module("upsample", seq);
  conv_last = register_module("conv_last", conv3x3(f, 3));
}

torch::Tensor HatImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "hat");
  const int64_t h = lr.size(2), w = lr.size(3), s = options_.scale, shift = options_.shift();
  const double range = options_.img_range;
  const torch::Tensor mean = torch::tensor({kDiv2kRgbMean[0], kDiv2kRgbMean[1], kDiv2kRgbMean[2]}).view({1, 3, 1, 1}).to(lr.options());
  const torch::Tensor x = reflect_pad_to_multiple((lr - mean) * range, options_.window_size);
  const int64_t ph = x.size(2), pw = x.size(3);
  const torch::Tensor f = conv_first->forward(x);
  torch::Tensor t = swin_map_to_tokens(f);
  if (options_.patch_norm) t = patch_norm->forward(t);
  torch::Tensor mask;  // one shifted-window mask per forward for the padded size (official calculate_mask)
  if (shift > 0) mask = swin_shift_attention_mask(ph, pw, options_.window_size, shift, f.device()).to(f.dtype());
  for (auto& layer : layers) t = layer->forward(t, ph, pw, relative_position_index_SA, relative_position_index_OCA, mask);
  const torch::Tensor body = swin_tokens_to_map(norm->forward(t), ph, pw);
  torch::Tensor y = (options_.identity_resi ? body : conv_after_body(body)) + f;
  y = F::leaky_relu(conv_before_upsample->forward(y), F::LeakyReLUFuncOptions().negative_slope(kLeakyReluDefaultSlope));
  for (auto& up : upsample) y = torch::pixel_shuffle(up->forward(y), s == 3 ? 3 : 2);
  y = conv_last->forward(y) / range + mean;
  if (ph == h && pw == w) return y;
  return y.slice(2, 0, h * s).slice(3, 0, w * s);
}

Generator make_hat(const core::Config& params, int scale) {
  check_scale(params, "hat", scale, kHatScales);
  HatOptions o;
  o.scale = scale;
  read_swin_trunk_options(params, o);
  o.compress_ratio = params.get<int>("compress_ratio", o.compress_ratio);
  o.squeeze_factor = params.get<int>("squeeze_factor", o.squeeze_factor);
  o.conv_scale = params.get<double>("conv_scale", o.conv_scale);
  o.overlap_ratio = params.get<double>("overlap_ratio", o.overlap_ratio);
  o.img_size = params.get<int>("img_size", o.img_size);
  o.identity_resi = parse_identity_resi_connection(params, "HAT");
  o.num_feat = params.get<int>("num_feat", o.num_feat);
  o.drop_path_rate = params.get<double>("drop_path_rate", o.drop_path_rate);
  const auto [key, problem] = hat_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<HatImpl>(o);
}

void register_hat() { register_generator("hat", make_hat, kHatSummary, detect_hat); }

}  // namespace srlab::models
