#include "models/arch/span.h"

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/state_dict_util.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
const std::vector<int> kSpanScales{1, 2, 3, 4, 8};
constexpr int kBlocks = 6;

torch::nn::Conv2d span_conv(int64_t in, int64_t out, int64_t k, int64_t pad) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(pad).bias(true));
}
}  // namespace

Conv3XCImpl::Conv3XCImpl(int64_t c_in, int64_t c_out, int64_t gain) {
  sk = register_module("sk", span_conv(c_in, c_out, 1, 0));
  // Built one statement each, in the reference's order: as arguments of one call their (random)
  // initialisation order would be unspecified, so a seed would give other weights than PyTorch's.
  auto expand = span_conv(c_in, c_in * gain, 1, 0);
  auto body = span_conv(c_in * gain, c_out * gain, 3, 0);
  auto squeeze = span_conv(c_out * gain, c_out, 1, 0);
  conv = register_module("conv", torch::nn::Sequential(expand, body, squeeze));
  eval_conv = register_module("eval_conv", span_conv(c_in, c_out, 3, 1));
}

std::pair<torch::Tensor, torch::Tensor> Conv3XCImpl::fold() const {
  torch::NoGradGuard no_grad;
  auto d = [](const torch::Tensor& t) { return t.detach().to(torch::kFloat64); };
  const auto& c0 = *conv->ptr(0)->as<torch::nn::Conv2dImpl>();
  const auto& c1 = *conv->ptr(1)->as<torch::nn::Conv2dImpl>();
  const auto& c2 = *conv->ptr(2)->as<torch::nn::Conv2dImpl>();
  const torch::Tensor w1 = d(c0.weight).flatten(1), b1 = d(c0.bias);  // (m1,cin), (m1)
  const torch::Tensor w2 = d(c1.weight), b2 = d(c1.bias);             // (m2,m1,3,3), (m2)
  const torch::Tensor w3 = d(c2.weight).flatten(1), b3 = d(c2.bias);  // (cout,m2), (cout)
  // 1x1 then 3x3: W_a[o,i] = sum_m w2[o,m] w1[m,i]; bias b2 + sum over taps and m of w2 b1.
  const torch::Tensor wa = torch::einsum("omyx,mi->oiyx", {w2, w1});
  const torch::Tensor ba = torch::einsum("omyx,m->o", {w2, b1}) + b2;
  // then 1x1: W[p,i] = sum_o w3[p,o] W_a[o,i]; bias w3 ba + b3.
  torch::Tensor w = torch::einsum("po,oiyx->piyx", {w3, wa});
  torch::Tensor b = torch::mv(w3, ba) + b3;
  // plus the 1x1 skip, zero-padded to 3x3 (its centre tap).
  w.select(3, 1).select(2, 1).add_(d(sk->weight).flatten(1));
  b.add_(d(sk->bias));
  const auto dtype = eval_conv->weight.scalar_type();
  return {w.to(dtype), b.to(dtype)};
}

void Conv3XCImpl::update_eval_conv() {
  torch::NoGradGuard no_grad;
  auto [w, b] = fold();
  // Keep an eval_conv that already is this fold up to float rounding (e.g. loaded from a weight file,
  // folded there by the reference code): re-rounding it would move the output by ~1e-7 relative.
  const double tol = kConv3XCFoldTolerance * (1.0 + w.abs().max().item<double>());
  if ((eval_conv->weight - w).abs().max().item<double>() <= tol && (eval_conv->bias - b).abs().max().item<double>() <= tol)
    return;
  eval_conv->weight.copy_(w);
  eval_conv->bias.copy_(b);
}

torch::Tensor Conv3XCImpl::forward(const torch::Tensor& x) {
  if (is_training()) return conv->forward(F::pad(x, F::PadFuncOptions({1, 1, 1, 1}))) + sk->forward(x);
  update_eval_conv();
  return eval_conv->forward(x);
}

SpabImpl::SpabImpl(int64_t channels) {
  c1_r = register_module("c1_r", Conv3XC(channels, channels));
  c2_r = register_module("c2_r", Conv3XC(channels, channels));
  c3_r = register_module("c3_r", Conv3XC(channels, channels));
}

std::pair<torch::Tensor, torch::Tensor> SpabImpl::forward(const torch::Tensor& x) {
  const torch::Tensor out1 = c1_r->forward(x);
  // The reference applies SiLU in place, so the tensor it returns as out1 is silu(out1).
  const torch::Tensor act1 = torch::silu(out1);
  const torch::Tensor out3 = c3_r->forward(torch::silu(c2_r->forward(act1)));
  const torch::Tensor attention = torch::sigmoid(out3) - 0.5;
  return {(out3 + x) * attention, act1};
}

SpanImpl::SpanImpl(const SpanOptions& options) : options_(options) {
  check_scale("span", options.scale, kSpanScales);
  if (options.feature_channels < 1)
    throw Error("span: feature_channels must be >= 1, got " + std::to_string(options.feature_channels));
  const int64_t f = options.feature_channels, s = options.scale;
  conv_1 = register_module("conv_1", Conv3XC(3, f));
  for (int i = 1; i <= kBlocks; ++i) blocks.push_back(register_module("block_" + std::to_string(i), Spab(f)));
  conv_cat = register_module("conv_cat", span_conv(4 * f, f, 1, 0));
  conv_2 = register_module("conv_2", Conv3XC(f, f));
  upsampler = register_module("upsampler", torch::nn::Sequential(span_conv(f, 3 * s * s, 3, 1), torch::nn::PixelShuffle(s)));
  if (!options.norm) no_norm = register_buffer("no_norm", torch::zeros({1}));
}

torch::Tensor SpanImpl::forward(torch::Tensor lr) {
  check_lr_batch(lr, "span");
  torch::Tensor x = lr;
  if (options_.norm) {
    const torch::Tensor mean =
        torch::tensor({kSpanRgbMean[0], kSpanRgbMean[1], kSpanRgbMean[2]}, lr.options()).view({1, 3, 1, 1});
    x = (x - mean) * kSpanImgRange;
  }
  const torch::Tensor f0 = conv_1->forward(x);
  torch::Tensor b = f0, b1, b5_inner;
  for (int i = 0; i < kBlocks; ++i) {
    auto [out, out1] = blocks[i]->forward(b);
    b = out;
    if (i == 0) b1 = out;
    if (i == kBlocks - 1) b5_inner = out1;
  }
  const torch::Tensor b6 = conv_2->forward(b);
  return upsampler->forward(conv_cat->forward(torch::cat({f0, b6, b1, b5_inner}, 1)));
}

std::vector<std::pair<std::string, Conv3XC>> SpanImpl::conv3xc_layers() const {
  std::vector<std::pair<std::string, Conv3XC>> out{{"conv_1", conv_1}};
  for (int i = 0; i < kBlocks; ++i) {
    const std::string b = "block_" + std::to_string(i + 1) + ".";
    out.push_back({b + "c1_r", blocks[i]->c1_r});
    out.push_back({b + "c2_r", blocks[i]->c2_r});
    out.push_back({b + "c3_r", blocks[i]->c3_r});
  }
  out.push_back({"conv_2", conv_2});
  return out;
}

Generator make_span(const core::Config& params, int scale) {
  check_scale(params, "span", scale, kSpanScales);
  SpanOptions o;
  o.scale = scale;
  o.feature_channels = params.get<int>("feature_channels", o.feature_channels);
  o.norm = params.get<bool>("norm", o.norm);
  if (o.feature_channels < 1)
    params.fail("feature_channels", "must be >= 1, got " + std::to_string(o.feature_channels));
  return std::make_shared<SpanImpl>(o);
}

std::optional<DetectedModel> detect_span(const StateDict& sd) {
  for (const char* k : {"conv_1.sk.weight", "block_1.c1_r.sk.weight", "block_1.c1_r.eval_conv.weight",
                        "block_1.c3_r.eval_conv.weight", "conv_cat.weight", "conv_2.sk.weight",
                        "conv_2.eval_conv.weight", "upsampler.0.weight"})
    if (!sd.count(k)) return std::nullopt;
  const std::string arch = "SPAN weights";
  const torch::Tensor& sk = tensor_of(sd, "conv_1.sk.weight", 4, arch);
  if (sk.size(1) != 3)
    throw Error(arch + ": conv_1.sk.weight has " + std::to_string(sk.size(1)) +
                " input channels; SRLab's SPAN takes RGB (3) only");
  const int64_t f = sk.size(0);
  for (int i = 1; i <= kBlocks; ++i)
    require_key(sd, "block_" + std::to_string(i) + ".c3_r.sk.weight", arch);
  const int scale = pixel_shuffle_scale(tensor_of(sd, "upsampler.0.weight", 4, arch), 3, "upsampler.0.weight", arch);
  check_scale("span", scale, kSpanScales);
  const bool norm = !sd.count("no_norm");
  return DetectedModel{"type: span\nfeature_channels: " + std::to_string(f) + "\nnorm: " + (norm ? "true" : "false") + "\n",
                       scale};
}

void register_span() {
  register_generator("span", make_span,
                     "SPAN (Wan et al., CVPRW 2024), official/spandrel layout; params feature_channels (F >= 1, "
                     "default 48), norm (subtract the RGB mean and x255 at the input, default true); scales 1,2,3,4,8",
                     detect_span);
}

}  // namespace srlab::models
