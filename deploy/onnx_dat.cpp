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
// (Mw/2, Mh/2); swin_onnx_rect_shift_mask), built once per graph when some block shifts. LibTorch uses a
// shifted block's stored attn_mask_0 / attn_mask_1 buffers instead when the padded size is img_size x
// img_size: a buffer equal to the formula is not stored (marked reproduced); one that differs (a modified
// or perturbed weight file) is stored and an If node picks it at exactly that size, the computed mask
// otherwise. Other buffers (rpe_biases, relative_position_index, BatchNorm running statistics) are
// initializers, and the dynamic position bias MLP runs in the graph. BatchNorm2d uses its running
// statistics (eval mode; num_batches_tracked is not read).
// embed_dim < 32 (pos_dim = embed_dim/32 = 0, e.g. the embed_dim 24 zoo model): the position-bias MLP has
// zero-width layers and outputs pos3's bias for every offset; the graph expands that bias (zero-size
// MatMuls / LayerNorms break ONNX Runtime's float16 memory planner) and does not store the zero-size weights.
// Nothing is refused: every DAT configuration SRLab builds exports exactly.
#include <algorithm>

#include "deploy/onnx_dat_blocks.h"
#include "models/arch/dat.h"

namespace srlab::models {

namespace {

const char* kDatExportType = "dat";

std::string dat_top_i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

bool dat_any_shifted(const DatImpl& net) {
  for (const auto& layer : net.layers)
    for (const auto& b : layer->blocks)
      if (b->spatial && b->spatial->shifted()) return true;
  return false;
}

/// Fills s.block_masks. A stored attn_mask_* buffer equal to the formula for img_size is reproduced (the
/// computed mask, not stored); one that differs (a modified weight file) is stored and selected by an If
/// where LibTorch uses it: when the padded size is img_size x img_size.
void dat_block_masks(const DatImpl& net, OnnxGraph& g, const std::string& padded_hw, DatOnnxShapes& s) {
  const auto& o = net.options();
  const auto [m0, m1] = dat_shift_masks(o.img_size, o.img_size, o.split_size[0], o.split_size[1]);
  for (size_t i = 0; i < net.layers.size(); ++i)
    for (size_t j = 0; j < net.layers[i]->blocks.size(); ++j) {
      const auto& b = net.layers[i]->blocks[j];
      if (!b->spatial || !b->spatial->shifted()) continue;
      const std::string key = "layers." + std::to_string(i) + ".blocks." + std::to_string(j) + ".attn";
      const torch::Tensor stored[2] = {b->spatial->attn_mask_0, b->spatial->attn_mask_1};
      for (int k = 0; k < 2; ++k) {
        const std::string buffer = key + ".attn_mask_" + std::to_string(k);
        if (torch::equal(stored[k].to(torch::kCPU, torch::kFloat32), k == 0 ? m0 : m1)) {
          g.mark_reproduced(buffer);
          s.block_masks[key][k] = s.mask[k];
          continue;
        }
        s.block_masks[key][k] =
            onnx_select_at_size(g, padded_hw, o.img_size, o.img_size, g.initializer(buffer, stored[k]), s.mask[k], buffer);
      }
    }
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
  const std::string any_batch = dat_top_i64(g, {-1}, "any_batch");  // q, k, v are stacked as 3B
  s.win[0] = swin_onnx_rect_shapes(g, any_batch, padded_hw, mh, mw, "win0");
  s.win[1] = swin_onnx_rect_shapes(g, any_batch, padded_hw, mw, mh, "win1");
  s.win_channels = half;
  if (dat_any_shifted(net)) {
    s.mask[0] = swin_onnx_rect_shift_mask(g, s.win[0], mh / 2, mw / 2, "mask0");
    s.mask[1] = swin_onnx_rect_shift_mask(g, s.win[1], mw / 2, mh / 2, "mask1");
    dat_block_masks(net, g, padded_hw, s);
  }
  return s;
}

SwinOnnxTail dat_tail_of(const DatImpl& net) {
  return swin_onnx_tail_of(net, net.options().direct_upsampler ? SwinOnnxTail::Kind::kPixelShuffleDirect
                                                                : SwinOnnxTail::Kind::kPixelShuffle,
                           net.options().scale);
}

std::string export_dat(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const DatImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as dat but is not a DatImpl");
  const DatOptions& o = net->options();
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
