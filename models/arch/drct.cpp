// DRCT generator, YAML factory and registration (see models/arch/drct.h).
#include "models/arch/swin_options.h"
#include "models/arch/drct.h"
#include "models/arch/reflect_pad.h"

#include <cmath>

#include "core/error.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
/// LeakyReLU slope after adjust1..adjust4 and the weight of the RDG's residual.
constexpr double kDenseSlope = 0.2, kResidualScale = 0.2;
const std::vector<int> kDrctScales{2, 3, 4, 8};
constexpr int kLayersPerRdg = 5;



const char* kDrctSummary =
    "DRCT (Hsu et al. 2024), official layout (ming053l/DRCT DRCT_arch.py); scales 2,3,4,8; params:\n"
    "      embed_dim: 180   depths: [6,6,6,6,6,6] (one RDG per entry)   num_heads: [6,6,6,6,6,6] (per RDG)\n"
    "      window_size: 16   mlp_ratio: 2.0   img_size: 64 (patch size of the stored attn_mask)   gc: 32\n"
    "      resi_connection: 1conv | identity   img_range: 1.0   patch_norm: true   qkv_bias: true\n"
    "      drop_path_rate: 0.1 (stochastic depth, training only)";
}  // namespace

int64_t drct_layer_heads(int64_t embed_dim, int64_t gc, int64_t heads, int k) {
  if (k == 1) return heads;  // swin1 takes num_heads as given
  const int64_t dim = embed_dim + (k - 1) * gc;
  return heads - dim % heads;
}

std::pair<std::string, std::string> drct_validate(const DrctOptions& o) {
  if (o.gc < 1) return {"gc", "must be >= 1, got " + std::to_string(o.gc)};
  for (const SwinProblem& p : {validate_swin_trunk(o.embed_dim, o.depths, o.num_heads, o.window_size, "RDG (one per entry)", /*heads_divide_embed_dim=*/false),
                            validate_swin_img_size(o.img_size, o.window_size), validate_swin_ratios(o.embed_dim, o.mlp_ratio, o.img_range),
                            validate_drop_path_rate(o.drop_path_rate)})
    if (!p.first.empty()) return p;
  for (int h : o.num_heads) {
    for (int k = 1; k <= kLayersPerRdg; ++k) {
      const int64_t dim = o.embed_dim + (k - 1) * o.gc, heads = drct_layer_heads(o.embed_dim, o.gc, h, k);
      if (dim % heads != 0)
        return {"num_heads", "entry " + std::to_string(h) + " gives swin" + std::to_string(k) + " " + std::to_string(heads) +
                                 " heads (h for swin1, h - C_k mod h for the others), which do not divide its " + std::to_string(dim) + " channels"};
    }
  }
  return {"", ""};
}

RdgImpl::RdgImpl(const std::vector<SwinBlockOptions>& blocks, int64_t embed_dim, int64_t gc) {
  for (size_t k = 0; k < blocks.size(); ++k) {
    const std::string n = std::to_string(k + 1);
    swin.push_back(register_module("swin" + n, SwinTransformerBlock(blocks[k])));
    const int64_t out = k + 1 == blocks.size() ? embed_dim : gc;
    adjust.push_back(register_module("adjust" + n, same_conv(blocks[k].dim, out, 1)));
  }
}

torch::Tensor RdgImpl::forward(const torch::Tensor& x, int64_t height, int64_t width, const torch::Tensor& shift_mask) {
  std::vector<torch::Tensor> dense{x};
  for (size_t k = 0; k < swin.size(); ++k) {
    const torch::Tensor in = dense.size() == 1 ? x : torch::cat(dense, -1);
    torch::Tensor y = adjust[k]->forward(swin_tokens_to_map(swin[k]->forward(in, height, width, shift_mask), height, width));
    if (k + 1 < swin.size()) {
      y = F::leaky_relu(y, F::LeakyReLUFuncOptions().negative_slope(kDenseSlope));
      dense.push_back(swin_map_to_tokens(y));
    } else {
      return swin_map_to_tokens(y) * kResidualScale + x;
    }
  }
  return x;
}

DrctImpl::DrctImpl(const DrctOptions& o) : options_(o) {
  check_scale("drct", o.scale, kDrctScales);
  const auto [key, problem] = drct_validate(o);
  if (!key.empty()) throw Error("drct: " + key + " " + problem);
  const int64_t c = o.embed_dim, f = kDrctNumFeat;
  conv_first = register_module("conv_first", same_conv(3, c, 3));
  if (o.patch_norm) {
    auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
    patch_norm = patch_embed->register_module("norm", layer_norm(c));
  }
  int total = 0;
  for (int d : o.depths) total += d;
  auto list = register_module("layers", torch::nn::ModuleList());
  int first = 0;  // sum(depths[:i]): the official RDG takes dpr[sum(depths[:i])] for all its layers
  for (size_t i = 0; i < o.depths.size(); ++i) {
    std::vector<SwinBlockOptions> blocks;
    for (int k = 1; k <= kLayersPerRdg; ++k) {
      SwinBlockOptions b;
      b.dim = c + (k - 1) * o.gc;
      b.num_heads = drct_layer_heads(c, o.gc, o.num_heads[i], k);
      b.window = o.window_size;
      b.shift = k % 2 == 0 ? o.shift() : 0;
      b.img_size = o.img_size;
      b.mlp_ratio = k <= 3 ? o.mlp_ratio : 1.0;
      b.qkv_bias = o.qkv_bias;
      b.drop_path = total > 1 ? o.drop_path_rate * first / (total - 1) : 0.0;  // torch.linspace(0, rate, total)
      blocks.push_back(b);
    }
    layers.push_back(Rdg(blocks, c, o.gc));
    list->push_back(layers.back());
    first += o.depths[i];
  }
  norm = register_module("norm", layer_norm(c));
  if (!o.identity_resi) conv_after_body = register_swin_resi_conv(*this, "conv_after_body", c, false);
  conv_before_upsample = same_conv(c, f, 3);
  register_module("conv_before_upsample",
                  torch::nn::Sequential(conv_before_upsample,
                                        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakyReluDefaultSlope))));
  torch::nn::Sequential seq;
  const int64_t r = o.scale == 3 ? 3 : 2;
  const int64_t stages = o.scale == 3 ? 1 : static_cast<int64_t>(std::lround(std::log2(o.scale)));
  for (int64_t i = 0; i < stages; ++i) {
    upsample.push_back(same_conv(f, r * r * f, 3));
    seq->push_back(upsample.back());
    seq->push_back(torch::nn::PixelShuffle(r));
  }
  register_module("upsample", seq);
  conv_last = register_module("conv_last", same_conv(f, 3, 3));
}

torch::Tensor DrctImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "drct");
  const int64_t h = lr.size(2), w = lr.size(3), s = options_.scale, shift = options_.shift();
  const double range = options_.img_range;
  const torch::Tensor x0 = reflect_pad_to_multiple(lr, options_.window_size);
  const int64_t ph = x0.size(2), pw = x0.size(3);
  const torch::Tensor mean = torch::tensor({kDiv2kRgbMean[0], kDiv2kRgbMean[1], kDiv2kRgbMean[2]}).view({1, 3, 1, 1}).to(lr.options());
  const torch::Tensor f = conv_first->forward((x0 - mean) * range);
  torch::Tensor t = swin_map_to_tokens(f);
  if (options_.patch_norm) t = patch_norm->forward(t);
  // One shifted-window mask per forward for sizes other than img_size x img_size (the layers use their
  // attn_mask buffer at that size).
  torch::Tensor mask;
  if (shift > 0 && (ph != options_.img_size || pw != options_.img_size))
    mask = swin_shift_attention_mask(ph, pw, options_.window_size, shift, f.device()).to(f.dtype());
  for (auto& layer : layers) t = layer->forward(t, ph, pw, mask);
  const torch::Tensor body = swin_tokens_to_map(norm->forward(t), ph, pw);
  torch::Tensor y = (options_.identity_resi ? body : conv_after_body(body)) + f;
  y = F::leaky_relu(conv_before_upsample->forward(y), F::LeakyReLUFuncOptions().negative_slope(kLeakyReluDefaultSlope));
  for (auto& up : upsample) y = torch::pixel_shuffle(up->forward(y), s == 3 ? 3 : 2);
  y = conv_last->forward(y) / range + mean;
  if (ph == h && pw == w) return y;
  return y.slice(2, 0, h * s).slice(3, 0, w * s);
}

Generator make_drct(const core::Config& params, int scale) {
  check_scale(params, "drct", scale, kDrctScales);
  DrctOptions o;
  o.scale = scale;
  read_swin_trunk_options(params, o);
  o.img_size = params.get<int>("img_size", o.img_size);
  o.identity_resi = parse_identity_resi_connection(params, "DRCT");
  o.gc = params.get<int>("gc", o.gc);
  o.drop_path_rate = params.get<double>("drop_path_rate", o.drop_path_rate);
  const auto [key, problem] = drct_validate(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<DrctImpl>(o);
}

void register_drct() { register_generator("drct", make_drct, kDrctSummary, detect_drct); }

}  // namespace srlab::models
