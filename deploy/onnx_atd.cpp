// ONNX exporter of ATD (models/arch/atd.h), mirroring AtdImpl::forward() and the blocks of
// models/arch/atd_blocks.cpp node for node, with the Swin-family emitters of deploy/onnx_swin_blocks.h.
//
// What the graph computes (eval mode; N dynamic, H and W fixed, see "Refused" below):
//   padding       bottom/right to multiples of M by mirroring with the edge repeated (the official
//                 cat(x, flip(x))[:h], periodic beyond 2h): Range/Mod/Where indices + Gather per axis
//                 (ONNX Pad has no "symmetric" mode); mean/img_range normalisation and the final crop as SwinIR
//   ATD-CA        Linear wq/wk/wv (MatMul + Add), F::normalize = x / Max(ReduceL2(x), 1e-12), the temperature
//                 1 + Clip(scale, 0, 1) ln m, Softmax, MatMul with the dictionary values
//   AC-MSA        category = ArgMax of ATD-CA's map; the tokens sorted stably by category as a counting
//                 sort (Equal with the category ids, CumSum, ReduceSum: each token's rank), ScatterElements
//                 into that order, groups of min(N, category_size) tokens from the runtime N with the last
//                 filled up by the mirrored tail (Slice with step -1), softmax(q k^T exp(Min(logit_scale,
//                 ln 100))) v per group and head, GatherElements back to the token order, proj
//   (S)W-MSA      the layer's qkv rolled by -M/2 on odd layers, window partition, relative position bias
//                 (Gather of the table by relative_position_index_SA), the shifted-window mask computed from
//                 the size (swin_onnx_shift_mask), swin_onnx_attention_core, proj, reverse, roll back
//   ConvFFN       fc1, GELU (erf), depthwise Conv on the map + GELU as a residual, fc2
//   dictionary    (every layer but the last of an ATDB) InstanceNorm1d of sim^T over the tokens as
//   refinement    ReduceMean/Sub/Sqrt/Div with the affine norm3 weight/bias, Softmax, MatMul with the tokens,
//                 td = sigmoid(sigma) td + (1 - sigmoid(sigma)) mix
//   ATDB / tail   resi_connection (swin_onnx_resi_conv), long skip, SwinIR tails (swin_onnx_tail)
// Initializers are the state-dict keys; the no_norm flag buffer is reproduced by leaving out the
// normalisation (marked reproduced).
//
// Refused: dynamic H, W, and fixed sizes whose padded token count Hp*Wp exceeds category_size. With more
// than one group, which tokens share a group depends on the order torch::sort(stable=false) gives tokens
// of equal category, and LibTorch's CPU sort is then std::sort (introsort), whose order of ties no ONNX
// operator reproduces (the graph's order is the stable one; TopK would also order ties by index). With a
// single group the order cancels out (attention over one set of tokens), so the export is exact. Should
// the model sort stably (stable=true), the same graph is exact for every size: drop the refusal.
#include <cmath>

#include "deploy/onnx_swin_blocks.h"
#include "models/arch/atd.h"
#include "models/arch/swinir.h"

namespace srlab::models {

namespace {

const char* kAtdType = "atd";

static_assert(kAtdRgbMean[0] == kSwinIrRgbMean[0] && kAtdRgbMean[1] == kSwinIrRgbMean[1] &&
                  kAtdRgbMean[2] == kSwinIrRgbMean[2],
              "swin_onnx_normalize subtracts SwinIR's mean, which must be ATD's");

std::string i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

std::string scalar_i64(OnnxGraph& g, const std::string& vec, int64_t i, const std::string& hint) {
  const std::string e = g.slice(vec, i64(g, {i}, hint + "_from"), i64(g, {i + 1}, hint + "_to"), {0}, hint + "_1d");
  return g.node("Squeeze", {e, i64(g, {0}, hint + "_axes")}, hint);
}

/// Refuses dynamic sizes and fixed sizes with more than one AC-MSA category group (file comment).
void check_single_category_group(const AtdOptions& o, const OnnxGraph& g) {
  const auto dims = g.input_dims("input");
  if (dims.size() != 4 || dims[2].size <= 0 || dims[3].size <= 0)
    refuse_onnx_export(kAtdType,
                       "AC-MSA groups the tokens sorted by category with torch::sort(stable=false), whose order of tokens of "
                       "equal category (LibTorch's CPU std::sort) decides the groups as soon as there are more than "
                       "category_size (" + std::to_string(o.category_size) + ") tokens, and no ONNX operator reproduces it; "
                       "export with a fixed input size (srlab export --static HxW) whose padded Hp*Wp <= category_size");
  const auto padded = [&](int64_t n) { return (n + o.window_size - 1) / o.window_size * o.window_size; };
  const int64_t hp = padded(dims[2].size), wp = padded(dims[3].size);
  if (hp * wp > o.category_size)
    refuse_onnx_export(kAtdType, "the input " + std::to_string(dims[2].size) + "x" + std::to_string(dims[3].size) +
                                     " is padded to " + std::to_string(hp) + "x" + std::to_string(wp) + " = " +
                                     std::to_string(hp * wp) + " tokens > category_size " + std::to_string(o.category_size) +
                                     ": AC-MSA then forms several groups, which depend on the tie order of "
                                     "torch::sort(stable=false) (LibTorch's CPU std::sort), not reproducible in ONNX; "
                                     "export with a fixed size (srlab export --static HxW) whose padded Hp*Wp <= category_size");
}

/// Pads (N,3,H,W) to s.padded_hw by mirroring with the edge repeated, periodically (AtdImpl's mirror_index).
std::string mirror_pad(OnnxGraph& g, const std::string& lr, const SwinOnnxShapes& s) {
  std::string x = lr;
  for (int64_t axis : {2, 3}) {
    const std::string k = "mirror_" + std::to_string(axis);
    const std::string n = scalar_i64(g, s.hw, axis - 2, k + "_n"), p = scalar_i64(g, s.padded_hw, axis - 2, k + "_p");
    const std::string r = g.node("Range", {g.constant(torch::tensor(int64_t{0}), k + "_start"), p,
                                           g.constant(torch::tensor(int64_t{1}), k + "_step")}, k + "_range");
    const std::string two_n = g.mul(n, g.constant(torch::tensor(int64_t{2}), k + "_two"), k + "_2n");
    const std::string i = g.node("Mod", {r, two_n}, k + "_mod");
    const std::string back = g.sub(g.sub(two_n, g.constant(torch::tensor(int64_t{1}), k + "_one"), k + "_2n1"), i, k + "_back");
    const std::string idx = g.node("Where", {g.node("Less", {i, n}, k + "_inside"), i, back}, k + "_index");
    x = g.node("Gather", {x, idx}, k, {onnx::MakeAttribute("axis", axis)});
  }
  return x;
}

std::string reduce_mean_last(OnnxGraph& g, const std::string& x, const std::string& hint) {
  return g.node("ReduceMean", {x}, hint, {onnx::MakeAttribute("axes", std::vector<int64_t>{-1}),
                                          onnx::MakeAttribute("keepdims", int64_t{1})});
}

std::string softmax_last(OnnxGraph& g, const std::string& x, const std::string& hint) {
  return g.node("Softmax", {x}, hint, {onnx::MakeAttribute("axis", int64_t{-1})});
}

/// F::normalize(x, dim=-1): x / max(||x||_2, 1e-12).
std::string l2_normalize(OnnxGraph& g, const std::string& x, const std::string& hint) {
  const std::string norm = g.node("ReduceL2", {x}, hint + "_l2", {onnx::MakeAttribute("axes", std::vector<int64_t>{-1}),
                                                                 onnx::MakeAttribute("keepdims", int64_t{1})});
  return g.div(x, g.node("Max", {norm, scalar_constant(g, 1e-12, hint + "_eps")}, hint + "_clamped"), hint);
}

/// AtdCrossAttentionImpl::forward: xn (B,N,C), td (1|B,m,C) -> {out (B,N,C), sim (B,N,m)}.
std::pair<std::string, std::string> cross_attention(OnnxGraph& g, const std::string& xn, const std::string& td,
                                                    const AtdCrossAttentionImpl& a, const std::string& key) {
  const std::string q = l2_normalize(g, onnx_linear(g, xn, *a.wq, key + ".wq"), key + ".q");
  const std::string k = l2_normalize(g, onnx_linear(g, td, *a.wk, key + ".wk"), key + ".k");
  const std::string v = onnx_linear(g, td, *a.wv, key + ".wv");
  std::string attn = g.node("MatMul", {q, g.transpose(k, {0, 2, 1}, key + ".k_t")}, key + ".scores");
  const std::string temp = g.add(g.mul(g.clip(g.initializer(key + ".scale", a.scale), 0.f, 1.f, key + ".scale_clip"),
                                       scalar_constant(g, std::log(static_cast<double>(a.num_tokens)), key + ".ln_m"), key + ".scale_ln"),
                                 scalar_constant(g, 1.0, key + ".one"), key + ".temperature");
  attn = softmax_last(g, g.mul(attn, temp, key + ".scaled"), key + ".softmax");
  return {g.node("MatMul", {attn, v}, key + ".out"), attn};
}

/// Each token's position in the tokens stably sorted by category (counting sort): for token i of category
/// k, (number of tokens of a category < k) + (number of tokens j < i of category k). sim (B,N,m) -> (B,N,1).
std::string stable_category_rank(OnnxGraph& g, const std::string& sim, int64_t m, const std::string& key) {
  const std::string category = g.node("ArgMax", {sim}, key + ".category", {onnx::MakeAttribute("axis", int64_t{-1}),
                                                                          onnx::MakeAttribute("keepdims", int64_t{1})});
  const std::string ids = g.constant(torch::arange(m, torch::kInt64), key + ".category_ids");
  const std::string onehot = g.cast(g.node("Equal", {category, ids}, key + ".is_category"), onnx::TensorProto_DataType_INT64,
                                    key + ".onehot");  // (B, N, m)
  const auto cumsum = [&](const std::string& x, int64_t axis, const std::string& hint) {
    return g.node("CumSum", {x, g.constant(torch::tensor(axis), hint + "_axis")}, hint, {onnx::MakeAttribute("exclusive", int64_t{1})});
  };
  const auto pick = [&](const std::string& x, const std::string& hint) {  // x[b][i][category of i]
    return g.node("ReduceSum", {g.mul(x, onehot, hint + "_mask"), i64(g, {-1}, hint + "_axes")}, hint,
                  {onnx::MakeAttribute("keepdims", int64_t{1})});
  };
  const std::string before = cumsum(onehot, 1, key + ".earlier_same");  // tokens j < i per category
  const std::string totals = g.node("ReduceSum", {onehot, i64(g, {1}, key + ".totals_axes")}, key + ".totals",
                                    {onnx::MakeAttribute("keepdims", int64_t{1})});  // (B, 1, m)
  const std::string starts = cumsum(totals, 2, key + ".category_start");
  return g.add(pick(starts, key + ".start"), pick(before, key + ".within"), key + ".rank");
}

/// x (B,N,D) indexed along the tokens by rank (B,N,1): Scatter puts token i at rank[i] (the sort),
/// Gather takes row rank[i] for token i (the way back).
std::string by_rank(OnnxGraph& g, const std::string& x, const std::string& rank, bool scatter, const std::string& hint) {
  const std::string idx = g.node("Expand", {rank, g.shape(x, hint + "_shape")}, hint + "_index");
  const auto axis = onnx::MakeAttribute("axis", int64_t{1});
  return scatter ? g.node("ScatterElements", {x, idx, x}, hint, {axis}) : g.node("GatherElements", {x, idx}, hint, {axis});
}

/// AtdCategoryAttentionImpl::forward: qkv (B,N,3C), sim (B,N,m) -> (B,N,C). The tokens are sorted stably
/// by category (stable_category_rank; the exporter only emits this where the groups do not depend on the
/// order of ties, see the file comment), split into groups of gs = min(N, category_size) tokens with the
/// last filled up by the mirrored tail (Slice with step -1), attend within their group and go back.
std::string category_attention(OnnxGraph& g, const std::string& qkv, const std::string& sim, const AtdCategoryAttentionImpl& a,
                               int64_t c, int64_t m, const std::string& key) {
  const int64_t h = a.num_heads, hd = c / h;
  const std::string rank = stable_category_rank(g, sim, m, key);
  const std::string sorted = by_rank(g, qkv, rank, true, key + ".sorted");
  const std::string n = g.slice(g.shape(qkv, key + ".qkv_shape"), i64(g, {1}, key + ".n_from"), i64(g, {2}, key + ".n_to"), {0}, key + ".n");
  const std::string gs = g.node("Min", {n, i64(g, {a.category_size}, key + ".category_size")}, key + ".group_size");
  const std::string one = i64(g, {1}, key + ".one");
  const std::string groups = g.div(g.sub(g.add(n, gs, key + ".n_gs"), one, key + ".n_gs1"), gs, key + ".groups");
  const std::string pad = g.sub(g.mul(groups, gs, key + ".padded_n"), n, key + ".pad");
  const std::string tail = g.slice(sorted, i64(g, {-1}, key + ".tail_from"), g.sub(g.constant(torch::tensor({int64_t{-1}}), key + ".m1"), pad,
                                                                                   key + ".tail_to"),
                                   {1}, key + ".tail", {-1});
  const std::string filled = g.concat({sorted, tail}, 1, key + ".filled");
  const std::string heads = g.transpose(
      g.reshape(filled, g.concat({i64(g, {0, -1}, key + ".bg"), gs, i64(g, {3, h, hd}, key + ".three_h_hd")}, 0, key + ".group_shape"),
                key + ".grouped"),
      {3, 0, 1, 4, 2, 5}, key + ".qkv_heads");  // (3, B, ng, h, gs, hd)
  const auto part = [&](int64_t i, const std::string& name) {
    return g.node("Gather", {heads, g.constant(torch::tensor(i, torch::kInt64), key + "." + name + "_index")}, key + "." + name,
                  {onnx::MakeAttribute("axis", int64_t{0})});
  };
  std::string attn = g.node("MatMul", {part(0, "q"), g.transpose(part(1, "k"), {0, 1, 2, 4, 3}, key + ".k_t")}, key + ".scores");
  const std::string logit = g.node("Min", {g.initializer(key + ".logit_scale", a.logit_scale),
                                           scalar_constant(g, std::log(100.0), key + ".max_scale")}, key + ".logit_clamped");
  attn = softmax_last(g, g.mul(attn, g.node("Exp", {logit}, key + ".logit_exp"), key + ".scaled"), key + ".softmax");
  const std::string y = g.transpose(g.node("MatMul", {attn, part(2, "v")}, key + ".context"), {0, 1, 3, 2, 4}, key + ".merge");
  const std::string merged = g.slice(g.reshape(y, i64(g, {0, -1, c}, key + ".merge_shape"), key + ".merged"),
                                     i64(g, {0}, key + ".crop_from"), n, {1}, key + ".unfilled");
  return onnx_linear(g, by_rank(g, merged, rank, false, key + ".unsorted"), *a.proj, key + ".proj");
}

/// The (S)W-MSA branch of AtdLayerImpl::forward on qkv (B, Hp*Wp, 3C) -> (B, Hp*Wp, C).
std::string window_attention(OnnxGraph& g, const std::string& qkv, const AtdLayerImpl& l, const std::string& bias_index,
                             const SwinOnnxShapes& s, const std::string& key) {
  const int64_t shift = l.options().shift, h = l.options().num_heads, n = s.m * s.m, hd = s.c / h;
  SwinOnnxShapes s3 = s;  // the partition of the 3C-channel qkv map
  s3.c = 3 * s.c;
  const std::string c3 = i64(g, {3 * s.c}, key + ".c3"), mm = i64(g, {s.m}, key + ".m");
  const std::string hb = g.slice(s.blocks, i64(g, {0}, key + ".hb_from"), i64(g, {1}, key + ".hb_to"), {0}, key + ".hb");
  const std::string wb = g.slice(s.blocks, i64(g, {1}, key + ".wb_from"), i64(g, {2}, key + ".wb_to"), {0}, key + ".wb");
  s3.part = g.concat({s.n, hb, mm, wb, mm, c3}, 0, key + ".part3_shape");
  std::string w = g.reshape(qkv, g.concat({s.n, s.padded_hw, c3}, 0, key + ".map3_shape"), key + ".qkv_map");
  if (shift > 0) w = swin_onnx_roll(g, w, -shift, key + ".shift");
  const std::string heads = g.transpose(g.reshape(swin_onnx_partition(g, w, s3, key), i64(g, {-1, n, 3, h, hd}, key + ".qkv_shape"),
                                                  key + ".qkv_split"),
                                        {2, 0, 3, 1, 4}, key + ".qkv_heads");  // (3, B*nW, h, M^2, hd)
  const auto part = [&](int64_t i, const std::string& name) {
    return g.node("Gather", {heads, g.constant(torch::tensor(i, torch::kInt64), key + "." + name + "_index")}, key + "." + name,
                  {onnx::MakeAttribute("axis", int64_t{0})});
  };
  const auto& a = *l.attn_win;
  const std::string bias = g.transpose(
      g.node("Gather", {g.initializer(key + ".relative_position_bias_table", a.relative_position_bias_table), bias_index},
             key + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}),
      {2, 0, 1}, key + ".bias");
  std::string y = swin_onnx_attention_core(g, part(0, "q"), part(1, "k"), part(2, "v"), std::pow(static_cast<double>(hd), -0.5),
                                           bias, s, shift > 0, h, n, n, s.c, key);
  y = swin_onnx_reverse(g, onnx_linear(g, y, *a.proj, key + ".proj"), s, key);
  if (shift > 0) y = swin_onnx_roll(g, y, shift, key + ".unshift");
  return g.reshape(y, i64(g, {0, -1, s.c}, key + ".tok_shape"), key + ".tokens");
}

/// AtdConvFfnImpl::forward on (B, Hp*Wp, C).
std::string conv_ffn(OnnxGraph& g, const std::string& x, const AtdConvFfnImpl& f, const SwinOnnxShapes& s, const std::string& key) {
  const int64_t hidden = f.fc1->options.out_features();
  const std::string h = gelu(g, onnx_linear(g, x, *f.fc1, key + ".fc1"), key + ".gelu");
  const std::string map = g.reshape(g.transpose(h, {0, 2, 1}, key + ".to_map"),
                                    g.concat({s.n, i64(g, {hidden}, key + ".hidden"), s.padded_hw}, 0, key + ".map_shape"),
                                    key + ".map");
  const std::string d = gelu(g, export_conv2d(g, map, *f.dwconv, key + ".dwconv.depthwise_conv.0", kAtdType), key + ".dw_gelu");
  return onnx_linear(g, g.add(h, swin_onnx_map_to_tokens(g, d, key + ".dw"), key + ".dw_res"), *f.fc2, key + ".fc2");
}

/// The adaptive dictionary refinement of a non-last layer: sim (B,N,m), tokens y (B,N,C), td (1|B,m,C).
std::string refine_dictionary(OnnxGraph& g, const std::string& sim, const std::string& y, const std::string& td,
                              const AtdLayerImpl& l, const std::string& key) {
  const std::string st = g.transpose(sim, {0, 2, 1}, key + ".sim_t");  // (B, m, N)
  const std::string d = g.sub(st, reduce_mean_last(g, st, key + ".norm3.mean"), key + ".norm3.centered");
  const std::string var = reduce_mean_last(g, g.mul(d, d, key + ".norm3.sq"), key + ".norm3.var");
  const std::string sd = g.node("Sqrt", {g.add(var, scalar_constant(g, 1e-5, key + ".norm3.eps"), key + ".norm3.var_eps")}, key + ".norm3.std");
  const std::string w = onnx_unsqueeze(g, g.initializer(key + ".norm3.weight", l.norm3_weight), 1, key + ".norm3.w");
  const std::string b = onnx_unsqueeze(g, g.initializer(key + ".norm3.bias", l.norm3_bias), 1, key + ".norm3.b");
  const std::string normed = g.add(g.mul(g.div(d, sd, key + ".norm3.normed"), w, key + ".norm3.scale"), b, key + ".norm3");
  const std::string mix = g.node("MatMul", {softmax_last(g, normed, key + ".mix_softmax"), y}, key + ".mix");
  const std::string keep = g.sigmoid(g.initializer(key + ".sigma", l.sigma), key + ".keep");
  const std::string rest = g.sub(scalar_constant(g, 1.0, key + ".one"), keep, key + ".rest");
  return g.add(g.mul(keep, td, key + ".td_kept"), g.mul(rest, mix, key + ".td_mixed"), key + ".td");
}

/// AtdLayerImpl::forward: tokens t (B, Hp*Wp, C), dictionary td -> {t, td}.
std::pair<std::string, std::string> atd_layer(OnnxGraph& g, const std::string& t, const std::string& td, const AtdLayerImpl& l,
                                              const std::string& bias_index, const SwinOnnxShapes& s, const std::string& key) {
  const std::string xn = onnx_layer_norm(g, t, *l.norm1, key + ".norm1");
  const std::string qkv = onnx_linear(g, xn, *l.wqkv, key + ".wqkv");
  const auto [x_atd, sim] = cross_attention(g, xn, td, *l.attn_atd, key + ".attn_atd");
  const std::string x_aca = category_attention(g, qkv, sim, *l.attn_aca, s.c, l.options().num_tokens, key + ".attn_aca");
  const std::string w = window_attention(g, qkv, l, bias_index, s, key + ".attn_win");
  std::string y = g.add(g.add(g.add(t, w, key + ".res_win"), x_atd, key + ".res_atd"), x_aca, key + ".res_aca");
  y = g.add(y, conv_ffn(g, onnx_layer_norm(g, y, *l.norm2, key + ".norm2"), *l.convffn, s, key + ".convffn"), key + ".res_ffn");
  if (l.options().is_last) return {y, td};
  return {y, refine_dictionary(g, sim, y, td, l, key)};
}

SwinOnnxTail atd_tail(const AtdImpl& net) {
  const AtdOptions& o = net.options();
  return swin_onnx_tail_of(net,
                           o.upsampler == AtdUpsampler::kPixelShuffleDirect ? SwinOnnxTail::Kind::kPixelShuffleDirect
                           : o.upsampler == AtdUpsampler::kPixelShuffle     ? SwinOnnxTail::Kind::kPixelShuffle
                                                                            : SwinOnnxTail::Kind::kNearestConv,
                           o.scale);
}

std::string export_atd(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const AtdImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as atd but is not an AtdImpl");
  const AtdOptions& o = net->options();
  check_single_category_group(o, g);
  if (net->no_norm.defined()) g.mark_reproduced("no_norm");  // the flag: no normalisation is emitted
  SwinOnnxShapes s;
  swin_onnx_window_shapes(g, lr, o.window_size, o.embed_dim, s);
  std::string x = mirror_pad(g, lr, s);
  if (o.window_size / 2 > 0) s.mask = swin_onnx_shift_mask(g, s, o.window_size / 2);
  std::string mean, range;
  if (o.norm) x = swin_onnx_normalize(g, x, o.img_range, mean, range);
  const std::string first = export_conv2d(g, x, *net->conv_first, "conv_first", kAtdType);
  std::string t = swin_onnx_map_to_tokens(g, first, "embed");
  if (o.patch_norm) t = onnx_layer_norm(g, t, *net->patch_norm, "patch_embed.norm");
  const std::string bias_index = g.initializer("relative_position_index_SA", net->relative_position_index_SA);
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const std::string key = "layers." + std::to_string(i);
    const auto& block = *net->layers[i];
    std::string h = t;
    std::string td = onnx_unsqueeze(g, g.initializer(key + ".residual_group.td", block.td), 0, key + ".td0");
    for (size_t j = 0; j < block.layers.size(); ++j)
      std::tie(h, td) = atd_layer(g, h, td, *block.layers[j], bias_index, s, key + ".residual_group.layers." + std::to_string(j));
    const std::string conv = swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, h, s, key), block.conv, key + ".conv", kAtdType);
    t = g.add(swin_onnx_map_to_tokens(g, conv, key), t, key + ".skip");
  }
  t = onnx_layer_norm(g, t, *net->norm, "norm");
  const std::string f = g.add(swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, t, s, "body"), net->conv_after_body,
                                                  "conv_after_body", kAtdType),
                              first, "long_skip");
  const std::string y = swin_onnx_tail(g, f, atd_tail(*net), kAtdType);
  if (o.norm) return swin_onnx_denormalize_crop(g, y, mean, range, s, o.scale);
  const std::string ends = g.mul(s.hw, i64(g, {o.scale, o.scale}, "scale"), "output_hw");
  return g.slice(y, i64(g, {0, 0}, "crop_starts"), ends, {2, 3}, "crop");
}

}  // namespace

void register_atd_onnx() {
  register_onnx_exporter("atd", export_atd, {},
                         "ATD-CA, AC-MSA, (S)W-MSA, ConvFFN, dictionary refinement; fixed input size with padded H*W <= "
                         "category_size only (AC-MSA's sort ties)");
}

}  // namespace srlab::models
