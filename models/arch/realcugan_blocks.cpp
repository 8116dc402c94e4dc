// Real-CUGAN building blocks (models/arch/realcugan.h): SE block, U-Net conv pair, UNet1 / UNet1x3, UNet2.
#include "models/arch/realcugan.h"
#include "models/arch/arch_util.h"

namespace srlab::models {

namespace {
namespace F = torch::nn::functional;

torch::nn::Conv2d vconv(int64_t in, int64_t out, int64_t k, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(0).bias(true));
}

torch::nn::ConvTranspose2d deconv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding) {
  return torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, k).stride(stride).padding(padding).bias(true));
}

torch::Tensor cugan_lrelu(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.1)); }

/// F.pad(x, (-m, -m, -m, -m)): removes m samples at every spatial border.
/// The reference's init of every conv / transposed conv weight in UNet1 and UNet2 (SE convs included).
void kaiming_init(torch::nn::Module& m) {
  torch::NoGradGuard ng;
  for (auto& p : m.named_parameters(true))
    if (p.key().size() > 7 && p.key().compare(p.key().size() - 7, 7, ".weight") == 0)
      torch::nn::init::kaiming_normal_(p.value(), 0, torch::kFanOut, torch::kReLU);
}

}  // namespace

CuganSeBlockImpl::CuganSeBlockImpl(int64_t channels) {
  conv1 = register_module("conv1", vconv(channels, channels / 8, 1));
  conv2 = register_module("conv2", vconv(channels / 8, channels, 1));
}

torch::Tensor CuganSeBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor s = torch::mean(x, {2, 3}, /*keepdim=*/true);
  s = torch::sigmoid(conv2->forward(torch::relu(conv1->forward(s))));
  return x * s;
}

CuganUNetConvImpl::CuganUNetConvImpl(int64_t in, int64_t mid, int64_t out, bool se) {
  conv = register_module("conv", torch::nn::Sequential(vconv(in, mid, 3),
                                                       torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.1)),
                                                       vconv(mid, out, 3),
                                                       torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.1))));
  if (se) seblock = register_module("seblock", CuganSeBlock(out));
}

torch::Tensor CuganUNetConvImpl::forward(const torch::Tensor& x) {
  torch::Tensor z = conv->forward(x);
  return seblock ? seblock->forward(z) : z;
}

CuganUNet1Impl::CuganUNet1Impl(int64_t in, int64_t out, bool x3) {
  conv1 = register_module("conv1", CuganUNetConv(in, 32, 64, false));
  conv1_down = register_module("conv1_down", vconv(64, 64, 2, 2));
  conv2 = register_module("conv2", CuganUNetConv(64, 128, 64, true));
  conv2_up = register_module("conv2_up", deconv(64, 64, 2, 2, 0));
  conv3 = register_module("conv3", vconv(64, 64, 3));
  conv_bottom = register_module("conv_bottom", x3 ? deconv(64, out, 5, 3, 2) : deconv(64, out, 4, 2, 3));
  kaiming_init(*this);
}

torch::Tensor CuganUNet1Impl::forward(const torch::Tensor& x) {
  const torch::Tensor x1 = conv1->forward(x);
  torch::Tensor x2 = cugan_lrelu(conv1_down->forward(x1));
  x2 = cugan_lrelu(conv2_up->forward(conv2->forward(x2)));
  const torch::Tensor x3 = cugan_lrelu(conv3->forward(crop_border(x1, 4) + x2));
  return conv_bottom->forward(x3);
}

CuganUNet2Impl::CuganUNet2Impl(int64_t in, int64_t out) {
  conv1 = register_module("conv1", CuganUNetConv(in, 32, 64, false));
  conv1_down = register_module("conv1_down", vconv(64, 64, 2, 2));
  conv2 = register_module("conv2", CuganUNetConv(64, 64, 128, true));
  conv2_down = register_module("conv2_down", vconv(128, 128, 2, 2));
  conv3 = register_module("conv3", CuganUNetConv(128, 256, 128, true));
  conv3_up = register_module("conv3_up", deconv(128, 128, 2, 2, 0));
  conv4 = register_module("conv4", CuganUNetConv(128, 64, 64, true));
  conv4_up = register_module("conv4_up", deconv(64, 64, 2, 2, 0));
  conv5 = register_module("conv5", vconv(64, 64, 3));
  conv_bottom = register_module("conv_bottom", vconv(64, out, 3));
  kaiming_init(*this);
}

torch::Tensor CuganUNet2Impl::forward(const torch::Tensor& x) {
  const torch::Tensor x1 = conv1->forward(x);
  torch::Tensor x2 = conv2->forward(cugan_lrelu(conv1_down->forward(x1)));
  torch::Tensor x3 = conv3->forward(cugan_lrelu(conv2_down->forward(x2)));
  x3 = cugan_lrelu(conv3_up->forward(x3));
  torch::Tensor x4 = conv4->forward(crop_border(x2, 4) + x3);
  x4 = cugan_lrelu(conv4_up->forward(x4));
  const torch::Tensor x5 = cugan_lrelu(conv5->forward(crop_border(x1, 16) + x4));
  return conv_bottom->forward(x5);
}

}  // namespace srlab::models
