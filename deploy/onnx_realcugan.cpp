// ONNX exporter of Real-CUGAN (models/arch/realcugan.h), dynamic N, H, W: mirrors RealCuganImpl::forward()
// (UpCunet2x / 3x / 4x / 2x_fast, pro or not) node for node:
//   pro: Add(Mul(x, 0.7), 0.15) first and Div(Sub(y, 0.15), 0.7) last; the `pro` buffer (a marker whose
//     value forward() never reads) is recorded as reproduced by that mapping;
//   the reflect padding by the variant's margin (18 / 14 / 19, fast 38) plus the bottom/right padding to a
//     multiple of 2 (x3, fast: 4) as Gathers with indices from the runtime Shape (reflect_pad_any,
//     deploy/onnx_blocks.h: any H, W, reflecting again where the margin exceeds the image, as
//     reflect_pad2d_any); fast: torch::pixel_unshuffle(2) (OnnxGraph::pixel_unshuffle);
//   UNetConv: Conv (valid), LeakyRelu 0.1, Conv, LeakyRelu 0.1, SE block (GlobalAveragePool, Conv, Relu,
//     Conv, Sigmoid, Mul; the shared channel_attention emitter); stride-2 convs: Conv; conv2_up / conv3_up /
//     conv4_up / UNet1's conv_bottom: ConvTranspose (shared export_conv_transpose2d); skips: Slice crops
//     (crop_border) + Add;
//   unet2(u) + crop20(u); x4 / fast: conv_final (Conv), crop 1, DepthToSpace CRD 2;
//   the crop to (s*H, s*W) (Slice, ends from the runtime input shape); x4 / fast: Add of the nearest
//     upscale of the (pro-mapped) input (Resize nearest, asymmetric, floor = F::interpolate nearest).
// Every configuration Real-CUGAN accepts is exported; nothing is refused.
#include "deploy/onnx_blocks.h"
#include "deploy/onnx_export.h"
#include "models/arch/realcugan.h"

namespace srlab::models {

namespace {

const char* kCuganType = "realcugan";
constexpr float kCuganSlope = 0.1f;

std::string conv(OnnxGraph& g, const std::string& x, const torch::nn::Conv2d& c, const std::string& key) {
  return export_conv2d(g, x, *c, key, kCuganType);
}

std::string lrelu(OnnxGraph& g, const std::string& x, const std::string& hint) { return g.leaky_relu(x, kCuganSlope, hint); }

std::string unet_conv(OnnxGraph& g, const std::string& x, const CuganUNetConvImpl& u, const std::string& key) {
  const auto& seq = *u.conv;
  const auto at = [&](size_t i) -> const torch::nn::Conv2dImpl& {
    const auto* c = seq.ptr(i)->as<torch::nn::Conv2dImpl>();
    if (!c) refuse_onnx_export(kCuganType, "'" + key + ".conv." + std::to_string(i) + "' is not a Conv2d");
    return *c;
  };
  std::string y = lrelu(g, export_conv2d(g, x, at(0), key + ".conv.0", kCuganType), key + ".conv.1");
  y = lrelu(g, export_conv2d(g, y, at(2), key + ".conv.2", kCuganType), key + ".conv.3");
  if (!u.seblock) return y;
  const std::string se = key + ".seblock";
  return channel_attention(g, y, *u.seblock->conv1, se + ".conv1", *u.seblock->conv2, se + ".conv2", kCuganType, se);
}

std::string deconv(OnnxGraph& g, const std::string& x, const torch::nn::ConvTranspose2d& c, const std::string& key) {
  return export_conv_transpose2d(g, x, *c, key, kCuganType);
}

std::string unet1(OnnxGraph& g, const std::string& x, const CuganUNet1Impl& u) {
  const std::string x1 = unet_conv(g, x, *u.conv1, "unet1.conv1");
  std::string x2 = lrelu(g, conv(g, x1, u.conv1_down, "unet1.conv1_down"), "unet1.conv1_down_act");
  x2 = lrelu(g, deconv(g, unet_conv(g, x2, *u.conv2, "unet1.conv2"), u.conv2_up, "unet1.conv2_up"), "unet1.conv2_up_act");
  const std::string skip = g.add(crop_border(g, x1, 4, "unet1.crop4"), x2, "unet1.skip");
  const std::string x3 = lrelu(g, conv(g, skip, u.conv3, "unet1.conv3"), "unet1.conv3_act");
  return deconv(g, x3, u.conv_bottom, "unet1.conv_bottom");
}

std::string unet2(OnnxGraph& g, const std::string& x, const CuganUNet2Impl& u) {
  const std::string x1 = unet_conv(g, x, *u.conv1, "unet2.conv1");
  const std::string x2 =
      unet_conv(g, lrelu(g, conv(g, x1, u.conv1_down, "unet2.conv1_down"), "unet2.conv1_down_act"), *u.conv2, "unet2.conv2");
  std::string x3 =
      unet_conv(g, lrelu(g, conv(g, x2, u.conv2_down, "unet2.conv2_down"), "unet2.conv2_down_act"), *u.conv3, "unet2.conv3");
  x3 = lrelu(g, deconv(g, x3, u.conv3_up, "unet2.conv3_up"), "unet2.conv3_up_act");
  std::string x4 = unet_conv(g, g.add(crop_border(g, x2, 4, "unet2.crop4"), x3, "unet2.skip2"), *u.conv4, "unet2.conv4");
  x4 = lrelu(g, deconv(g, x4, u.conv4_up, "unet2.conv4_up"), "unet2.conv4_up_act");
  const std::string skip1 = g.add(crop_border(g, x1, 16, "unet2.crop16"), x4, "unet2.skip1");
  const std::string x5 = lrelu(g, conv(g, skip1, u.conv5, "unet2.conv5"), "unet2.conv5_act");
  return conv(g, x5, u.conv_bottom, "unet2.conv_bottom");
}

std::string export_realcugan(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const RealCuganImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as realcugan but is not a RealCuganImpl");
  const auto& o = net->options();
  const int64_t s = o.scale;
  std::string x = lr;
  if (o.pro) {
    x = g.add(g.mul(lr, scalar_constant(g, 0.7, "pro_scale"), "pro_scaled"), scalar_constant(g, 0.15, "pro_offset"), "pro_in");
    g.mark_reproduced("pro");
  }
  const std::string x00 = x;
  // Margin and size multiple of the reference's reflect padding per variant (as RealCuganImpl::forward).
  const int64_t margin = o.fast ? 38 : (s == 2 ? 18 : (s == 3 ? 14 : 19));
  const int64_t multiple = (o.fast || s == 3) ? 4 : 2;
  x = reflect_pad_any(g, x, margin, multiple, "reflect_pad");
  if (o.fast) x = g.pixel_unshuffle(x, 2, 3, "pixel_unshuffle");
  const std::string u = unet1(g, x, *net->unet1);
  x = g.add(unet2(g, u, *net->unet2), crop_border(g, u, 20, "crop20"), "cascade");
  if (net->conv_final)
    x = g.depth_to_space(crop_border(g, conv(g, x, net->conv_final, "conv_final"), 1, "crop1"), 2, "pixel_shuffle");
  x = crop_to_scaled_input(g, x, lr, s, "crop");
  if (net->conv_final) x = g.add(x, g.resize(x00, s, OnnxResizeMode::kNearest, "nearest_up"), "plus_nearest");
  if (o.pro)
    x = g.div(g.sub(x, scalar_constant(g, 0.15, "pro_offset_out"), "pro_shifted"), scalar_constant(g, 0.7, "pro_scale_out"),
              "pro_out");
  return x;
}

}  // namespace

void register_realcugan_onnx() {
  register_onnx_exporter("realcugan", export_realcugan, {},
                         "UpCunet 2x/3x/4x/2x_fast (+pro): ConvTranspose, SE blocks as GlobalAveragePool, reflect pad "
                         "and crops from the runtime shape");
}

}  // namespace srlab::models
