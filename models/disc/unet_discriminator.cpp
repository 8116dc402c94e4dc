#include "models/disc/unet_discriminator.h"

#include "core/error.h"
#include "models/disc/discriminator_registry.h"

namespace srlab::models {

namespace F = torch::nn::functional;

namespace {
constexpr double kUnetSlope = 0.2;
constexpr int64_t kMultiple = 8;  // three stride-2 levels

torch::Tensor unet_lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(kUnetSlope)); }

torch::Tensor up2(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{2 * x.size(2), 2 * x.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}
}  // namespace

UnetDiscriminatorSNImpl::UnetDiscriminatorSNImpl(const UnetDiscriminatorOptions& options) : options_(options) {
  if (options.num_in_ch < 1) throw Error("unet_sn: num_in_ch must be >= 1, got " + std::to_string(options.num_in_ch));
  if (options.num_feat < 1) throw Error("unet_sn: num_feat must be >= 1, got " + std::to_string(options.num_feat));
  const int64_t f = options.num_feat;
  using torch::nn::Conv2dOptions;
  conv0 = register_module("conv0", torch::nn::Conv2d(Conv2dOptions(options.num_in_ch, f, 3).padding(1)));
  // (in, out, kernel, stride) of conv1 .. conv8; all padding 1, no bias.
  const std::array<std::array<int64_t, 4>, 8> spec{{{f, 2 * f, 4, 2},
                                                    {2 * f, 4 * f, 4, 2},
                                                    {4 * f, 8 * f, 4, 2},
                                                    {8 * f, 4 * f, 3, 1},
                                                    {4 * f, 2 * f, 3, 1},
                                                    {2 * f, f, 3, 1},
                                                    {f, f, 3, 1},
                                                    {f, f, 3, 1}}};
  for (size_t i = 0; i < spec.size(); ++i) {
    const auto& s = spec[i];
    sn_convs[i] = register_module("conv" + std::to_string(i + 1),
                                  SpectralNormConv2d(Conv2dOptions(s[0], s[1], s[2]).stride(s[3]).padding(1).bias(false)));
  }
  conv9 = register_module("conv9", torch::nn::Conv2d(Conv2dOptions(f, 1, 3).padding(1)));
}

torch::Tensor UnetDiscriminatorSNImpl::forward(torch::Tensor x) {
  check_discriminator_batch(x, "unet_sn", options_.num_in_ch);
  if (x.size(2) % kMultiple != 0 || x.size(3) % kMultiple != 0)
    throw Error("unet_sn: input height and width must be divisible by 8 (three stride-2 levels whose outputs are "
                "upsampled x2 and added back), got " + std::to_string(x.size(2)) + "x" + std::to_string(x.size(3)) +
                " (shape " + c10::str(x.sizes()) + "); crop the input to a multiple of 8");
  const bool skip = options_.skip_connection;
  auto& c = sn_convs;
  const torch::Tensor x0 = unet_lrelu(conv0->forward(x));
  const torch::Tensor x1 = unet_lrelu(c[0]->forward(x0));
  const torch::Tensor x2 = unet_lrelu(c[1]->forward(x1));
  const torch::Tensor x3 = unet_lrelu(c[2]->forward(x2));
  torch::Tensor x4 = unet_lrelu(c[3]->forward(up2(x3)));
  if (skip) x4 = x4 + x2;
  torch::Tensor x5 = unet_lrelu(c[4]->forward(up2(x4)));
  if (skip) x5 = x5 + x1;
  torch::Tensor x6 = unet_lrelu(c[5]->forward(up2(x5)));
  if (skip) x6 = x6 + x0;
  torch::Tensor out = unet_lrelu(c[6]->forward(x6));
  out = unet_lrelu(c[7]->forward(out));
  return conv9->forward(out);
}

int64_t unet_discriminator_parameter_count(const UnetDiscriminatorOptions& o) {
  const int64_t f = o.num_feat, c = o.num_in_ch;
  return 1068 * f * f + 9 * c * f + 10 * f + 1;
}

Discriminator make_unet_discriminator(const core::Config& params) {
  UnetDiscriminatorOptions o;
  o.num_in_ch = params.get<int>("num_in_ch", 3);
  if (o.num_in_ch < 1) params.fail("num_in_ch", "must be >= 1, got " + std::to_string(o.num_in_ch));
  o.num_feat = params.get<int>("num_feat", 64);
  if (o.num_feat < 1) params.fail("num_feat", "must be >= 1, got " + std::to_string(o.num_feat));
  o.skip_connection = params.get<bool>("skip_connection", true);
  return std::make_shared<UnetDiscriminatorSNImpl>(o);
}

void register_unet_discriminator() {
  register_discriminator("unet_sn", make_unet_discriminator,
                         "Real-ESRGAN U-Net discriminator with spectral norm (UNetDiscriminatorSN), per-pixel "
                         "logits (N,1,H,W), H,W multiples of 8; params num_in_ch, num_feat, skip_connection");
}

}  // namespace srlab::models
