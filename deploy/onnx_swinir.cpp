// ONNX exporter of SwinIR (models/arch/swinir.h), dynamic N, H, W: mirrors SwinIrImpl::forward() and the
// blocks of models/arch/swinir_blocks.h node for node, with the emitters shared by the Swin-family
// exporters (deploy/onnx_swin_blocks.h: reflect padding to window multiples, window partition, the
// shifted-window mask computed from the runtime size, LayerNorm/GELU/Linear from primitives). The
// attn_mask buffers (what LibTorch uses for img_size x img_size inputs) are not stored when they equal the
// official formula; a modified one is stored and selected by an If at that size (swin_onnx_block_masks).
#include "deploy/onnx_swin_blocks.h"
#include "models/arch/swinir.h"

namespace srlab::models {

namespace {

const char* kSwinIrType = "swinir";

std::string export_swinir(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const SwinIrImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as swinir but is not a SwinIrImpl");
  const SwinIrOptions& o = net->options();
  SwinOnnxShapes s;
  std::string x = swin_onnx_pad_to_windows(g, lr, o.window_size, o.embed_dim, s);
  if (net->block_shift() > 0) s.mask = swin_onnx_shift_mask(g, s, net->block_shift());
  const auto masks = swin_onnx_block_masks(*net, g, s, o.img_size, net->block_shift(), kSwinIrType);
  std::string mean, range;
  x = swin_onnx_normalize(g, x, o.img_range, mean, range);
  const std::string first = export_conv2d(g, x, *net->conv_first, "conv_first", kSwinIrType);
  std::string t = swin_onnx_map_to_tokens(g, first, "embed");
  if (o.patch_norm) t = onnx_layer_norm(g, t, *net->patch_norm, "patch_embed.norm");
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const std::string key = "layers." + std::to_string(i);
    const auto& layer = *net->layers[i];
    std::string h = t;
    for (size_t j = 0; j < layer.blocks.size(); ++j) {
      const std::string block = key + ".residual_group.blocks." + std::to_string(j);
      h = swin_onnx_block(g, h, *layer.blocks[j], block, swin_onnx_with_block_mask(s, masks, block + ".attn_mask"));
    }
    const std::string conv = swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, h, s, key), layer.conv, key + ".conv", kSwinIrType);
    t = g.add(swin_onnx_map_to_tokens(g, conv, key), t, key + ".skip");
  }
  t = onnx_layer_norm(g, t, *net->norm, "norm");
  const std::string f = g.add(swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, t, s, "body"), net->conv_after_body,
                                                  "conv_after_body", kSwinIrType),
                              first, "long_skip");
  const SwinOnnxTail tail = swin_onnx_tail_of(
      *net,
      o.upsampler == SwinIrUpsampler::kPixelShuffleDirect ? SwinOnnxTail::Kind::kPixelShuffleDirect
      : o.upsampler == SwinIrUpsampler::kPixelShuffle     ? SwinOnnxTail::Kind::kPixelShuffle
                                                          : SwinOnnxTail::Kind::kNearestConv,
      o.scale);
  return swin_onnx_denormalize_crop(g, swin_onnx_tail(g, f, tail, kSwinIrType), mean, range, s, o.scale);
}

}  // namespace

void register_swinir_onnx() { register_onnx_exporter("swinir", export_swinir, {}, "shifted-window attention, reflect padding to the window size; modified stored attn_mask buffers kept and used at img_size"); }

}  // namespace srlab::models
