// ONNX exporter of HAT (models/arch/hat.h), dynamic N, H, W: mirrors HatImpl::forward() and the blocks of
// models/arch/hat_blocks.cpp node for node, with the Swin-family emitters (deploy/onnx_swin_blocks.h).
//
// What the graph computes (C = embed_dim, M = window_size, Mo = the OCAB's key window, p = (Mo - M) / 2):
//   (x - mean) * img_range, reflect pad at the bottom/right to multiples of M (swin_onnx_normalize,
//   swin_onnx_pad_to_windows; the shifted-window mask from the runtime padded size, swin_onnx_shift_mask,
//   when img_size > M), conv_first, tokens, patch_embed.norm, the RHAGs, norm, conv_after_body + skip,
//   the pixelshuffle tail (swin_onnx_tail), / img_range + mean and the crop to (s*H, s*W).
// Per module:
//   HAB   LayerNorm (ReduceMean/Sub/Mul/Sqrt/Div); CAB on the (N,C,Hp,Wp) map: Conv, GELU (Erf form), Conv,
//         channel attention (GlobalAveragePool, Conv, Relu, Conv, Sigmoid, Mul; onnx_blocks.h); window
//         attention (Slice/Concat roll for shifted blocks, Reshape/Transpose partition, MatMul/Softmax with
//         the bias Gather-ed from the block's table by the shared relative_position_index_SA initializer,
//         the mask on shifted blocks); x + attention + conv_scale * CAB, then + MLP(LayerNorm).
//   OCAB  LayerNorm, qkv MatMul; q = Slice of the first C channels, partitioned into MxM windows; k, v =
//         the other 2C channels as a channels-last map, zero Pad by p, the Mo x Mo windows at stride M
//         (F.unfold) as two Gathers of runtime-computed row/column indices (i*M + r, r < Mo) + Transpose +
//         Reshape; attention with the bias Gather-ed by relative_position_index_OCA (negative entries index
//         from the end, as in Python); window reverse, proj, + x, then + MLP(LayerNorm).
//   RHAG  x + tokens(conv(map(OCAB(HAB_d(...HAB_1(x)))))) (identity resi_connection: without the conv).
// Initializers are the state-dict keys, the two relative position index buffers included (stored once,
// shared by every HAB / OCAB). Refused: index buffers with entries outside [-R, R) of their bias tables
// (torch wraps them modulo R, ONNX Gather rejects them).
#include "deploy/onnx_swin_blocks.h"
#include "models/arch/hat.h"

#include <cmath>

namespace srlab::models {

namespace {

const char* kHatType = "hat";

/// The index buffer `key` as an initializer, refused when an entry is outside [-rows, rows) of the bias tables.
std::string hat_index(OnnxGraph& g, const torch::Tensor& index, const std::string& key, int64_t rows) {
  const auto lo = index.min().item<int64_t>(), hi = index.max().item<int64_t>();
  if (lo < -rows || hi >= rows)
    refuse_onnx_export(kHatType, "buffer '" + key + "' has entries in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                     "], outside the " + std::to_string(rows) + " rows of its bias tables (a modified weight file?)");
  return g.initializer(key, index);
}

/// conv_block.cab: Conv, GELU, Conv, channel attention on the (N,C,Hp,Wp) map of the normed tokens.
std::string hat_cab(OnnxGraph& g, const std::string& map, const HabImpl& b, const std::string& key) {
  const std::string k = key + ".conv_block.cab";
  std::string y = export_conv2d(g, map, *b.cab->ptr<torch::nn::Conv2dImpl>(0), k + ".0", kHatType);
  y = export_conv2d(g, gelu(g, y, k + ".1"), *b.cab->ptr<torch::nn::Conv2dImpl>(2), k + ".2", kHatType);
  const auto ca = b.cab->ptr<HatChannelAttentionImpl>(3);
  return channel_attention(g, y, *ca->attention->ptr<torch::nn::Conv2dImpl>(1), k + ".3.attention.1",
                           *ca->attention->ptr<torch::nn::Conv2dImpl>(3), k + ".3.attention.3", kHatType, k + ".3");
}

/// HabImpl::forward on (N, Hp*Wp, C) tokens.
std::string hat_hab(OnnxGraph& g, const std::string& t, const HabImpl& b, const std::string& key, const SwinOnnxShapes& s,
                    const std::string& rpi_sa) {
  const int64_t shift = b.options().shift;
  const std::string h = onnx_layer_norm(g, t, *b.norm1, key + ".norm1");
  const std::string conv_x = swin_onnx_map_to_tokens(g, hat_cab(g, swin_onnx_tokens_to_map(g, h, s, key + ".cab_in"), b, key),
                                                     key + ".cab_out");
  std::string a = shift > 0 ? swin_onnx_roll(g, g.reshape(h, s.map4, key + ".map"), -shift, key + ".shift") : h;
  const std::string bias = swin_onnx_table_bias(
      g, g.initializer(key + ".attn.relative_position_bias_table", b.attn->relative_position_bias_table), rpi_sa, key + ".attn");
  a = swin_onnx_window_attention_biased(g, swin_onnx_partition(g, a, s, key), *b.attn, bias, key + ".attn", s, shift > 0);
  a = swin_onnx_reverse(g, a, s, key);
  if (shift > 0) a = swin_onnx_roll(g, a, shift, key + ".unshift");
  const std::string tokens = g.reshape(a, int64_vector(g, {0, -1, s.c}, key + ".tok_shape"), key + ".tokens");
  const std::string y = g.add(g.add(t, tokens, key + ".res_attn"),
                              g.mul(conv_x, scalar_constant(g, b.options().conv_scale, key + ".conv_scale"), key + ".cab_scaled"),
                              key + ".res1");
  return g.add(y, swin_onnx_mlp(g, onnx_layer_norm(g, y, *b.norm2, key + ".norm2"), b.mlp, key + ".mlp"), key + ".res2");
}

/// F.unfold(kv map, Mo, stride M, padding p) as (N*nW, Mo^2, 2C) windows of the channels-last (N, Hp, Wp, 2C) `kv`.
std::string hat_overlapping_windows(OnnxGraph& g, const std::string& kv, const SwinOnnxShapes& s, int64_t mo,
                                    const std::string& key) {
  const int64_t p = (mo - s.m) / 2;
  const std::string padded = g.pad(kv, int64_vector(g, {0, p, p, 0, 0, p, p, 0}, key + ".unfold_pads"), "constant", key + ".unfold_pad");
  const auto starts = [&](int64_t axis, const std::string& name) {  // (blocks, Mo): i*M + r
    const std::string k = key + ".unfold_" + name;
    const std::string nb = g.node("Squeeze", {g.slice(s.blocks, int64_vector(g, {axis}, k + "_from"), int64_vector(g, {axis + 1}, k + "_to"),
                                                      {0}, k + "_blocks1"),
                                              int64_vector(g, {0}, k + "_sq")},
                                  k + "_blocks");
    const std::string r = g.node("Range", {g.constant(torch::tensor(int64_t{0}), k + "_start"), nb,
                                           g.constant(torch::tensor(int64_t{1}), k + "_step")}, k + "_range");
    const std::string first = onnx_unsqueeze(g, g.mul(r, g.constant(torch::tensor(s.m), k + "_stride"), k + "_first0"), 1, k + "_first");
    return g.add(first, g.constant(torch::arange(mo, torch::kInt64).view({1, mo}), k + "_offsets"), k + "_index");
  };
  const auto gather = [&](const std::string& x, const std::string& idx, int64_t axis, const std::string& name) {
    return g.node("Gather", {x, idx}, key + ".unfold_" + name, {onnx::MakeAttribute("axis", axis)});
  };
  const std::string rows = gather(padded, starts(0, "rows"), 1, "gather_rows");     // (N, hb, Mo, Wp+2p, 2C)
  const std::string both = gather(rows, starts(1, "cols"), 3, "gather_cols");       // (N, hb, Mo, wb, Mo, 2C)
  return g.reshape(g.transpose(both, {0, 1, 3, 2, 4, 5}, key + ".unfold_t"), int64_vector(g, {-1, mo * mo, 2 * s.c}, key + ".unfold_shape"),
                   key + ".kv_windows");
}

/// OcabImpl::forward on (N, Hp*Wp, C) tokens.
std::string hat_ocab(OnnxGraph& g, const std::string& t, const OcabImpl& o, const std::string& key, const SwinOnnxShapes& s,
                     const std::string& rpi_oca) {
  const int64_t c = s.c, heads = o.num_heads, d = c / heads, mo = o.overlap_window, nq = s.m * s.m, nk = mo * mo;
  const std::string qkv = onnx_linear(g, onnx_layer_norm(g, t, *o.norm1, key + ".norm1"), *o.qkv, key + ".qkv");
  const auto channels = [&](const std::string& x, int64_t from, int64_t to, const std::string& name) {
    return g.slice(x, int64_vector(g, {from}, key + "." + name + "_from"), int64_vector(g, {to}, key + "." + name + "_to"), {-1},
                   key + "." + name);
  };
  const std::string q = swin_onnx_partition(g, channels(qkv, 0, c, "q_tokens"), s, key + ".q");
  const std::string kv_map = g.reshape(channels(qkv, c, 3 * c, "kv_tokens"),
                                       g.concat({s.n, s.padded_hw, int64_vector(g, {2 * c}, key + ".kv_c")}, 0, key + ".kv_map_shape"),
                                       key + ".kv_map");
  const std::string kv = hat_overlapping_windows(g, kv_map, s, mo, key);
  const auto split_heads = [&](const std::string& x, int64_t n, const std::string& name) {
    return g.transpose(g.reshape(x, int64_vector(g, {-1, n, heads, d}, key + "." + name + "_shape"), key + "." + name + "_split"),
                       {0, 2, 1, 3}, key + "." + name + "_heads");
  };
  const std::string bias = swin_onnx_table_bias(
      g, g.initializer(key + ".relative_position_bias_table", o.relative_position_bias_table), rpi_oca, key);
  const std::string out = swin_onnx_attention_core(
      g, split_heads(q, nq, "q"), split_heads(channels(kv, 0, c, "k"), nk, "k"), split_heads(channels(kv, c, 2 * c, "v"), nk, "v"),
      std::pow(static_cast<double>(d), -0.5), bias, s, false, heads, nq, nk, c, key + ".attn");
  const std::string tokens =
      g.reshape(swin_onnx_reverse(g, out, s, key), int64_vector(g, {0, -1, c}, key + ".tok_shape"), key + ".tokens");
  const std::string y = g.add(onnx_linear(g, tokens, *o.proj, key + ".proj"), t, key + ".res1");
  return g.add(y, swin_onnx_mlp(g, onnx_layer_norm(g, y, *o.norm2, key + ".norm2"), o.mlp, key + ".mlp"), key + ".res2");
}

std::string export_hat(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const HatImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as hat but is not a HatImpl");
  const HatOptions& o = net->options();
  const int64_t m = o.window_size, mo = o.overlap_window();
  const std::string rpi_sa = hat_index(g, net->relative_position_index_SA, "relative_position_index_SA", (2 * m - 1) * (2 * m - 1));
  const std::string rpi_oca =
      hat_index(g, net->relative_position_index_OCA, "relative_position_index_OCA", (m + mo - 1) * (m + mo - 1));
  std::string mean, range;
  SwinOnnxShapes s;
  std::string x = swin_onnx_normalize(g, lr, o.img_range, mean, range);
  x = swin_onnx_pad_to_windows(g, x, m, o.embed_dim, s);
  if (o.shift() > 0) s.mask = swin_onnx_shift_mask(g, s, o.shift());
  const std::string first = export_conv2d(g, x, *net->conv_first, "conv_first", kHatType);
  std::string t = swin_onnx_map_to_tokens(g, first, "embed");
  if (o.patch_norm) t = onnx_layer_norm(g, t, *net->patch_norm, "patch_embed.norm");
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const std::string key = "layers." + std::to_string(i);
    const auto& layer = *net->layers[i];
    std::string h = t;
    for (size_t j = 0; j < layer.blocks.size(); ++j)
      h = hat_hab(g, h, *layer.blocks[j], key + ".residual_group.blocks." + std::to_string(j), s, rpi_sa);
    h = hat_ocab(g, h, *layer.overlap_attn, key + ".residual_group.overlap_attn", s, rpi_oca);
    if (!layer.conv.first.is_empty())
      h = swin_onnx_map_to_tokens(g, swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, h, s, key), layer.conv, key + ".conv", kHatType),
                                  key);
    t = g.add(h, t, key + ".skip");
  }
  std::string body = swin_onnx_tokens_to_map(g, onnx_layer_norm(g, t, *net->norm, "norm"), s, "body");
  if (!o.identity_resi) body = swin_onnx_resi_conv(g, body, net->conv_after_body, "conv_after_body", kHatType);
  const std::string f = g.add(body, first, "long_skip");
  const SwinOnnxTail tail = swin_onnx_tail_of(*net, SwinOnnxTail::Kind::kPixelShuffle, o.scale);
  return swin_onnx_denormalize_crop(g, swin_onnx_tail(g, f, tail, kHatType), mean, range, s, o.scale);
}

}  // namespace

void register_hat_onnx() {
  register_onnx_exporter("hat", export_hat, {},
                         "hybrid attention (window attention + channel-attention conv) and overlapping cross-attention "
                         "(unfold as Gathers); reflect padding to the window size, shift mask from the runtime size");
}

}  // namespace srlab::models
