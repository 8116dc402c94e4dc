// ONNX exporter of DRCT (models/arch/drct.h), dynamic N, H, W: mirrors DrctImpl::forward() and RdgImpl
// node for node, with the Swin-family emitters (deploy/onnx_swin_blocks.h).
//
// What the graph computes (C = embed_dim, M = window_size, g = gc, C_k = C + (k-1) g):
//   reflect pad at the bottom/right to multiples of M (swin_onnx_pad_to_windows), (x - mean) * img_range
//   (swin_onnx_normalize), conv_first, tokens, patch_embed.norm, the RDGs, norm, conv_after_body + skip,
//   the pixelshuffle tail (swin_onnx_tail), / img_range + mean and the crop to (s*H, s*W).
// RDG layers.<i>: for k = 1..5, swin<k> = swin_onnx_block (SwinIR's Swin layer: LayerNorm, Slice/Concat
// roll + the shifted-window mask on swin2 / swin4, window attention with its own relative position index,
// MLP) on the Concat (axis 2) of the group input and the earlier outputs (C_k channels, shapes from
// swin_onnx_shapes_with_dim), adjust<k> = 1x1 Conv on the (N, C_k, Hp, Wp) map, LeakyReLU 0.2 for k < 5,
// back to tokens; output x + 0.2 * tokens(adjust5).
// The attn_mask buffers (what LibTorch uses for img_size x img_size inputs) are not stored when they equal
// the official formula (the graph computes the mask from the runtime padded size); a modified one (as in
// weight files in the wild) is stored and selected by an If at img_size (swin_onnx_block_masks).
#include "deploy/onnx_swin_blocks.h"
#include "models/arch/drct.h"

namespace srlab::models {

namespace {

const char* kDrctType = "drct";
constexpr double kDrctDenseSlope = 0.2, kDrctResidualScale = 0.2;  // RdgImpl::forward

/// RdgImpl::forward on (N, Hp*Wp, C) tokens; `dims` holds the shapes of swin1..swin5 (C_1..C_5 channels).
std::string drct_rdg(OnnxGraph& g, const std::string& x, const RdgImpl& rdg, const std::string& key,
                     const std::vector<SwinOnnxShapes>& dims, const std::map<std::string, std::string>& masks) {
  if (rdg.swin.size() != dims.size()) refuse_onnx_export(kDrctType, key + " does not have " + std::to_string(dims.size()) + " Swin layers");
  std::vector<std::string> dense{x};
  for (size_t k = 0; k < rdg.swin.size(); ++k) {
    const std::string n = std::to_string(k + 1);
    const std::string in = dense.size() == 1 ? x : g.concat(dense, 2, key + ".dense" + n);
    const std::string y = swin_onnx_block(g, in, *rdg.swin[k], key + ".swin" + n,
                                          swin_onnx_with_block_mask(dims[k], masks, key + ".swin" + n + ".attn_mask"));
    std::string a = export_conv2d(g, swin_onnx_tokens_to_map(g, y, dims[k], key + ".swin" + n), *rdg.adjust[k], key + ".adjust" + n,
                                  kDrctType);
    if (k + 1 < rdg.swin.size()) {
      a = g.leaky_relu(a, static_cast<float>(kDrctDenseSlope), key + ".adjust" + n + ".lrelu");
      dense.push_back(swin_onnx_map_to_tokens(g, a, key + ".adjust" + n));
    } else {
      const std::string scaled = g.mul(swin_onnx_map_to_tokens(g, a, key + ".adjust" + n),
                                       scalar_constant(g, kDrctResidualScale, key + ".res_scale"), key + ".scaled");
      return g.add(scaled, x, key + ".skip");
    }
  }
  return x;
}

std::string export_drct(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const DrctImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as drct but is not a DrctImpl");
  const DrctOptions& o = net->options();
  SwinOnnxShapes s;
  std::string x = swin_onnx_pad_to_windows(g, lr, o.window_size, o.embed_dim, s);
  if (o.shift() > 0) s.mask = swin_onnx_shift_mask(g, s, o.shift());
  const auto masks = swin_onnx_block_masks(*net, g, s, o.img_size, o.shift(), kDrctType);
  std::string mean, range;
  x = swin_onnx_normalize(g, x, o.img_range, mean, range);
  const std::string first = export_conv2d(g, x, *net->conv_first, "conv_first", kDrctType);
  std::string t = swin_onnx_map_to_tokens(g, first, "embed");
  if (o.patch_norm) t = onnx_layer_norm(g, t, *net->patch_norm, "patch_embed.norm");
  std::vector<SwinOnnxShapes> dims;  // swin1..swin5 of every RDG: C + k*gc channels
  if (!net->layers.empty())
    for (const auto& layer : net->layers[0]->swin) {
      const int64_t c = layer->options().dim;
      dims.push_back(c == s.c ? s : swin_onnx_shapes_with_dim(g, s, c, "dim" + std::to_string(c)));
    }
  for (size_t i = 0; i < net->layers.size(); ++i)
    t = drct_rdg(g, t, *net->layers[i], "layers." + std::to_string(i), dims, masks);
  std::string body = swin_onnx_tokens_to_map(g, onnx_layer_norm(g, t, *net->norm, "norm"), s, "body");
  if (!o.identity_resi) body = swin_onnx_resi_conv(g, body, net->conv_after_body, "conv_after_body", kDrctType);
  const std::string f = g.add(body, first, "long_skip");
  const SwinOnnxTail tail = swin_onnx_tail_of(*net, SwinOnnxTail::Kind::kPixelShuffle, o.scale);
  return swin_onnx_denormalize_crop(g, swin_onnx_tail(g, f, tail, kDrctType), mean, range, s, o.scale);
}

}  // namespace

void register_drct_onnx() {
  register_onnx_exporter("drct", export_drct, {},
                         "residual dense groups of Swin layers (Concat + 1x1 adjust convs); reflect padding to the window "
                         "size; mask computed from the runtime size; modified stored attn_mask buffers are kept and used at img_size");
}

}  // namespace srlab::models
