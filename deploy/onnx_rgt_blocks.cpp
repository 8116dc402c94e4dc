// ONNX emitters of RGT's blocks (deploy/onnx_rgt.h), node for node after models/arch/rgt_blocks.cpp:
//   L-SA   qkv Linear; V as a map through get_v (3x3 depth-wise Conv); q|k|v grid zero-padded (Pad) to
//          multiples of max(Sh, Sw); per half of the channels: Slice, roll (Slice + Concat), Sh x Sw /
//          Sw x Sh window partition, attention with the dynamic position bias (DPB: Linear, LayerNorm,
//          Relu, gathered by relative_position_index) and the runtime shift mask, window reverse, roll
//          back, crop; Concat of the halves + get_v, proj
//   RG-SA  the map shrunk T times by reduction1 (a Loop whose trip count T is computed from the runtime
//          size), dwconv, conv, LayerNorm + GELU; q from the tokens, k and v from the shrunk tokens;
//          softmax(q k^T * scale); v plus cpe(v as a map); proj
//   MLP    fc1, GELU, Slice in halves, LayerNorm + 3x3 depth-wise Conv of the second half, Mul, fc2
//   block  x + attn(norm1 x), + mlp(norm2 .), + gamma * x
#include <cmath>

#include "deploy/onnx_rgt.h"

namespace srlab::models {

namespace {

std::string rgt_ints(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

std::string rgt_slice_last(OnnxGraph& g, const std::string& x, int64_t from, int64_t to, int64_t axis, const std::string& key) {
  return g.slice(x, rgt_ints(g, {from}, key + "_from"), rgt_ints(g, {to}, key + "_to"), {axis}, key);
}

/// RgtDynamicPosBiasImpl::forward on the rpe_biases buffer: the ((2Mh-1)(2Mw-1), heads) bias table.
std::string rgt_dynamic_pos_bias(OnnxGraph& g, const RgtWindowAttentionImpl& a, const std::string& key) {
  const RgtDynamicPosBiasImpl& p = *a.pos;
  const std::string table = g.initializer(key + ".rpe_biases", a.rpe_biases);
  const std::string pk = key + ".pos";
  if (p.pos_proj->weight.size(0) == 0) {
    // pos_dim 0 (embed_dim < 32): every row is pos3's bias, as the module's shortcut; the other DPB
    // parameters have no elements and are not stored (rgt_onnx_empty_dpb_parameter).
    const std::string rows = g.slice(g.shape(table, key + ".table_shape"), rgt_ints(g, {0}, key + ".rows_from"),
                                     rgt_ints(g, {1}, key + ".rows_to"), {0}, key + ".rows");
    const std::string shape = g.concat({rows, rgt_ints(g, {a.num_heads}, key + ".heads")}, 0, key + ".bias_shape");
    return g.node("Expand", {onnx_unsqueeze(g, g.initializer(pk + ".pos3.2.bias", p.lin3->bias), 0, key + ".bias_row"), shape},
                  key + ".bias_table");
  }
  std::string t = onnx_linear(g, table, *p.pos_proj, pk + ".pos_proj");
  const torch::nn::LayerNormImpl* ln[3] = {p.ln1.get(), p.ln2.get(), p.ln3.get()};
  const torch::nn::LinearImpl* lin[3] = {p.lin1.get(), p.lin2.get(), p.lin3.get()};
  for (int k = 0; k < 3; ++k) {
    const std::string sk = pk + ".pos" + std::to_string(k + 1);
    t = onnx_linear(g, g.relu(onnx_layer_norm(g, t, *ln[k], sk + ".0"), sk + ".1"), *lin[k], sk + ".2");
  }
  return t;
}

/// One L-SA half: window attention of channels [i*half, (i+1)*half) of the padded (N, Hq, Wq, 3, C) grid.
/// Returns (N, H*W, half) tokens.
std::string rgt_lsa_branch(OnnxGraph& g, const std::string& grid, int i, const RgtLocalAttentionImpl& la, const RgtOnnxContext& z,
                           const std::string& key) {
  const RgtWindowAttentionImpl& a = i == 0 ? *la.attn0 : *la.attn1;
  const int64_t half = z.s.c / 2, heads = a.num_heads, hd = half / heads, n = a.win_h * a.win_w;
  const std::string bk = key + ".attns." + std::to_string(i);
  std::string p =
      g.reshape(rgt_slice_last(g, grid, i * half, (i + 1) * half, 4, bk + ".qkv"), rgt_ints(g, {0, 0, 0, -1}, bk + ".pack_shape"),
                bk + ".packed");  // (N, Hq, Wq, 3*half)
  if (la.shifted) p = swin_onnx_rect_roll(g, p, -(a.win_h / 2), -(a.win_w / 2), bk + ".shift");
  const std::string w = swin_onnx_rect_partition(g, p, z.win[i], 3 * half, bk);
  const std::string qkv = g.transpose(g.reshape(w, rgt_ints(g, {-1, n, 3, heads, hd}, bk + ".qkv_shape"), bk + ".qkv_split"),
                                      {2, 0, 3, 1, 4}, bk + ".qkv_heads");  // (3, B', heads, n, hd)
  const auto part = [&](int64_t j, const std::string& name) {
    return g.node("Gather", {qkv, g.constant(torch::tensor(j, torch::kInt64), bk + "." + name + "_index")}, bk + "." + name,
                  {onnx::MakeAttribute("axis", int64_t{0})});
  };
  const std::string bias = g.transpose(
      g.node("Gather",
             {rgt_dynamic_pos_bias(g, a, bk), g.initializer(bk + ".relative_position_index", a.relative_position_index)},
             bk + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}),
      {2, 0, 1}, bk + ".bias");  // (heads, n, n)
  SwinOnnxShapes ms;
  ms.n = z.s.n;
  ms.mask = z.mask[i];
  std::string y =
      swin_onnx_attention_core(g, part(0, "q"), part(1, "k"), part(2, "v"), a.scale, bias, ms, la.shifted, heads, n, n, half, bk);
  y = swin_onnx_rect_reverse(g, y, z.win[i], half, bk);
  if (la.shifted) y = swin_onnx_rect_roll(g, y, a.win_h / 2, a.win_w / 2, bk + ".unshift");
  y = g.slice(y, rgt_ints(g, {0, 0}, bk + ".crop_from"), z.s.padded_hw, {1, 2}, bk + ".crop");
  return g.reshape(y, rgt_ints(g, {0, -1, half}, bk + ".tok_shape"), bk + ".tokens");
}

std::string rgt_local_attention(OnnxGraph& g, const std::string& x, const RgtLocalAttentionImpl& a, const RgtOnnxContext& z,
                                const std::string& key) {
  const int64_t c = z.s.c;
  const std::string qkv = onnx_linear(g, x, *a.qkv, key + ".qkv");  // (N, L, 3C)
  const std::string v_map = rgt_onnx_tokens_to_map(g, rgt_slice_last(g, qkv, 2 * c, 3 * c, 2, key + ".v"), z, c, key + ".v");
  const std::string lcm = swin_onnx_map_to_tokens(g, export_conv2d(g, v_map, *a.get_v, key + ".get_v", z.type), key + ".lcm");
  const std::string grid_shape = g.concat({z.s.n, z.s.padded_hw, rgt_ints(g, {3, c}, key + ".three_c")}, 0, key + ".grid_shape");
  const std::string grid = g.pad(g.reshape(qkv, grid_shape, key + ".grid"), z.lsa_pads, "constant", key + ".zero_pad");
  const std::string cat =
      g.concat({rgt_lsa_branch(g, grid, 0, a, z, key), rgt_lsa_branch(g, grid, 1, a, z, key)}, 2, key + ".cat");
  return onnx_linear(g, g.add(cat, lcm, key + ".plus_lcm"), *a.proj, key + ".proj");
}

/// `conv` applied `z.trips` times to `x` (an ONNX Loop; the body reads the outer-scope weights).
std::string rgt_repeated_conv(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& conv, const RgtOnnxContext& z,
                              const std::string& key) {
  const std::string w = g.initializer(key + ".weight", conv.weight), b = g.initializer(key + ".bias", conv.bias);
  onnx::GraphProto body;
  body.set_name(key + ".loop_body");
  const auto value = [](onnx::ValueInfoProto* v, const std::string& name, int elem, bool scalar) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    if (scalar) t->mutable_shape();
  };
  const std::string it = key + ".loop_iter", cin = key + ".loop_cond_in", xin = key + ".loop_x_in";
  const std::string cout = key + ".loop_cond_out", xout = key + ".loop_x_out";
  value(body.add_input(), it, onnx::TensorProto_DataType_INT64, true);
  value(body.add_input(), cin, onnx::TensorProto_DataType_BOOL, true);
  value(body.add_input(), xin, g.compute_type(), false);
  onnx::NodeProto* id = body.add_node();
  id->set_op_type("Identity");
  id->set_name(cout);
  id->add_input(cin);
  id->add_output(cout);
  onnx::NodeProto* cv = body.add_node();
  cv->set_op_type("Conv");
  cv->set_name(xout);
  for (const auto& in : {xin, w, b}) cv->add_input(in);
  cv->add_output(xout);
  const auto& o = conv.options;
  *cv->add_attribute() = onnx::MakeAttribute("kernel_shape", std::vector<int64_t>{(*o.kernel_size())[0], (*o.kernel_size())[1]});
  *cv->add_attribute() = onnx::MakeAttribute("strides", std::vector<int64_t>{(*o.stride())[0], (*o.stride())[1]});
  *cv->add_attribute() = onnx::MakeAttribute("pads", std::vector<int64_t>{0, 0, 0, 0});
  *cv->add_attribute() = onnx::MakeAttribute("group", static_cast<int64_t>(o.groups()));
  value(body.add_output(), cout, onnx::TensorProto_DataType_BOOL, true);
  value(body.add_output(), xout, g.compute_type(), false);
  return g.node("Loop", {z.trips, "", x}, key + ".loop", {onnx::MakeAttribute("body", body)});
}

std::string rgt_recursive_attention(OnnxGraph& g, const std::string& x, const RgtRecursiveAttentionImpl& a,
                                    const RgtOnnxContext& z, const std::string& key) {
  const int64_t c = z.s.c, heads = a.num_heads, hd_qk = a.cr / heads, hd_v = c / heads;
  const std::string shrunk =
      rgt_repeated_conv(g, rgt_onnx_tokens_to_map(g, x, z, c, key + ".map"), *a.reduction1, z, key + ".reduction1");
  std::string r = export_conv2d(g, export_conv2d(g, shrunk, *a.dwconv, key + ".dwconv", z.type), *a.conv, key + ".conv", z.type);
  r = gelu(g, onnx_layer_norm(g, swin_onnx_map_to_tokens(g, r, key + ".reduced"), *a.norm, key + ".norm_act.0"),
           key + ".norm_act.1");
  const auto heads_of = [&](const std::string& t, int64_t hd, const std::string& k) {
    return g.transpose(g.reshape(t, rgt_ints(g, {0, 0, heads, hd}, k + "_shape"), k + "_split"), {0, 2, 1, 3}, k + "_heads");
  };
  const std::string qh = heads_of(onnx_linear(g, x, *a.q, key + ".q"), hd_qk, key + ".q");
  const std::string kh = heads_of(onnx_linear(g, r, *a.k, key + ".k"), hd_qk, key + ".k");
  const std::string vt = onnx_linear(g, r, *a.v, key + ".v");  // (N, N', C)
  const std::string scores = g.node("MatMul", {qh, g.transpose(kh, {0, 1, 3, 2}, key + ".k_t")}, key + ".scores");
  const std::string attn = g.node("Softmax", {g.mul(scores, scalar_constant(g, a.scale, key + ".scale"), key + ".scaled")},
                                  key + ".softmax", {onnx::MakeAttribute("axis", int64_t{-1})});
  const std::string v_map =
      g.reshape(g.transpose(vt, {0, 2, 1}, key + ".v_t"), g.shape(shrunk, key + ".shrunk_shape"), key + ".v_map");
  const std::string pe = g.transpose(g.reshape(export_conv2d(g, v_map, *a.cpe, key + ".cpe", z.type),
                                               rgt_ints(g, {0, heads, hd_v, -1}, key + ".cpe_shape"), key + ".cpe_split"),
                                     {0, 1, 3, 2}, key + ".cpe_heads");
  const std::string vh = g.add(heads_of(vt, hd_v, key + ".v"), pe, key + ".v_plus_cpe");
  const std::string out = g.transpose(g.node("MatMul", {attn, vh}, key + ".context"), {0, 2, 1, 3}, key + ".merge");
  return onnx_linear(g, g.reshape(out, rgt_ints(g, {0, 0, c}, key + ".merge_shape"), key + ".merged"), *a.proj, key + ".proj");
}

std::string rgt_gated_mlp(OnnxGraph& g, const std::string& x, const RgtMlpImpl& m, const RgtOnnxContext& z,
                          const std::string& key) {
  const int64_t hidden = m.fc1->weight.size(0), c2 = hidden / 2;
  const std::string h = gelu(g, onnx_linear(g, x, *m.fc1, key + ".fc1"), key + ".act");
  const std::string gate_map = rgt_onnx_tokens_to_map(
      g, onnx_layer_norm(g, rgt_slice_last(g, h, c2, hidden, 2, key + ".x2"), *m.sg_norm, key + ".sg.norm"), z, c2, key + ".sg");
  const std::string gate =
      swin_onnx_map_to_tokens(g, export_conv2d(g, gate_map, *m.sg_conv, key + ".sg.conv", z.type), key + ".sg");
  return onnx_linear(g, g.mul(rgt_slice_last(g, h, 0, c2, 2, key + ".x1"), gate, key + ".gated"), *m.fc2, key + ".fc2");
}

}  // namespace

bool rgt_onnx_empty_dpb_parameter(const std::string& key) {
  for (const char* part : {".pos.pos_proj.", ".pos.pos1.", ".pos.pos2.", ".pos.pos3.0.", ".pos.pos3.2.weight"})
    if (key.find(part) != std::string::npos) return true;
  return false;
}

std::string rgt_onnx_tokens_to_map(OnnxGraph& g, const std::string& t, const RgtOnnxContext& z, int64_t channels,
                                   const std::string& key) {
  return g.reshape(g.transpose(t, {0, 2, 1}, key + ".to_map"),
                   g.concat({z.s.n, rgt_ints(g, {channels}, key + ".c"), z.s.padded_hw}, 0, key + ".map_shape"), key + ".map");
}

std::string rgt_onnx_block(OnnxGraph& g, const std::string& x, const RgtBlockImpl& b, const RgtOnnxContext& z,
                           const std::string& key) {
  const std::string n1 = onnx_layer_norm(g, x, *b.norm1, key + ".norm1");
  const std::string a = b.local ? rgt_local_attention(g, n1, *b.local, z, key + ".attn")
                                : rgt_recursive_attention(g, n1, *b.recursive, z, key + ".attn");
  const std::string y = g.add(x, a, key + ".res1");
  const std::string y2 =
      g.add(y, rgt_gated_mlp(g, onnx_layer_norm(g, y, *b.norm2, key + ".norm2"), *b.mlp, z, key + ".mlp"), key + ".res2");
  return g.add(y2, g.mul(x, g.initializer(key + ".gamma", b.gamma), key + ".hai"), key + ".out");
}

}  // namespace srlab::models
