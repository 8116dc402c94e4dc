// ONNX emitters of the Swin-family blocks (deploy/onnx_swin_blocks.h).
#include "deploy/onnx_swin_blocks.h"

#include <cmath>

#include "models/arch/swinir.h"

namespace srlab::models {

namespace {

std::string i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

std::string dims_2_3(OnnxGraph& g, const std::string& v, const std::string& hint) {
  return g.slice(g.shape(v, hint + "_shape"), i64(g, {2}, hint + "_from"), i64(g, {4}, hint + "_to"), {0}, hint);
}

std::string element(OnnxGraph& g, const std::string& v, int64_t i, const std::string& hint) {
  return g.slice(v, i64(g, {i}, hint + "_from"), i64(g, {i + 1}, hint + "_to"), {0}, hint);
}

}  // namespace

std::string onnx_unsqueeze(OnnxGraph& g, const std::string& x, int64_t axis, const std::string& hint) {
  return g.node("Unsqueeze", {x, i64(g, {axis}, hint + "_axes")}, hint);
}

std::string swin_onnx_pad_to_windows(OnnxGraph& g, const std::string& lr, int64_t window, int64_t dim, SwinOnnxShapes& s,
                                     const std::string& mode) {
  swin_onnx_window_shapes(g, lr, window, dim, s);
  const std::string pads = g.concat({i64(g, {0, 0, 0, 0, 0, 0}, "pads_begin"), g.sub(s.padded_hw, s.hw, "pad_hw")}, 0, "pads");
  return g.pad(lr, pads, mode, mode + "_pad");
}

std::string swin_onnx_shift_mask(OnnxGraph& g, const SwinOnnxShapes& s, int64_t shift) {
  const auto labels = [&](int64_t i, const std::string& axis) {
    const std::string k = "mask_" + axis;
    const std::string size = g.node("Squeeze", {element(g, s.padded_hw, i, k + "_dim"), i64(g, {0}, k + "_sq")}, k + "_size");
    const std::string r = g.node("Range", {g.constant(torch::tensor(int64_t{0}), k + "_start"), size,
                                           g.constant(torch::tensor(int64_t{1}), k + "_step")}, k + "_range");
    const auto at_least = [&](int64_t back, const std::string& hint) {
      const std::string lim = g.sub(size, g.constant(torch::tensor(back), hint + "_back"), hint + "_lim");
      return g.cast(g.node("GreaterOrEqual", {r, lim}, hint + "_ge"), onnx::TensorProto_DataType_INT64, hint);
    };
    return g.add(at_least(s.m, k + "_win"), at_least(shift, k + "_shift"), k);
  };
  const std::string rows = g.mul(onnx_unsqueeze(g, labels(0, "rows"), 1, "mask_rows_col"), i64(g, {3}, "mask_three"), "mask_rows3");
  const std::string label = g.add(rows, onnx_unsqueeze(g, labels(1, "cols"), 0, "mask_cols_row"), "mask_label");  // (Hp, Wp)
  const std::string one = i64(g, {1}, "mask_one"), mm = i64(g, {s.m}, "mask_m");
  const std::string six = g.concat({one, element(g, s.blocks, 0, "mask_hb"), mm, element(g, s.blocks, 1, "mask_wb"), mm, one}, 0,
                                   "mask_part_shape");
  const std::string win = g.reshape(g.transpose(g.reshape(label, six, "mask_part6"), {0, 1, 3, 2, 4, 5}, "mask_part_t"),
                                    i64(g, {-1, s.m * s.m}, "mask_win_shape"), "mask_windows");  // (nW, N)
  const std::string same = g.node("Equal", {onnx_unsqueeze(g, win, 1, "mask_wi"), onnx_unsqueeze(g, win, 2, "mask_wj")}, "mask_same");
  const std::string differs = g.cast(g.node("Not", {same}, "mask_differs"), g.compute_type(), "mask_differs_f");
  return g.mul(differs, scalar_constant(g, -100.0, "mask_value"), "shift_mask");
}

std::string onnx_layer_norm(OnnxGraph& g, const std::string& x, const torch::nn::LayerNormImpl& ln, const std::string& key) {
  const auto mean = [&](const std::string& v, const std::string& hint) {
    return g.node("ReduceMean", {v}, hint, {onnx::MakeAttribute("axes", std::vector<int64_t>{-1}),
                                            onnx::MakeAttribute("keepdims", int64_t{1})});
  };
  const std::string d = g.sub(x, mean(x, key + ".mean"), key + ".centered");
  const std::string var = mean(g.mul(d, d, key + ".sq"), key + ".var");
  const std::string eps = scalar_constant(g, ln.options.eps(), key + ".eps");
  const std::string y = g.div(d, g.node("Sqrt", {g.add(var, eps, key + ".var_eps")}, key + ".std"), key + ".normed");
  return g.add(g.mul(y, g.initializer(key + ".weight", ln.weight), key + ".scale"), g.initializer(key + ".bias", ln.bias), key);
}

std::string onnx_linear(OnnxGraph& g, const std::string& x, const torch::nn::LinearImpl& l, const std::string& key) {
  const std::string wt = g.transpose(g.initializer(key + ".weight", l.weight), {1, 0}, key + ".weight_t");
  const std::string y = g.node("MatMul", {x, wt}, key + ".matmul");
  return l.bias.defined() ? g.add(y, g.initializer(key + ".bias", l.bias), key) : y;
}

std::string swin_onnx_roll(OnnxGraph& g, const std::string& x, int64_t d, const std::string& key) {
  std::string y = x;
  for (int64_t axis : {1, 2}) {
    const std::string ax = key + "_ax" + std::to_string(axis);
    const std::string head = g.slice(y, i64(g, {-d}, ax + "_from"), i64(g, {kOnnxSliceEnd}, ax + "_end"), {axis}, ax + "_tail");
    const std::string rest = g.slice(y, i64(g, {0}, ax + "_zero"), i64(g, {-d}, ax + "_to"), {axis}, ax + "_head");
    y = g.concat({head, rest}, axis, ax);
  }
  return y;
}

std::string swin_onnx_partition(OnnxGraph& g, const std::string& x, const SwinOnnxShapes& s, const std::string& key) {
  return g.reshape(g.transpose(g.reshape(x, s.part, key + ".part6"), {0, 1, 3, 2, 4, 5}, key + ".part_t"),
                   i64(g, {-1, s.m * s.m, s.c}, key + ".win_shape"), key + ".windows");
}

std::string swin_onnx_reverse(OnnxGraph& g, const std::string& windows, const SwinOnnxShapes& s, const std::string& key) {
  return g.reshape(g.transpose(g.reshape(windows, s.rev, key + ".rev6"), {0, 1, 3, 2, 4, 5}, key + ".rev_t"), s.map4,
                   key + ".unpart");
}

std::string swin_onnx_attention_core(OnnxGraph& g, const std::string& q, const std::string& k, const std::string& v,
                                     double scale, const std::string& bias, const SwinOnnxShapes& s, bool masked,
                                     int64_t heads, int64_t queries, int64_t keys, int64_t channels, const std::string& key) {
  const std::string qs = g.mul(q, scalar_constant(g, scale, key + ".qk_scale"), key + ".q_scaled");
  std::string attn = g.node("MatMul", {qs, g.transpose(k, {0, 1, 3, 2}, key + ".k_t")}, key + ".scores");
  if (!bias.empty()) attn = g.add(attn, bias, key + ".biased");
  if (masked) {
    const std::string split = g.reshape(
        attn, g.concat({s.n, i64(g, {-1, heads, queries, keys}, key + ".per_image")}, 0, key + ".per_image_shape"),
        key + ".per_image_scores");
    attn = g.reshape(g.add(split, onnx_unsqueeze(g, s.mask, 1, key + ".mask"), key + ".masked"),
                     i64(g, {-1, heads, queries, keys}, key + ".flat"), key + ".masked_scores");
  }
  attn = g.node("Softmax", {attn}, key + ".softmax", {onnx::MakeAttribute("axis", int64_t{-1})});
  const std::string out = g.transpose(g.node("MatMul", {attn, v}, key + ".context"), {0, 2, 1, 3}, key + ".merge");
  return g.reshape(out, i64(g, {-1, queries, channels}, key + ".merge_shape"), key + ".merged");
}

std::string swin_onnx_relative_bias(OnnxGraph& g, const torch::Tensor& table, const std::string& table_key,
                                    const torch::Tensor& index, const std::string& index_key, const std::string& key) {
  return g.transpose(g.node("Gather", {g.initializer(table_key, table), g.initializer(index_key, index)}, key + ".bias_gather",
                            {onnx::MakeAttribute("axis", int64_t{0})}),
                     {2, 0, 1}, key + ".bias");  // (h, N, N)
}

std::string swin_onnx_window_attention(OnnxGraph& g, const std::string& x, const WindowAttentionImpl& a,
                                       const std::string& key, const SwinOnnxShapes& s, bool masked) {
  const std::string bias = swin_onnx_relative_bias(g, a.relative_position_bias_table, key + ".relative_position_bias_table",
                                                   a.relative_position_index, key + ".relative_position_index", key);
  return swin_onnx_window_attention_biased(g, x, a, bias, key, s, masked);
}

std::string swin_onnx_mlp(OnnxGraph& g, const std::string& x, const SwinMlp& mlp, const std::string& key) {
  return onnx_linear(g, gelu(g, onnx_linear(g, x, *mlp.fc1, key + ".fc1"), key + ".gelu"), *mlp.fc2, key + ".fc2");
}

std::string swin_onnx_block(OnnxGraph& g, const std::string& t, const SwinTransformerBlockImpl& b, const std::string& key,
                            const SwinOnnxShapes& s) {
  const int64_t shift = b.options().shift;
  std::string h = onnx_layer_norm(g, t, *b.norm1, key + ".norm1");
  if (shift > 0) h = swin_onnx_roll(g, g.reshape(h, s.map4, key + ".map"), -shift, key + ".shift");
  h = swin_onnx_window_attention(g, swin_onnx_partition(g, h, s, key), *b.attn, key + ".attn", s, shift > 0);
  h = swin_onnx_reverse(g, h, s, key);
  if (shift > 0) h = swin_onnx_roll(g, h, shift, key + ".unshift");
  const std::string y = g.add(t, g.reshape(h, i64(g, {0, -1, s.c}, key + ".tok_shape"), key + ".tokens"), key + ".res1");
  const std::string z = onnx_linear(
      g, gelu(g, onnx_linear(g, onnx_layer_norm(g, y, *b.norm2, key + ".norm2"), *b.fc1, key + ".mlp.fc1"), key + ".mlp.gelu"),
      *b.fc2, key + ".mlp.fc2");
  return g.add(y, z, key + ".res2");
}

std::string swin_onnx_resi_conv(OnnxGraph& g, const std::string& x, const SwinResiConv& rc, const std::string& key,
                                const std::string& type) {
  if (!rc.three_conv()) return export_conv2d(g, x, *rc.first, key, type);
  const auto slope = static_cast<float>(kSwinLeakySlope);
  std::string y = g.leaky_relu(export_conv2d(g, x, *rc.first, key + ".0", type), slope, key + ".1");
  y = g.leaky_relu(export_conv2d(g, y, *rc.mid, key + ".2", type), slope, key + ".3");
  return export_conv2d(g, y, *rc.last, key + ".4", type);
}

std::string swin_onnx_tokens_to_map(OnnxGraph& g, const std::string& t, const SwinOnnxShapes& s, const std::string& key) {
  return g.reshape(g.transpose(t, {0, 2, 1}, key + ".to_map"),
                   g.concat({s.n, i64(g, {s.c}, key + ".c"), s.padded_hw}, 0, key + ".map_shape"), key + ".map");
}

std::string swin_onnx_map_to_tokens(OnnxGraph& g, const std::string& map, const std::string& key) {
  return g.transpose(g.reshape(map, i64(g, {0, 0, -1}, key + ".flat_shape"), key + ".flat"), {0, 2, 1}, key + ".tokens");
}

std::string swin_onnx_normalize(OnnxGraph& g, const std::string& x, double img_range, std::string& mean, std::string& range) {
  mean = g.constant(torch::tensor({kSwinIrRgbMean[0], kSwinIrRgbMean[1], kSwinIrRgbMean[2]}).view({1, 3, 1, 1}), "rgb_mean");
  range = scalar_constant(g, img_range, "img_range");
  return g.mul(g.sub(x, mean, "centered"), range, "scaled");
}

std::string swin_onnx_denormalize_crop(OnnxGraph& g, const std::string& y, const std::string& mean, const std::string& range,
                                       const SwinOnnxShapes& s, int64_t scale) {
  const std::string out = g.add(g.div(y, range, "unscaled"), mean, "uncentered");
  const std::string ends = g.mul(s.hw, i64(g, {scale, scale}, "scale"), "output_hw");
  return g.slice(out, i64(g, {0, 0}, "crop_starts"), ends, {2, 3}, "crop");
}

std::string swin_onnx_tail(OnnxGraph& g, const std::string& f, const SwinOnnxTail& t, const std::string& type) {
  using Kind = SwinOnnxTail::Kind;
  const auto conv = [&](const torch::nn::Conv2dImpl* c, const std::string& x, const std::string& key) {
    if (!c) refuse_onnx_export(type, "module '" + key + "' of the upsampler is missing");
    return export_conv2d(g, x, *c, key, type);
  };
  if (t.kind == Kind::kPixelShuffleDirect) {
    if (t.upsample.size() != 1) refuse_onnx_export(type, "pixelshuffledirect needs exactly one upsample conv");
    return g.depth_to_space(conv(t.upsample[0], f, "upsample.0"), t.scale, "upsample.1");
  }
  std::string y = g.leaky_relu(conv(t.conv_before_upsample, f, "conv_before_upsample.0"), 0.01f, "conv_before_upsample.1");
  const auto slope = static_cast<float>(kSwinLeakySlope);
  if (t.kind == Kind::kPixelShuffle) {
    for (size_t k = 0; k < t.upsample.size(); ++k)
      y = g.depth_to_space(conv(t.upsample[k], y, "upsample." + std::to_string(2 * k)), t.scale == 3 ? 3 : 2,
                           "upsample." + std::to_string(2 * k + 1));
  } else {
    for (int k = 0; k < 3 && t.conv_up[k]; ++k) {
      const std::string key = "conv_up" + std::to_string(k + 1);
      y = g.leaky_relu(conv(t.conv_up[k], g.resize(y, 2, OnnxResizeMode::kNearest, key + ".nearest"), key), slope, key + ".lrelu");
    }
    y = g.leaky_relu(conv(t.conv_hr, y, "conv_hr"), slope, "conv_hr.lrelu");
  }
  return conv(t.conv_last, y, "conv_last");
}

// --- shared with omnisr ---

std::string swin_onnx_pad_to_windows(OnnxGraph& g, const std::string& lr, int64_t window, int64_t dim, SwinOnnxShapes& s) {
  return swin_onnx_pad_to_windows(g, lr, window, dim, s, "reflect");
}

std::string swin_onnx_relative_bias_const(OnnxGraph& g, const torch::Tensor& table, const std::string& table_key,
                                          const torch::Tensor& index, const std::string& key) {
  return g.transpose(g.node("Gather", {g.initializer(table_key, table), g.constant(index.to(torch::kCPU, torch::kInt64), key + ".bias_index")},
                            key + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}),
                     {2, 0, 1}, key + ".bias");  // (h, N, N)
}

std::string swin_onnx_qkv_attention(OnnxGraph& g, const std::string& qkv, int64_t heads, int64_t tokens, int64_t channels,
                                    const std::string& bias, const SwinOnnxShapes& s, bool masked, const std::string& key) {
  const int64_t hd = channels / heads;
  const std::string t = g.transpose(g.reshape(qkv, i64(g, {-1, tokens, 3, heads, hd}, key + ".qkv_shape"), key + ".qkv_split"),
                                    {2, 0, 3, 1, 4}, key + ".qkv_heads");  // (3, B', h, N, hd)
  const auto part = [&](int64_t i, const std::string& name) {
    return g.node("Gather", {t, g.constant(torch::tensor(i, torch::kInt64), key + "." + name + "_index")}, key + "." + name,
                  {onnx::MakeAttribute("axis", int64_t{0})});
  };
  return swin_onnx_attention_core(g, part(0, "q"), part(1, "k"), part(2, "v"), std::pow(static_cast<double>(hd), -0.5), bias, s,
                                  masked, heads, tokens, tokens, channels, key);
}

}  // namespace srlab::models

// --- shared with rgt, dat ---

namespace srlab::models {

SwinOnnxRectShapes swin_onnx_rect_shapes(OnnxGraph& g, const std::string& n, const std::string& padded_hw, int64_t mh,
                                         int64_t mw, const std::string& key) {
  SwinOnnxRectShapes r;
  r.mh = mh;
  r.mw = mw;
  r.n = n;
  r.padded_hw = padded_hw;
  const std::string blocks = g.div(padded_hw, int64_vector(g, {mh, mw}, key + ".window"), key + ".blocks");
  r.hb = g.slice(blocks, int64_vector(g, {0}, key + ".hb_from"), int64_vector(g, {1}, key + ".hb_to"), {0}, key + ".hb");
  r.wb = g.slice(blocks, int64_vector(g, {1}, key + ".wb_from"), int64_vector(g, {2}, key + ".wb_to"), {0}, key + ".wb");
  return r;
}

std::string swin_onnx_rect_partition(OnnxGraph& g, const std::string& x, const SwinOnnxRectShapes& r, int64_t c,
                                     const std::string& key) {
  const std::string six = g.concat({r.n, r.hb, int64_vector(g, {r.mh}, key + ".mh"), r.wb,
                                    int64_vector(g, {r.mw, c}, key + ".mw_c")}, 0, key + ".part_shape");
  return g.reshape(g.transpose(g.reshape(x, six, key + ".part6"), {0, 1, 3, 2, 4, 5}, key + ".part_t"),
                   int64_vector(g, {-1, r.mh * r.mw, c}, key + ".win_shape"), key + ".windows");
}

std::string swin_onnx_rect_reverse(OnnxGraph& g, const std::string& windows, const SwinOnnxRectShapes& r, int64_t c,
                                   const std::string& key) {
  const std::string six = g.concat({r.n, r.hb, r.wb, int64_vector(g, {r.mh, r.mw, c}, key + ".mh_mw_c")}, 0, key + ".rev_shape");
  const std::string map4 = g.concat({r.n, r.padded_hw, int64_vector(g, {c}, key + ".c")}, 0, key + ".map_shape");
  return g.reshape(g.transpose(g.reshape(windows, six, key + ".rev6"), {0, 1, 3, 2, 4, 5}, key + ".rev_t"), map4,
                   key + ".unpart");
}

std::string swin_onnx_rect_roll(OnnxGraph& g, const std::string& x, int64_t dh, int64_t dw, const std::string& key) {
  std::string y = x;
  for (int64_t axis : {1, 2}) {
    const int64_t d = axis == 1 ? dh : dw;
    if (d == 0) continue;
    const std::string ax = key + "_ax" + std::to_string(axis);
    const std::string head = g.slice(y, int64_vector(g, {-d}, ax + "_from"), int64_vector(g, {kOnnxSliceEnd}, ax + "_end"),
                                     {axis}, ax + "_tail");
    const std::string rest = g.slice(y, int64_vector(g, {0}, ax + "_zero"), int64_vector(g, {-d}, ax + "_to"), {axis}, ax + "_head");
    y = g.concat({head, rest}, axis, ax);
  }
  return y;
}

std::string swin_onnx_rect_shift_mask(OnnxGraph& g, const SwinOnnxRectShapes& r, int64_t shift_h, int64_t shift_w,
                                      const std::string& key) {
  // Region label per row/column: (i >= size - window) + (i >= size - shift), i.e. the official slices
  // (0, -window), (-window, -shift), (-shift, None); a zero shift gives one region (label 0).
  const auto labels = [&](int64_t i, int64_t window, int64_t shift, const std::string& axis) {
    const std::string k = key + "." + axis;
    const std::string dim =
        g.slice(r.padded_hw, int64_vector(g, {i}, k + "_from"), int64_vector(g, {i + 1}, k + "_to"), {0}, k + "_dim");
    const std::string size = g.node("Squeeze", {dim, int64_vector(g, {0}, k + "_sq")}, k + "_size");
    const std::string range = g.node("Range", {g.constant(torch::tensor(int64_t{0}), k + "_start"), size,
                                               g.constant(torch::tensor(int64_t{1}), k + "_step")}, k + "_range");
    const auto at_least = [&](int64_t back, const std::string& hint) {
      const std::string lim = g.sub(size, g.constant(torch::tensor(back), hint + "_back"), hint + "_lim");
      return g.cast(g.node("GreaterOrEqual", {range, lim}, hint + "_ge"), onnx::TensorProto_DataType_INT64, hint);
    };
    if (shift == 0) return g.mul(range, g.constant(torch::tensor(int64_t{0}), k + "_zero"), k);
    return g.add(at_least(window, k + "_win"), at_least(shift, k + "_shift"), k);
  };
  const std::string rows = g.mul(onnx_unsqueeze(g, labels(0, r.mh, shift_h, "rows"), 1, key + ".rows_col"),
                                 int64_vector(g, {3}, key + ".three"), key + ".rows3");
  const std::string label = g.add(rows, onnx_unsqueeze(g, labels(1, r.mw, shift_w, "cols"), 0, key + ".cols_row"), key + ".label");
  const std::string one = int64_vector(g, {1}, key + ".one");
  const std::string six = g.concat({one, r.hb, int64_vector(g, {r.mh}, key + ".mh"), r.wb, int64_vector(g, {r.mw}, key + ".mw"), one},
                                   0, key + ".part_shape");
  const std::string win = g.reshape(g.transpose(g.reshape(label, six, key + ".part6"), {0, 1, 3, 2, 4, 5}, key + ".part_t"),
                                    int64_vector(g, {-1, r.mh * r.mw}, key + ".win_shape"), key + ".windows");  // (nW, N)
  const std::string same = g.node("Equal", {onnx_unsqueeze(g, win, 1, key + ".wi"), onnx_unsqueeze(g, win, 2, key + ".wj")},
                                  key + ".same");
  const std::string differs = g.cast(g.node("Not", {same}, key + ".differs"), g.compute_type(), key + ".differs_f");
  return g.mul(differs, scalar_constant(g, -100.0, key + ".value"), key);
}

// --- shared with atd ---

void swin_onnx_window_shapes(OnnxGraph& g, const std::string& lr, int64_t window, int64_t dim, SwinOnnxShapes& s) {
  s.m = window;
  s.c = dim;
  s.mask.clear();
  s.hw = dims_2_3(g, lr, "input_hw");
  const std::string strided = g.slice(lr, i64(g, {0, 0}, "stride_starts"), i64(g, {kOnnxSliceEnd, kOnnxSliceEnd}, "stride_ends"),
                                      {2, 3}, "stride_m", {window, window});
  s.blocks = dims_2_3(g, strided, "blocks_hw");
  s.padded_hw = g.mul(s.blocks, i64(g, {window, window}, "window"), "padded_hw");
  s.n = g.slice(g.shape(lr, "batch_shape"), i64(g, {0}, "n_from"), i64(g, {1}, "n_to"), {0}, "batch");
  const std::string mm = i64(g, {window}, "m"), cc = i64(g, {dim}, "c");
  const std::string hb = element(g, s.blocks, 0, "hb"), wb = element(g, s.blocks, 1, "wb");
  s.part = g.concat({s.n, hb, mm, wb, mm, cc}, 0, "part_shape");
  s.rev = g.concat({s.n, hb, wb, mm, mm, cc}, 0, "rev_shape");
  s.map4 = g.concat({s.n, s.padded_hw, cc}, 0, "map4_shape");
}

}  // namespace srlab::models

// --- shared with hat, drct ---
namespace srlab::models {

std::string swin_onnx_window_attention_biased(OnnxGraph& g, const std::string& x, const WindowAttentionImpl& a,
                                              const std::string& bias, const std::string& key, const SwinOnnxShapes& s,
                                              bool masked) {
  const std::string y = swin_onnx_qkv_attention(g, onnx_linear(g, x, *a.qkv, key + ".qkv"), a.num_heads, s.m * s.m, s.c, bias, s,
                                                masked, key);
  return onnx_linear(g, y, *a.proj, key + ".proj");
}

std::string swin_onnx_table_bias(OnnxGraph& g, const std::string& table, const std::string& index, const std::string& key) {
  return g.transpose(g.node("Gather", {table, index}, key + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}),
                     {2, 0, 1}, key + ".bias");  // (h, Nq, Nk)
}

SwinOnnxShapes swin_onnx_shapes_with_dim(OnnxGraph& g, const SwinOnnxShapes& s, int64_t c, const std::string& key) {
  SwinOnnxShapes r = s;
  r.c = c;
  const std::string mm = i64(g, {s.m}, key + "_m"), cc = i64(g, {c}, key + "_c");
  const std::string hb = element(g, s.blocks, 0, key + "_hb"), wb = element(g, s.blocks, 1, key + "_wb");
  r.part = g.concat({s.n, hb, mm, wb, mm, cc}, 0, key + "_part_shape");
  r.rev = g.concat({s.n, hb, wb, mm, mm, cc}, 0, key + "_rev_shape");
  r.map4 = g.concat({s.n, s.padded_hw, cc}, 0, key + "_map4_shape");
  return r;
}

namespace {

/// A one-node subgraph returning the outer value `in` (a branch of If).
onnx::GraphProto identity_branch(const std::string& in, const std::string& out, onnx::TensorProto_DataType type) {
  onnx::GraphProto b;
  b.set_name(out);
  auto* n = b.add_node();
  n->set_op_type("Identity");
  n->set_name(out);
  n->add_input(in);
  n->add_output(out);
  auto* o = b.add_output();
  o->set_name(out);
  o->mutable_type()->mutable_tensor_type()->set_elem_type(type);
  return b;
}

}  // namespace

std::string onnx_select_at_size(OnnxGraph& g, const std::string& padded_hw, int64_t height, int64_t width,
                                const std::string& at_size, const std::string& otherwise, const std::string& key) {
  const std::string same = g.cast(g.node("Equal", {padded_hw, i64(g, {height, width}, key + ".size")}, key + ".eq"),
                                  onnx::TensorProto_DataType_INT64, key + ".eq_int");
  const std::string cond = g.cast(g.node("ReduceMin", {same}, key + ".all", {onnx::MakeAttribute("keepdims", int64_t{0})}),
                                  onnx::TensorProto_DataType_BOOL, key + ".at_size");
  return g.node("If", {cond}, key + ".select",
                {onnx::MakeAttribute("then_branch", identity_branch(at_size, key + ".at_size_branch", g.compute_type())),
                 onnx::MakeAttribute("else_branch", identity_branch(otherwise, key + ".other_branch", g.compute_type()))});
}

std::map<std::string, std::string> swin_onnx_block_masks(const torch::nn::Module& net, OnnxGraph& g, const SwinOnnxShapes& s,
                                                         int64_t img_size, int64_t shift, const std::string& type) {
  static const std::string kSuffix = "attn_mask";
  std::map<std::string, std::string> masks;
  torch::Tensor formula;
  for (const auto& kv : net.named_buffers()) {
    const std::string& k = kv.key();
    if (k.size() < kSuffix.size() || k.compare(k.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) continue;
    if (shift <= 0 || s.mask.empty())
      refuse_onnx_export(type, "buffer '" + k + "' exists although the windows are not shifted; the exported graph computes no mask");
    if (!formula.defined()) formula = swin_shift_attention_mask(img_size, img_size, s.m, shift);
    if (torch::equal(kv.value().to(torch::kCPU, torch::kFloat32), formula)) {
      g.mark_reproduced(k);
      masks[k] = s.mask;
    } else {
      masks[k] = onnx_select_at_size(g, s.padded_hw, img_size, img_size, g.initializer(k, kv.value()), s.mask, k);
    }
  }
  return masks;
}

SwinOnnxShapes swin_onnx_with_block_mask(const SwinOnnxShapes& s, const std::map<std::string, std::string>& masks,
                                         const std::string& buffer_key) {
  SwinOnnxShapes b = s;
  if (auto it = masks.find(buffer_key); it != masks.end()) b.mask = it->second;
  return b;
}

}  // namespace srlab::models
