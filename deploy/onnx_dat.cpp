// ONNX exporter of DAT (models/arch/dat.h; Chen et al., "Dual Aggregation Transformer for Image
// Super-Resolution", ICCV 2023), dynamic N, H, W: mirrors DatImpl::forward() in eval mode node for node.
//   input normalisation   (x - DIV2K mean) * img_range (swin_onnx_normalize)
//   conv_first            Conv; before_RG.1 = LayerNorm on the tokens (Transpose/Reshape)
//   layers.<i>            residual groups: DAT blocks (deploy/onnx_dat_blocks.h: dual spatial blocks with
//                         Mh x Mw / Mw x Mh windows, dual channel blocks, AIM, SGFN), then
//                         resi_connection (1conv / 3conv, swin_onnx_resi_conv) and the group skip
//   norm, conv_after_body LayerNorm, resi_connection, long skip to conv_first's output
//   upsampler             pixelshuffle (conv_before_upsample + LeakyReLU 0.01, Conv + DepthToSpace stages,
//                         conv_last) or pixelshuffledirect (DAT-light: upsample.0 + DepthToSpace(s)) via
//                         swin_onnx_tail; then y / img_range + mean. No image padding and no crop: DAT
//                         zero-pads q, k, v inside the spatial attention (Pad) and crops after it (Slice).
// Size-dependent values are computed from the runtime shape: the padded size Hp, Wp = ceil(H/m)*m,
// m = max(split_size) (the shape of x[:, :, ::m, ::m] times m), the window Reshapes, and the two
// shifted-window masks (branch 0: Mh x Mw windows shifted by (Mh/2, Mw/2); branch 1: Mw x Mh shifted by
// (Mw/2, Mh/2); swin_onnx_rect_shift_mask), built once per graph when some block shifts. The stored
// attn_mask_0 / attn_mask_1 buffers (the masks for img_size x img_size, which LibTorch uses at exactly that
// padded size) are checked to equal that formula at export time and are then not stored; other buffers
// (rpe_biases, relative_position_index, BatchNorm running statistics) are initializers, and the dynamic
// position bias MLP runs in the graph. BatchNorm2d uses its running statistics (eval mode).
// embed_dim < 32 (pos_dim = embed_dim/32 = 0, e.g. the embed_dim 24 zoo model): the position-bias MLP has
// zero-width layers and outputs pos3's bias for every offset; the graph expands that bias (zero-size
// MatMuls / LayerNorms break ONNX Runtime's float16 memory planner) and does not store the zero-size weights.
// Refused: attn_mask buffers that differ from the formula (a modified weight file).
#include <algorithm>

#include "deploy/onnx_dat_blocks.h"
#include "models/arch/dat.h"

namespace srlab::models {

namespace {

const char* kDatExportType = "dat";

std::string dat_top_i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

/// Refuses attn_mask_* buffers that are not the official formula for img_size (they would not be reproduced).
void dat_check_mask_buffers(const DatImpl& net, OnnxGraph& g) {
  const auto& o = net.options();
  const auto [m0, m1] = dat_shift_masks(o.img_size, o.img_size, o.split_size[0], o.split_size[1]);
  for (const auto& kv : net.named_buffers()) {
    const std::string& key = kv.key();
    const bool first = key.size() > 12 && key.compare(key.size() - 12, 12, ".attn_mask_0") == 0;
    const bool second = key.size() > 12 && key.compare(key.size() - 12, 12, ".attn_mask_1") == 0;
    if (!first && !second) continue;
    if (!torch::equal(kv.value().to(torch::kCPU, torch::kFloat32), first ? m0 : m1))
      refuse_onnx_export(kDatExportType, "buffer '" + key + "' differs from the shifted-window mask of img_size " +
                                       std::to_string(o.img_size) + " (a modified weight file?); the exported graph computes the mask");
    g.mark_reproduced(key);
  }
}

bool dat_any_shifted(const DatImpl& net) {
  for (const auto& layer : net.layers)
    for (const auto& b : layer->blocks)
      if (b->spatial && b->spatial->shifted()) return true;
  return false;
}

/// The runtime sizes: [B], [H, W], the Pad to multiples of max(Mh, Mw), the window shapes and masks.
DatOnnxShapes dat_runtime_shapes(OnnxGraph& g, const std::string& lr, const DatImpl& net) {
  const auto& o = net.options();
  const int64_t mh = o.split_size[0], mw = o.split_size[1], m = std::max(mh, mw), half = o.embed_dim / 2;
  DatOnnxShapes s;
  s.c = o.embed_dim;
  const std::string shape = g.shape(lr, "input_shape");
  s.n = g.slice(shape, dat_top_i64(g, {0}, "n_from"), dat_top_i64(g, {1}, "n_to"), {0}, "batch");
  s.hw = g.slice(shape, dat_top_i64(g, {2}, "hw_from"), dat_top_i64(g, {4}, "hw_to"), {0}, "input_hw");
  const std::string strided = g.slice(lr, dat_top_i64(g, {0, 0}, "stride_starts"), dat_top_i64(g, {kOnnxSliceEnd, kOnnxSliceEnd}, "stride_ends"),
                                      {2, 3}, "stride_m", {m, m});
  const std::string blocks = g.slice(g.shape(strided, "strided_shape"), dat_top_i64(g, {2}, "blocks_from"), dat_top_i64(g, {4}, "blocks_to"), {0},
                                     "blocks_hw");  // [ceil(H/m), ceil(W/m)]
  const std::string padded_hw = g.mul(blocks, dat_top_i64(g, {m, m}, "split_max"), "padded_hw");
  s.pads = g.concat({dat_top_i64(g, {0, 0, 0, 0, 0}, "pads_begin"), g.sub(padded_hw, s.hw, "pad_hw"), dat_top_i64(g, {0}, "pads_c")}, 0, "pads");
  s.win[0] = swin_onnx_rect_windows(g, padded_hw, mh, mw, half, "win0");
  s.win[1] = swin_onnx_rect_windows(g, padded_hw, mw, mh, half, "win1");
  if (dat_any_shifted(net)) {
    s.mask[0] = swin_onnx_rect_shift_mask(g, padded_hw, mh, mw, mh / 2, mw / 2, "mask0");
    s.mask[1] = swin_onnx_rect_shift_mask(g, padded_hw, mw, mh, mw / 2, mh / 2, "mask1");
  }
  return s;
}

SwinOnnxTail dat_tail_of(const DatImpl& net) {
  SwinOnnxTail tail;
  tail.scale = net.options().scale;
  tail.kind = net.options().direct_upsampler ? SwinOnnxTail::Kind::kPixelShuffleDirect : SwinOnnxTail::Kind::kPixelShuffle;
  if (!net.conv_before_upsample.is_empty()) tail.conv_before_upsample = net.conv_before_upsample.get();
  for (const auto& u : net.upsample) tail.upsample.push_back(u.get());
  if (!net.conv_last.is_empty()) tail.conv_last = net.conv_last.get();
  return tail;
}

std::string export_dat(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const DatImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as dat but is not a DatImpl");
  const DatOptions& o = net->options();
  dat_check_mask_buffers(*net, g);
  const DatOnnxShapes s = dat_runtime_shapes(g, lr, *net);
  std::string mean, range;
  const std::string first = export_conv2d(g, swin_onnx_normalize(g, lr, o.img_range, mean, range), *net->conv_first, "conv_first",
                                          kDatExportType);
  std::string t = onnx_layer_norm(g, swin_onnx_map_to_tokens(g, first, "embed"), *net->before_rg, "before_RG.1");
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const std::string key = "layers." + std::to_string(i);
    const auto& layer = *net->layers[i];
    std::string h = t;
    for (size_t j = 0; j < layer.blocks.size(); ++j) h = dat_onnx_block(g, h, *layer.blocks[j], key + ".blocks." + std::to_string(j), s);
    const std::string conv = swin_onnx_resi_conv(g, dat_onnx_to_map(g, h, s, o.embed_dim, key), layer.conv, key + ".conv", kDatExportType);
    t = g.add(t, swin_onnx_map_to_tokens(g, conv, key), key + ".skip");
  }
  t = onnx_layer_norm(g, t, *net->norm, "norm");
  const std::string deep = g.add(swin_onnx_resi_conv(g, dat_onnx_to_map(g, t, s, o.embed_dim, "body"), net->conv_after_body,
                                                     "conv_after_body", kDatExportType),
                                 first, "long_skip");
  const std::string y = swin_onnx_tail(g, deep, dat_tail_of(*net), kDatExportType);
  return g.add(g.div(y, range, "unscaled"), mean, "uncentered");
}

}  // namespace

void register_dat_onnx() {
  register_onnx_exporter("dat", export_dat, dat_onnx_folded_parameter,
                         "rectangular-window spatial + channel attention with AIM and SGFN; masks, padding from the runtime size");
}

}  // namespace srlab::models
