// ONNX exporter of MoSR (models/arch/mosr.h), dynamic N, H, W: mirrors MosrImpl::forward() in eval mode
// (DropPath is the identity) node for node:
//   gblocks: Conv, GatedCNNBlocks, Conv, Mish, Conv, Mish, Conv (1x1); Mish as x Tanh(Softplus(x)) and the
//     blocks' channels-first LayerNorm from primitives (deploy/onnx_blocks.h, shared with RealPLKSR);
//   GatedCNNBlock: fc1, Slice of channels [0, E) (g), [E, 2E-K) (i) and [2E-K, 2E) (c), the depthwise Conv
//     of c, Mul(Mish(g), Concat(i, conv(c))) (no i and no Concat when K = E), fc2, Mish, Add(y, Sub(x, 0.5));
//   the sum Add(gblocks(x), Sub(shortcut(x), 0.5)) with shortcut = Add(Mish(block.2(Mish(block.0(x)))), conv11(x));
//   ps: Conv + DepthToSpace CRD (pixel shuffle);
//   gps: Conv in_to_k, Reshape (N, 8, 3*s*s, H, W) (H, W from Shape at run time), ReduceMean over axis 1
//     (keepdims 0), DepthToSpace CRD.
// The dys upsampler (DySample) is refused: it needs GridSample with runtime-computed sampling grids, which
// no SRLab exporter emits (as RealPLKSR's dysample: true).
#include "deploy/onnx_blocks.h"
#include "deploy/onnx_export.h"
#include "models/arch/mosr.h"

namespace srlab::models {

namespace {

const char* kMosrType = "mosr";
constexpr int64_t kGeoEnsemble = 8;  // GeoPixelShuffleImpl: the number of averaged predictions

std::string channels(OnnxGraph& g, const std::string& x, int64_t begin, int64_t end, const std::string& hint) {
  return g.slice(x, int64_vector(g, {begin}, hint + "_begin"), int64_vector(g, {end}, hint + "_end"), {1}, hint);
}

std::string gated_block(OnnxGraph& g, const std::string& x, const GatedCnnBlockImpl& b, const std::string& key) {
  const int64_t e = b.hidden, k = b.conv_channels;
  const std::string t = export_conv2d(g, channel_layer_norm(g, x, *b.norm, key + ".norm"), *b.fc1, key + ".fc1", kMosrType);
  const std::string gate = channels(g, t, 0, e, key + ".g");
  const std::string c = export_conv2d(g, channels(g, t, 2 * e - k, 2 * e, key + ".c"), *b.conv, key + ".conv", kMosrType);
  // torch::cat({i, conv(c)}, 1) with an empty i (K = E) is conv(c) itself.
  const std::string ic = e == k ? c : g.concat({channels(g, t, e, 2 * e - k, key + ".i"), c}, 1, key + ".cat");
  const std::string y = mish(g, export_conv2d(g, g.mul(mish(g, gate, key + ".g_mish"), ic, key + ".gated"), *b.fc2,
                                              key + ".fc2", kMosrType),
                             key + ".mish");
  return g.add(y, g.sub(x, scalar_constant(g, 0.5, key + ".half"), key + ".shift"), key);
}

std::string sequential(OnnxGraph& g, const std::string& x, const torch::nn::SequentialImpl& seq, const std::string& key) {
  std::string y = x;
  for (size_t i = 0; i < seq.size(); ++i) {
    const auto m = seq.ptr(i);
    const std::string k = key + "." + std::to_string(i);
    if (const auto* conv = m->as<torch::nn::Conv2dImpl>())
      y = export_conv2d(g, y, *conv, k, kMosrType);
    else if (const auto* b = m->as<GatedCnnBlockImpl>())
      y = gated_block(g, y, *b, k);
    else if (m->as<torch::nn::MishImpl>())
      y = mish(g, y, k);
    else
      refuse_onnx_export(kMosrType, "'" + k + "' is a " + m->name() + ", not a Conv2d, GatedCNNBlock or Mish");
  }
  return y;
}

std::string geo_pixel_shuffle(OnnxGraph& g, const std::string& x, const GeoPixelShuffleImpl& u) {
  const std::string k = export_conv2d(g, x, *u.in_to_k, "upsampler.in_to_k", kMosrType);
  const int64_t per = u.in_to_k->options.out_channels() / kGeoEnsemble;  // 3*s*s
  // view({N, 8, -1, H, W}): N copied (0), H and W from the runtime shape.
  const std::string hw = g.slice(g.shape(k, "upsampler.shape"), int64_vector(g, {2}, "upsampler.hw_begin"),
                                 int64_vector(g, {4}, "upsampler.hw_end"), {0}, "upsampler.hw");
  const std::string shape = g.concat({int64_vector(g, {0, kGeoEnsemble, per}, "upsampler.group_shape"), hw}, 0,
                                     "upsampler.view_shape");
  const std::string mean = g.node("ReduceMean", {g.reshape(k, shape, "upsampler.view")}, "upsampler.mean",
                                  {onnx::MakeAttribute("axes", std::vector<int64_t>{1}),
                                   onnx::MakeAttribute("keepdims", int64_t{0})});
  return g.depth_to_space(mean, u.scale, "pixel_shuffle");
}

std::string export_mosr(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const MosrImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as mosr but is not a MosrImpl");
  if (net->dys)
    refuse_onnx_export(kMosrType, "the DySample upsampler (upsampler: dys) has no exporter (it needs GridSample with "
                              "runtime-computed sampling grids); use upsampler ps or gps to export");
  const std::string body = sequential(g, lr, *net->gblocks, "gblocks");
  const auto& sc = *net->shortcut;
  const std::string short_block = sequential(g, lr, *sc.block, "shortcut.block");
  const std::string short_out =
      g.add(short_block, export_conv2d(g, lr, *sc.conv11, "shortcut.conv11", kMosrType), "shortcut");
  const std::string x = g.add(body, g.sub(short_out, scalar_constant(g, 0.5, "shortcut_half"), "shortcut_shift"), "sum");
  if (net->gps) return geo_pixel_shuffle(g, x, *net->gps);
  if (!net->ps) refuse_onnx_export(kMosrType, "no upsampler module");
  return g.depth_to_space(export_conv2d(g, x, *net->ps->ptr(0)->as<torch::nn::Conv2dImpl>(), "upsampler.0", kMosrType),
                          net->scale(), "pixel_shuffle");
}

}  // namespace

void register_mosr_onnx() {
  register_onnx_exporter("mosr", export_mosr, {},
                         "gated CNN blocks, channel LayerNorm + Mish from primitives; upsampler ps/gps (dys is refused)");
}

}  // namespace srlab::models
