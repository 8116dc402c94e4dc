// ONNX exporter of SwinIR (models/arch/swinir.h), dynamic N, H, W: mirrors SwinIrImpl::forward() and the
// blocks of models/arch/swinir_blocks.h node for node. The window count, the padded size and the
// shifted-window mask depend on the input size (SwinIR issue 145: a traced export freezes them), so they
// are computed in the graph from the runtime shape:
//   - [H/M, W/M] rounded up is the shape of x[:, :, ::M, ::M] (as the RRDBNet exporter does), so the
//     reflect padding, the window partition Reshapes and the final crop need no integer Div/Mod;
//   - the mask is built as swin_shift_attention_mask() defines it: region labels from Range +
//     GreaterOrEqual per row and column, partitioned into windows, Equal across token pairs, -100 where
//     they differ. The attn_mask buffers (the same mask for img_size x img_size inputs) are checked to
//     equal that formula at export time and are then not stored (refused when they differ).
// LayerNorm is emitted as ReduceMean/Sub/Mul/Sqrt/Div (opset 13-17; LayerNormalization is opset 17),
// GELU as 0.5 x (1 + Erf(x / sqrt 2)) (Gelu is opset 20), Linear as MatMul with the transposed weight.
#include "deploy/onnx_blocks.h"
#include "deploy/onnx_export.h"
#include "models/arch/swinir.h"

#include <cmath>
#include <limits>

namespace srlab::models {

namespace {

const char* kSwinIrType = "swinir";
constexpr int64_t kEnd = std::numeric_limits<int32_t>::max();  // Slice ends are clamped to the dims

/// Values that depend on the runtime input size, shared by every block.
struct SwinShapes {
  int64_t m = 0, c = 0;
  std::string n;          ///< [N]
  std::string blocks;     ///< [H/M, W/M] of the padded map
  std::string part;       ///< [N, H/M, M, W/M, M, C]: tokens -> windows before the Transpose
  std::string rev;        ///< [N, H/M, W/M, M, M, C]: windows -> map before the Transpose
  std::string map4;       ///< [N, Hp, Wp, C]
  std::string mask;       ///< (nW, M^2, M^2) shifted-window mask, or "" when no block is shifted
};

std::string i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) {
  return g.constant(torch::tensor(v, torch::kInt64), hint);
}

std::string unsqueeze(OnnxGraph& g, const std::string& x, int64_t axis, const std::string& hint) {
  return g.node("Unsqueeze", {x, i64(g, {axis}, hint + "_axes")}, hint);
}

std::string layer_norm(OnnxGraph& g, const std::string& x, const torch::nn::LayerNormImpl& ln, const std::string& key) {
  const auto mean = [&](const std::string& v, const std::string& hint) {
    return g.node("ReduceMean", {v}, hint, {onnx::MakeAttribute("axes", std::vector<int64_t>{-1}),
                                            onnx::MakeAttribute("keepdims", int64_t{1})});
  };
  const std::string d = g.sub(x, mean(x, key + ".mean"), key + ".centered");
  const std::string var = mean(g.mul(d, d, key + ".sq"), key + ".var");
  const std::string eps = scalar_constant(g, ln.options.eps(), key + ".eps");
  const std::string y = g.div(d, g.node("Sqrt", {g.add(var, eps, key + ".var_eps")}, key + ".std"), key + ".normed");
  return g.add(g.mul(y, g.initializer(key + ".weight", ln.weight), key + ".scale"), g.initializer(key + ".bias", ln.bias),
               key);
}

std::string linear(OnnxGraph& g, const std::string& x, const torch::nn::LinearImpl& l, const std::string& key) {
  const std::string wt = g.transpose(g.initializer(key + ".weight", l.weight), {1, 0}, key + ".weight_t");
  const std::string y = g.node("MatMul", {x, wt}, key + ".matmul");
  return l.bias.defined() ? g.add(y, g.initializer(key + ".bias", l.bias), key) : y;
}


/// Window attention on (B*nW, M^2, C) windows.
std::string window_attention(OnnxGraph& g, const std::string& x, const WindowAttentionImpl& a, const std::string& key,
                             const SwinShapes& s, bool masked) {
  const int64_t n = s.m * s.m, h = a.num_heads, hd = s.c / h;
  const std::string qkv = g.transpose(g.reshape(linear(g, x, *a.qkv, key + ".qkv"), i64(g, {-1, n, 3, h, hd}, key + ".qkv_shape"),
                                                key + ".qkv_split"),
                                      {2, 0, 3, 1, 4}, key + ".qkv_heads");  // (3, B*nW, h, N, hd)
  const auto part = [&](int64_t i, const std::string& name) {
    return g.node("Gather", {qkv, g.constant(torch::tensor(i, torch::kInt64), key + "." + name + "_index")}, key + "." + name,
                  {onnx::MakeAttribute("axis", int64_t{0})});
  };
  const std::string q = g.mul(part(0, "q"), scalar_constant(g, std::pow(static_cast<double>(hd), -0.5), key + ".qk_scale"),
                              key + ".q_scaled");
  std::string attn = g.node("MatMul", {q, g.transpose(part(1, "k"), {0, 1, 3, 2}, key + ".k_t")}, key + ".scores");
  const std::string bias = g.transpose(
      g.node("Gather", {g.initializer(key + ".relative_position_bias_table", a.relative_position_bias_table),
                        g.initializer(key + ".relative_position_index", a.relative_position_index)},
             key + ".bias_gather", {onnx::MakeAttribute("axis", int64_t{0})}),
      {2, 0, 1}, key + ".bias");  // (h, N, N)
  attn = g.add(attn, bias, key + ".biased");
  if (masked) {
    const std::string split = g.reshape(attn, g.concat({s.n, i64(g, {-1, h, n, n}, key + ".per_image")}, 0, key + ".per_image_shape"),
                                        key + ".per_image_scores");
    attn = g.reshape(g.add(split, unsqueeze(g, s.mask, 1, key + ".mask"), key + ".masked"), i64(g, {-1, h, n, n}, key + ".flat"),
                     key + ".masked_scores");
  }
  attn = g.node("Softmax", {attn}, key + ".softmax", {onnx::MakeAttribute("axis", int64_t{-1})});
  const std::string out = g.transpose(g.node("MatMul", {attn, part(2, "v")}, key + ".context"), {0, 2, 1, 3}, key + ".merge");
  return linear(g, g.reshape(out, i64(g, {-1, n, s.c}, key + ".merge_shape"), key + ".merged"), *a.proj, key + ".proj");
}

/// torch::roll(x, {d, d}, {1, 2}) for (N, Hp, Wp, C) and |d| < M.
std::string roll(OnnxGraph& g, const std::string& x, int64_t d, const std::string& key) {
  std::string y = x;
  for (int64_t axis : {1, 2}) {
    const std::string ax = key + "_ax" + std::to_string(axis);
    const std::string head = g.slice(y, i64(g, {-d}, ax + "_from"), i64(g, {kEnd}, ax + "_end"), {axis}, ax + "_tail");
    const std::string rest = g.slice(y, i64(g, {0}, ax + "_zero"), i64(g, {-d}, ax + "_to"), {axis}, ax + "_head");
    y = g.concat({head, rest}, axis, ax);
  }
  return y;
}

std::string swin_block(OnnxGraph& g, const std::string& t, const SwinTransformerBlockImpl& b, const std::string& key,
                       const SwinShapes& s) {
  const int64_t shift = b.options().shift, m = s.m;
  std::string h = layer_norm(g, t, *b.norm1, key + ".norm1");
  if (shift > 0) h = roll(g, g.reshape(h, s.map4, key + ".map"), -shift, key + ".shift");
  const std::string win = g.reshape(
      g.transpose(g.reshape(h, s.part, key + ".part6"), {0, 1, 3, 2, 4, 5}, key + ".part_t"), i64(g, {-1, m * m, s.c}, key + ".win_shape"),
      key + ".windows");
  h = window_attention(g, win, *b.attn, key + ".attn", s, shift > 0);
  h = g.reshape(g.transpose(g.reshape(h, s.rev, key + ".rev6"), {0, 1, 3, 2, 4, 5}, key + ".rev_t"), s.map4, key + ".unpart");
  if (shift > 0) h = roll(g, h, shift, key + ".unshift");
  const std::string y = g.add(t, g.reshape(h, i64(g, {0, -1, s.c}, key + ".tok_shape"), key + ".tokens"), key + ".res1");
  const std::string z = linear(g, gelu(g, linear(g, layer_norm(g, y, *b.norm2, key + ".norm2"), *b.fc1, key + ".mlp.fc1"), key + ".mlp.gelu"),
                               *b.fc2, key + ".mlp.fc2");
  return g.add(y, z, key + ".res2");
}

std::string resi_conv(OnnxGraph& g, const std::string& x, const SwinResiConv& rc, const std::string& key) {
  if (!rc.three_conv()) return export_conv2d(g, x, *rc.first, key, kSwinIrType);
  std::string y = g.leaky_relu(export_conv2d(g, x, *rc.first, key + ".0", kSwinIrType), kSwinLeakySlope, key + ".1");
  y = g.leaky_relu(export_conv2d(g, y, *rc.mid, key + ".2", kSwinIrType), kSwinLeakySlope, key + ".3");
  return export_conv2d(g, y, *rc.last, key + ".4", kSwinIrType);
}

/// The shifted-window mask of swin_shift_attention_mask() for the runtime padded size.
std::string shift_mask(OnnxGraph& g, const SwinShapes& s, const std::string& padded_hw, int64_t shift) {
  const auto labels = [&](int64_t i, const std::string& axis) {
    const std::string k = "mask_" + axis;
    const std::string size = g.node("Squeeze", {g.slice(padded_hw, i64(g, {i}, k + "_i"), i64(g, {i + 1}, k + "_j"), {0}, k + "_dim"),
                                                i64(g, {0}, k + "_sq")}, k + "_size");
    const std::string r = g.node("Range", {g.constant(torch::tensor(int64_t{0}), k + "_start"), size,
                                           g.constant(torch::tensor(int64_t{1}), k + "_step")}, k + "_range");
    const auto at_least = [&](int64_t back, const std::string& hint) {
      const std::string lim = g.sub(size, g.constant(torch::tensor(back), hint + "_back"), hint + "_lim");
      return g.cast(g.node("GreaterOrEqual", {r, lim}, hint + "_ge"), onnx::TensorProto_DataType_INT64, hint);
    };
    return g.add(at_least(s.m, k + "_win"), at_least(shift, k + "_shift"), k);
  };
  const std::string rows = g.mul(unsqueeze(g, labels(0, "rows"), 1, "mask_rows_col"), i64(g, {3}, "mask_three"), "mask_rows3");
  const std::string label = g.add(rows, unsqueeze(g, labels(1, "cols"), 0, "mask_cols_row"), "mask_label");  // (Hp, Wp)
  const std::string one = i64(g, {1}, "mask_one"), mm = i64(g, {s.m}, "mask_m");
  const std::string b0 = g.slice(s.blocks, i64(g, {0}, "mb0"), i64(g, {1}, "mb1"), {0}, "mask_hb");
  const std::string b1 = g.slice(s.blocks, i64(g, {1}, "mb2"), i64(g, {2}, "mb3"), {0}, "mask_wb");
  const std::string six = g.concat({one, b0, mm, b1, mm, one}, 0, "mask_part_shape");
  const std::string win = g.reshape(g.transpose(g.reshape(label, six, "mask_part6"), {0, 1, 3, 2, 4, 5}, "mask_part_t"),
                                    i64(g, {-1, s.m * s.m}, "mask_win_shape"), "mask_windows");  // (nW, N)
  const std::string same = g.node("Equal", {unsqueeze(g, win, 1, "mask_wi"), unsqueeze(g, win, 2, "mask_wj")}, "mask_same");
  const std::string differs = g.cast(g.node("Not", {same}, "mask_differs"), g.compute_type(), "mask_differs_f");
  return g.mul(differs, scalar_constant(g, -100.0, "mask_value"), "shift_mask");
}

/// Refuses attn_mask buffers that are not the official formula (then they would not be reproduced).
void check_mask_buffers(const SwinIrImpl& net, OnnxGraph& g) {
  for (const auto& kv : net.named_buffers()) {
    if (kv.key().size() < 9 || kv.key().compare(kv.key().size() - 9, 9, "attn_mask") != 0) continue;
    const auto& o = net.options();
    const torch::Tensor want = swin_shift_attention_mask(o.img_size, o.img_size, o.window_size, net.block_shift());
    if (!torch::equal(kv.value().to(torch::kCPU, torch::kFloat32), want))
      refuse_onnx_export(kSwinIrType, "buffer '" + kv.key() + "' differs from the shifted-window mask of img_size " +
                                    std::to_string(o.img_size) + " (a modified weight file?); the exported graph computes the mask");
    g.mark_reproduced(kv.key());
  }
}

std::string export_swinir(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const SwinIrImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as swinir but is not a SwinIrImpl");
  const SwinIrOptions& o = net->options();
  check_mask_buffers(*net, g);
  SwinShapes s;
  s.m = o.window_size;
  s.c = o.embed_dim;
  const auto hw_of = [&g](const std::string& v, const std::string& hint) {
    return g.slice(g.shape(v, hint + "_shape"), i64(g, {2}, hint + "_from"), i64(g, {4}, hint + "_to"), {0}, hint);
  };
  const std::string hw = hw_of(lr, "input_hw");
  const std::string strided = g.slice(lr, i64(g, {0, 0}, "stride_starts"), i64(g, {kEnd, kEnd}, "stride_ends"), {2, 3}, "stride_m", {s.m, s.m});
  s.blocks = hw_of(strided, "blocks_hw");
  const std::string padded_hw = g.mul(s.blocks, i64(g, {s.m, s.m}, "window"), "padded_hw");
  const std::string pads = g.concat({i64(g, {0, 0, 0, 0, 0, 0}, "pads_begin"), g.sub(padded_hw, hw, "pad_hw")}, 0, "pads");
  std::string x = g.pad(lr, pads, "reflect", "reflect_pad");
  s.n = g.slice(g.shape(lr, "batch_shape"), i64(g, {0}, "n_from"), i64(g, {1}, "n_to"), {0}, "batch");
  const std::string mm = i64(g, {s.m}, "m"), cc = i64(g, {s.c}, "c");
  const std::string hb = g.slice(s.blocks, i64(g, {0}, "hb_from"), i64(g, {1}, "hb_to"), {0}, "hb");
  const std::string wb = g.slice(s.blocks, i64(g, {1}, "wb_from"), i64(g, {2}, "wb_to"), {0}, "wb");
  s.part = g.concat({s.n, hb, mm, wb, mm, cc}, 0, "part_shape");
  s.rev = g.concat({s.n, hb, wb, mm, mm, cc}, 0, "rev_shape");
  s.map4 = g.concat({s.n, padded_hw, cc}, 0, "map4_shape");
  if (net->block_shift() > 0) s.mask = shift_mask(g, s, padded_hw, net->block_shift());

  const std::string mean = g.constant(torch::tensor({kSwinIrRgbMean[0], kSwinIrRgbMean[1], kSwinIrRgbMean[2]}).view({1, 3, 1, 1}), "rgb_mean");
  const std::string range = scalar_constant(g, o.img_range, "img_range");
  x = g.mul(g.sub(x, mean, "centered"), range, "scaled");
  const std::string first = export_conv2d(g, x, *net->conv_first, "conv_first", kSwinIrType);
  std::string t = g.transpose(g.reshape(first, i64(g, {0, 0, -1}, "flat_shape"), "flat"), {0, 2, 1}, "tokens");
  if (o.patch_norm) t = layer_norm(g, t, *net->patch_norm, "patch_embed.norm");
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const std::string key = "layers." + std::to_string(i);
    const auto& layer = *net->layers[i];
    std::string h = t;
    for (size_t j = 0; j < layer.blocks.size(); ++j)
      h = swin_block(g, h, *layer.blocks[j], key + ".residual_group.blocks." + std::to_string(j), s);
    const std::string map_shape = g.concat({s.n, cc, padded_hw}, 0, key + ".map_shape");
    const std::string map = g.reshape(g.transpose(h, {0, 2, 1}, key + ".to_map"), map_shape, key + ".map");
    const std::string conv = resi_conv(g, map, layer.conv, key + ".conv");
    t = g.add(g.transpose(g.reshape(conv, i64(g, {0, 0, -1}, key + ".flat_shape"), key + ".flat"), {0, 2, 1}, key + ".tokens"), t,
              key + ".skip");
  }
  t = layer_norm(g, t, *net->norm, "norm");
  const std::string feat_map = g.reshape(g.transpose(t, {0, 2, 1}, "body_to_map"), g.concat({s.n, cc, padded_hw}, 0, "body_map_shape"), "body_map");
  const std::string f = g.add(resi_conv(g, feat_map, net->conv_after_body, "conv_after_body"), first, "long_skip");

  const int64_t sc = o.scale;
  std::string y;
  if (o.upsampler == SwinIrUpsampler::kPixelShuffleDirect) {
    y = g.depth_to_space(export_conv2d(g, f, *net->upsample[0], "upsample.0", kSwinIrType), sc, "upsample.1");
  } else {
    y = g.leaky_relu(export_conv2d(g, f, *net->conv_before_upsample, "conv_before_upsample.0", kSwinIrType), 0.01f, "conv_before_upsample.1");
    if (o.upsampler == SwinIrUpsampler::kPixelShuffle) {
      for (size_t k = 0; k < net->upsample.size(); ++k)
        y = g.depth_to_space(export_conv2d(g, y, *net->upsample[k], "upsample." + std::to_string(2 * k), kSwinIrType), sc == 3 ? 3 : 2,
                             "upsample." + std::to_string(2 * k + 1));
    } else {
      const torch::nn::Conv2d ups[3] = {net->conv_up1, net->conv_up2, net->conv_up3};
      for (int k = 0; k < 3 && !ups[k].is_empty(); ++k) {
        const std::string key = "conv_up" + std::to_string(k + 1);
        y = g.leaky_relu(export_conv2d(g, g.resize(y, 2, OnnxResizeMode::kNearest, key + ".nearest"), *ups[k], key, kSwinIrType),
                         static_cast<float>(kSwinLeakySlope), key + ".lrelu");
      }
      y = g.leaky_relu(export_conv2d(g, y, *net->conv_hr, "conv_hr", kSwinIrType), static_cast<float>(kSwinLeakySlope), "conv_hr.lrelu");
    }
    y = export_conv2d(g, y, *net->conv_last, "conv_last", kSwinIrType);
  }
  y = g.add(g.div(y, range, "unscaled"), mean, "uncentered");
  const std::string ends = g.mul(hw, i64(g, {sc, sc}, "scale"), "output_hw");
  return g.slice(y, i64(g, {0, 0}, "crop_starts"), ends, {2, 3}, "crop");
}

}  // namespace

void register_swinir_onnx() { register_onnx_exporter("swinir", export_swinir, {}, "shifted-window attention, reflect padding to the window size; stored attn_mask checked"); }

}  // namespace srlab::models
