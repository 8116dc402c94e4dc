// ONNX emitters of DAT's blocks (deploy/onnx_dat_blocks.h).
#include "deploy/onnx_dat_blocks.h"

#include <cmath>

namespace srlab::models {

namespace {

const char* kDatBlockType = "dat";

std::string dat_i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

/// Module `i` of `seq` as a T (Sequential::at<T> needs the exact stored type).
template <typename T>
const T& dat_module_at(const torch::nn::Sequential& seq, size_t i) {
  const T* m = seq->ptr(i)->as<T>();
  if (!m) refuse_onnx_export(kDatBlockType, "unexpected module " + std::to_string(i) + " in a Sequential");
  return *m;
}

std::string dat_take(OnnxGraph& g, const std::string& x, int64_t i, const std::string& hint) {
  return g.node("Gather", {x, g.constant(torch::tensor(i, torch::kInt64), hint + "_index")}, hint,
                {onnx::MakeAttribute("axis", int64_t{0})});
}

std::string dat_slice_axis(OnnxGraph& g, const std::string& x, int64_t from, int64_t to, int64_t axis, const std::string& hint) {
  return g.slice(x, dat_i64(g, {from}, hint + "_from"), dat_i64(g, {to}, hint + "_to"), {axis}, hint);
}

/// DatPosLinear (torch::nn::functional::linear; in or out may be 0).
std::string dat_pos_linear(OnnxGraph& g, const std::string& x, const DatPosLinearImpl& l, const std::string& key) {
  const std::string wt = g.transpose(g.initializer(key + ".weight", l.weight), {1, 0}, key + ".weight_t");
  return g.add(g.node("MatMul", {x, wt}, key + ".matmul"), g.initializer(key + ".bias", l.bias), key);
}

/// The position bias for pos_dim 0 (embed_dim < 32): pos_proj, pos1, pos2 map to zero-width features and
/// pos3's Linear has no inputs, so the MLP yields pos3's bias for every offset (LibTorch's empty MatMul
/// gives zeros). Emitted as that bias expanded to (R, heads), R = rows of rpe_biases, gathered as usual;
/// the zero-size parameters hold no values and are not stored (dat_onnx_folded_parameter).
std::string dat_zero_width_bias(OnnxGraph& g, const DatWindowBranchImpl& br, const std::string& index, const std::string& key) {
  const auto& pos3 = dat_module_at<DatPosLinearImpl>(br.pos->pos3, 2);
  const std::string rows = g.slice(g.shape(g.initializer(key + ".rpe_biases", br.rpe_biases), key + ".rpe_shape"),
                                   dat_i64(g, {0}, key + ".rows_from"), dat_i64(g, {1}, key + ".rows_to"), {0}, key + ".rows");
  const std::string table_shape = g.concat({rows, dat_i64(g, {pos3.bias.size(0)}, key + ".heads")}, 0, key + ".table_shape");
  const std::string table = g.node("Expand", {g.initializer(key + ".pos.pos3.2.bias", pos3.bias), table_shape}, key + ".pos.table");
  return g.transpose(g.node("Gather", {table, index}, key + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}), {2, 0, 1},
                     key + ".bias");
}

/// DatDynamicPosBias on the rpe_biases buffer, gathered by relative_position_index: (heads, N, N).
std::string dat_position_bias(OnnxGraph& g, const DatWindowBranchImpl& br, const std::string& key) {
  const auto& pos = *br.pos;
  const std::string index = g.initializer(key + ".relative_position_index", br.relative_position_index);
  if (pos.pos_proj->weight.size(0) == 0) return dat_zero_width_bias(g, br, index, key);
  std::string t = dat_pos_linear(g, g.initializer(key + ".rpe_biases", br.rpe_biases), *pos.pos_proj, key + ".pos.pos_proj");
  const torch::nn::Sequential stages[3] = {pos.pos1, pos.pos2, pos.pos3};
  for (int k = 0; k < 3; ++k) {
    const std::string sk = key + ".pos.pos" + std::to_string(k + 1);
    t = onnx_layer_norm(g, t, dat_module_at<torch::nn::LayerNormImpl>(stages[k], 0), sk + ".0");
    t = dat_pos_linear(g, g.relu(t, sk + ".1"), dat_module_at<DatPosLinearImpl>(stages[k], 2), sk + ".2");
  }
  return g.transpose(g.node("Gather", {t, index}, key + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}), {2, 0, 1},
                     key + ".bias");
}

std::string dat_conv(OnnxGraph& g, const std::string& x, const torch::nn::Sequential& seq, size_t i, const std::string& key) {
  return export_conv2d(g, x, dat_module_at<torch::nn::Conv2dImpl>(seq, i), key + "." + std::to_string(i), kDatBlockType);
}

std::string dat_batch_norm(OnnxGraph& g, const std::string& x, const torch::nn::Sequential& seq, size_t i, const std::string& key) {
  return onnx_batch_norm2d(g, x, dat_module_at<torch::nn::BatchNorm2dImpl>(seq, i), key + "." + std::to_string(i), kDatBlockType);
}

/// AIM's dwconv branch: Conv2d (depth-wise), BatchNorm2d, GELU on the (B, C, H, W) map.
std::string dat_dwconv(OnnxGraph& g, const std::string& map, const DatInteraction& aim, const std::string& key) {
  const std::string k = key + ".dwconv";
  return gelu(g, dat_batch_norm(g, dat_conv(g, map, aim.dwconv, 0, k), aim.dwconv, 1, k), k + ".2");
}

/// AIM's channel interaction: AdaptiveAvgPool2d(1), Conv2d, BatchNorm2d, GELU, Conv2d -> (B, C, 1, 1).
std::string dat_channel_interaction(OnnxGraph& g, const std::string& map, const DatInteraction& aim, const std::string& key) {
  const std::string k = key + ".channel_interaction";
  const std::string pooled = g.node("GlobalAveragePool", {map}, k + ".0");
  const std::string y = gelu(g, dat_batch_norm(g, dat_conv(g, pooled, aim.channel_interaction, 1, k), aim.channel_interaction, 2, k), k + ".3");
  return dat_conv(g, y, aim.channel_interaction, 4, k);
}

/// AIM's spatial interaction: Conv2d, BatchNorm2d, GELU, Conv2d -> (B, 1, H, W).
std::string dat_spatial_interaction(OnnxGraph& g, const std::string& map, const DatInteraction& aim, const std::string& key) {
  const std::string k = key + ".spatial_interaction";
  const std::string y = gelu(g, dat_batch_norm(g, dat_conv(g, map, aim.spatial_interaction, 0, k), aim.spatial_interaction, 1, k), k + ".2");
  return dat_conv(g, y, aim.spatial_interaction, 3, k);
}

/// DatWindowBranchImpl::forward on the (3B, Hp, Wp, c) q, k, v map -> (B, Hp, Wp, c).
std::string dat_window_branch(OnnxGraph& g, const std::string& qkv_map, const DatWindowBranchImpl& br, const SwinOnnxRectShapes& w,
                          const DatOnnxShapes& s, const std::string& mask, const std::string& key) {
  const int64_t n = br.window_h * br.window_w, heads = br.num_heads, c = s.win_channels, hd = c / heads;
  const std::string windows = swin_onnx_rect_partition(g, qkv_map, w, c, key);  // (3B*nW, N, c)
  const std::string qkv = g.transpose(g.reshape(windows, dat_i64(g, {3, -1, n, heads, hd}, key + ".qkv_shape"), key + ".qkv_split"),
                                      {0, 1, 3, 2, 4}, key + ".qkv_heads");  // (3, B*nW, heads, N, hd)
  SwinOnnxShapes core;
  core.n = s.n;
  core.mask = mask;
  const std::string y = swin_onnx_attention_core(g, dat_take(g, qkv, 0, key + ".q"), dat_take(g, qkv, 1, key + ".k"), dat_take(g, qkv, 2, key + ".v"),
                                                 std::pow(static_cast<double>(hd), -0.5), dat_position_bias(g, br, key), core,
                                                 !mask.empty(), heads, n, n, c, key);
  return swin_onnx_rect_reverse(g, y, w, c, key);
}

/// DatSpatialAttentionImpl::forward (eval) on (B, H*W, C) tokens.
std::string dat_spatial_attention(OnnxGraph& g, const std::string& x, const DatSpatialAttentionImpl& a, const std::string& key,
                              const DatOnnxShapes& s) {
  const int64_t c = s.c, half = c / 2;
  const std::string qkv = g.transpose(g.reshape(onnx_linear(g, x, *a.qkv, key + ".qkv"), dat_i64(g, {0, -1, 3, c}, key + ".qkv_shape"),
                                                key + ".qkv_split"),
                                      {2, 0, 1, 3}, key + ".qkv_t");  // (3, B, L, C)
  const std::string v = dat_onnx_to_map(g, dat_take(g, qkv, 2, key + ".v"), s, c, key + ".v");
  const std::string grid = g.reshape(qkv, g.concat({dat_i64(g, {-1}, key + ".grid_lead"), s.hw, dat_i64(g, {c}, key + ".grid_c")}, 0,
                                                   key + ".grid_shape"), key + ".grid");  // (3B, H, W, C)
  const std::string padded = g.pad(grid, s.pads, "constant", key + ".pad");
  const int64_t sh = a.attns[0]->window_h, sw = a.attns[0]->window_w;
  const int64_t shifts[2][2] = {{sh / 2, sw / 2}, {sw / 2, sh / 2}};
  std::vector<std::string> halves;
  for (int b = 0; b < 2; ++b) {
    const std::string bk = key + ".attns." + std::to_string(b);
    std::string part = dat_slice_axis(g, padded, b * half, (b + 1) * half, 3, bk + ".in");
    if (a.shifted()) part = swin_onnx_rect_roll(g, part, -shifts[b][0], -shifts[b][1], bk + ".shift");
    std::string out = dat_window_branch(g, part, *a.attns[b], s.win[b], s, a.shifted() ? s.block_masks.at(key)[b] : "", bk);
    if (a.shifted()) out = swin_onnx_rect_roll(g, out, shifts[b][0], shifts[b][1], bk + ".unshift");
    const std::string crop = g.slice(out, dat_i64(g, {0, 0}, bk + ".crop_from"), s.hw, {1, 2}, bk + ".crop");
    halves.push_back(g.reshape(crop, dat_i64(g, {0, -1, half}, bk + ".tok_shape"), bk + ".tokens"));
  }
  const std::string attended = g.concat(halves, 2, key + ".attended");  // (B, L, C)
  std::string conv_x = dat_dwconv(g, v, a.aim, key);
  const std::string channel_map = g.reshape(g.transpose(dat_channel_interaction(g, conv_x, a.aim, key), {0, 2, 3, 1}, key + ".cmap_t"),
                                            dat_i64(g, {0, 1, c}, key + ".cmap_shape"), key + ".channel_map");
  const std::string spatial_map = dat_spatial_interaction(g, dat_onnx_to_map(g, attended, s, c, key + ".attended"), a.aim, key);
  conv_x = g.mul(g.sigmoid(spatial_map, key + ".spatial_gate"), conv_x, key + ".conv_gated");
  const std::string mixed = g.add(g.mul(attended, g.sigmoid(channel_map, key + ".channel_gate"), key + ".attn_gated"),
                                  swin_onnx_map_to_tokens(g, conv_x, key + ".conv"), key + ".mixed");
  return onnx_linear(g, mixed, *a.proj, key + ".proj");
}

/// F::normalize(x, dim -1): x / max(||x||_2, 1e-12).
std::string dat_l2_normalize(OnnxGraph& g, const std::string& x, const std::string& key) {
  const std::string norm = g.node("ReduceL2", {x}, key + "_norm", {onnx::MakeAttribute("axes", std::vector<int64_t>{-1}),
                                                                     onnx::MakeAttribute("keepdims", int64_t{1})});
  return g.div(x, g.node("Max", {norm, scalar_constant(g, 1e-12, key + "_eps")}, key + "_clamped"), key);
}

/// DatChannelAttentionImpl::forward (eval) on (B, H*W, C) tokens.
std::string dat_channel_attention(OnnxGraph& g, const std::string& x, const DatChannelAttentionImpl& a, const std::string& key,
                              const DatOnnxShapes& s) {
  const int64_t c = s.c, heads = a.num_heads, d = c / heads;
  const std::string qkv = g.transpose(
      g.reshape(onnx_linear(g, x, *a.qkv, key + ".qkv"), dat_i64(g, {0, -1, 3, heads, d}, key + ".qkv_shape"), key + ".qkv_split"),
      {2, 0, 3, 4, 1}, key + ".qkv_t");  // (3, B, heads, d, L)
  const std::string q = dat_l2_normalize(g, dat_take(g, qkv, 0, key + ".q"), key + ".q_unit");
  const std::string k = dat_l2_normalize(g, dat_take(g, qkv, 1, key + ".k"), key + ".k_unit");
  const std::string v = dat_take(g, qkv, 2, key + ".v");
  const std::string scores = g.node("MatMul", {q, g.transpose(k, {0, 1, 3, 2}, key + ".k_t")}, key + ".scores");
  const std::string attn = g.node("Softmax", {g.mul(scores, g.initializer(key + ".temperature", a.temperature), key + ".tempered")},
                                  key + ".softmax", {onnx::MakeAttribute("axis", int64_t{-1})});
  std::string attended = g.reshape(g.transpose(g.node("MatMul", {attn, v}, key + ".context"), {0, 3, 1, 2}, key + ".context_t"),
                                   dat_i64(g, {0, -1, c}, key + ".attended_shape"), key + ".attended");  // (B, L, C)
  const std::string v_map = g.reshape(v, g.concat({s.n, dat_i64(g, {c}, key + ".v_c"), s.hw}, 0, key + ".v_shape"), key + ".v_map");
  std::string conv_x = dat_dwconv(g, v_map, a.aim, key);
  const std::string channel_map = dat_channel_interaction(g, dat_onnx_to_map(g, attended, s, c, key + ".attended"), a.aim, key);
  const std::string spatial_map = g.reshape(g.transpose(dat_spatial_interaction(g, conv_x, a.aim, key), {0, 2, 3, 1}, key + ".smap_t"),
                                            dat_i64(g, {0, -1, 1}, key + ".smap_shape"), key + ".spatial_map");
  attended = g.mul(attended, g.sigmoid(spatial_map, key + ".spatial_gate"), key + ".attn_gated");
  conv_x = g.mul(conv_x, g.sigmoid(channel_map, key + ".channel_gate"), key + ".conv_gated");
  return onnx_linear(g, g.add(attended, swin_onnx_map_to_tokens(g, conv_x, key + ".conv"), key + ".mixed"), *a.proj, key + ".proj");
}

/// DatSgfnImpl::forward on (B, H*W, C) tokens.
std::string dat_sgfn(OnnxGraph& g, const std::string& x, const DatSgfnImpl& f, const DatOnnxShapes& s, const std::string& key) {
  const int64_t e = f.fc1->options.out_features(), e2 = e / 2;
  const std::string h = gelu(g, onnx_linear(g, x, *f.fc1, key + ".fc1"), key + ".act");
  const std::string x1 = dat_slice_axis(g, h, 0, e2, 2, key + ".x1"), x2 = dat_slice_axis(g, h, e2, e, 2, key + ".x2");
  const std::string normed = onnx_layer_norm(g, x2, *f.sg_norm, key + ".sg.norm");
  const std::string gate = swin_onnx_map_to_tokens(
      g, export_conv2d(g, dat_onnx_to_map(g, normed, s, e2, key + ".sg"), *f.sg_conv, key + ".sg.conv", kDatBlockType), key + ".sg");
  return onnx_linear(g, g.mul(x1, gate, key + ".gated"), *f.fc2, key + ".fc2");
}

}  // namespace

bool dat_onnx_folded_parameter(const std::string& key) {
  for (const char* part : {".pos.pos_proj.", ".pos.pos1.", ".pos.pos2.", ".pos.pos3.0.", ".pos.pos3.2.weight"})
    if (key.find(part) != std::string::npos) return true;
  return false;
}

std::string dat_onnx_to_map(OnnxGraph& g, const std::string& t, const DatOnnxShapes& s, int64_t channels, const std::string& key) {
  return g.reshape(g.transpose(t, {0, 2, 1}, key + ".to_map"),
                   g.concat({s.n, dat_i64(g, {channels}, key + ".map_c"), s.hw}, 0, key + ".map_shape"), key + ".map");
}

std::string dat_onnx_block(OnnxGraph& g, const std::string& t, const DatBlockImpl& b, const std::string& key,
                           const DatOnnxShapes& s) {
  const std::string n1 = onnx_layer_norm(g, t, *b.norm1, key + ".norm1");
  const std::string a = b.spatial ? dat_spatial_attention(g, n1, *b.spatial, key + ".attn", s)
                                  : dat_channel_attention(g, n1, *b.channel, key + ".attn", s);
  const std::string y = g.add(t, a, key + ".res1");
  return g.add(y, dat_sgfn(g, onnx_layer_norm(g, y, *b.norm2, key + ".norm2"), *b.ffn, s, key + ".ffn"), key + ".res2");
}

}  // namespace srlab::models
