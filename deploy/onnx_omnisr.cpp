// ONNX exporter of OmniSR (models/arch/omnisr.h), dynamic N, H, W: mirrors OmniSrImpl::forward() and the
// blocks of models/arch/omnisr_blocks.cpp node for node (reference: spandrel's OmniSR copy, Wang et al.,
// CVPR 2023). The graph computes:
//   - zero padding of the input at the bottom/right to multiples of M = window_size (Pad "constant", the
//     amounts from the runtime shape: swin_onnx_pad_to_windows of deploy/onnx_swin_blocks.h), and at the end
//     the crop to (s*H, s*W) (Slice);
//   - input / output / up.0 / the OSAGs' 1x1 convs: Conv; the pixel-shuffle upsampler: DepthToSpace CRD;
//   - MBConv (layer.0): Conv, GELU (erf form, onnx_blocks.h), depthwise Conv, GELU, squeeze-excitation as
//     ReduceMean over H, W + Linear (MatMul) + SiLU (x Sigmoid(x)) + Linear + Sigmoid + Reshape (N,C,1,1), Mul;
//   - window / grid self-attention (layer.2 / layer.8): Transpose + Reshape token layouts (window tokens by
//     swin_onnx_partition / swin_onnx_reverse; grid tokens by a Reshape (N,C,M,H/M,M,W/M) + Transpose),
//     LayerNorm from primitives, to_qkv, the shared window attention core (swin_onnx_qkv_attention) with
//     the relative position bias Gathered from rel_pos_bias.weight by a Constant index (the reference's
//     rel_pos_indices is non-persistent: no state-dict key), to_out.0, residual Add;
//   - LayerNorm2d (ReduceMean over channels, channel_layer_norm of onnx_blocks.h), gated FFN (Conv, depthwise
//     Conv, two channel Slices, GELU, Mul, Conv) and window / grid channel attention (Conv, depthwise Conv,
//     three channel Slices, Reshape to (N,4,C/4,H/M,M,W/M,M) + Transpose into groups, L2 normalisation as
//     ReduceL2 + Max(., 1e-12) + Div, MatMul, Mul by temperature, Softmax, MatMul, the inverse layout, Conv);
//   - ESA: Conv 1x1, Conv 3x3 stride 2, MaxPool 7 stride 3, Conv 3x3, Resize linear (pytorch_half_pixel) to
//     the runtime H, W (resize_bilinear_to of onnx_blocks.h), Add, Conv 1x1, Sigmoid, Mul.
// Initializers are the state-dict keys (the `output` conv's value is named "output_conv": "output" is the
// graph output's name). All sizes derive from Shape at run time. Inputs too small for ESA
// (a padded side < 15, below omnisr_min_input_size), which forward() rejects with an error, have no valid
// graph either: ONNX Runtime 1.20 (CPU) dies of SIGFPE on them (seen for 8x8 at M = 8) instead of raising an
// error, so callers must keep inputs >= omnisr_min_input_size(window_size) (9 for M = 8). Nothing of
// OmniSR's configuration space is refused: every option has an exact graph (only a module that is no
// OmniSrImpl, or an `output` conv other than the 3x3 zero-padded one OmniSrImpl builds, is refused).
#include "core/torch_compat.h"
#include "deploy/onnx_blocks.h"
#include "deploy/onnx_swin_blocks.h"
#include "models/arch/omnisr.h"

namespace srlab::models {

namespace {

const char* kOmniSrOnnxType = "omnisr";

/// Runtime shapes of OmniSR's token layouts, besides SwinOnnxShapes' part / rev / map4. All int64 1-D.
struct OmniOnnxShapes {
  SwinOnnxShapes s;
  std::string map;          ///< [N, C, Hp, Wp]
  std::string grid_split;   ///< [N, C, M, Hp/M, M, Wp/M]
  std::string heads_split;  ///< [N, 4, C/4, Hp/M, M, Wp/M, M]
  std::string window_back;  ///< [N, Hp/M, Wp/M, 4, C/4, M, M]
  std::string grid_back;    ///< [N, M, M, 4, C/4, Hp/M, Wp/M]
};

std::string omni_i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }

OmniOnnxShapes omni_shapes(OnnxGraph& g, const SwinOnnxShapes& s, int64_t heads) {
  OmniOnnxShapes o;
  o.s = s;
  const auto at = [&](int64_t i, const std::string& h) {
    return g.slice(s.blocks, omni_i64(g, {i}, h + "_from"), omni_i64(g, {i + 1}, h + "_to"), {0}, h);
  };
  const std::string hb = at(0, "omni_hb"), wb = at(1, "omni_wb"), m = omni_i64(g, {s.m}, "omni_m");
  const std::string c = omni_i64(g, {s.c}, "omni_c"), hd = omni_i64(g, {heads, s.c / heads}, "omni_heads");
  o.map = g.concat({s.n, c, s.padded_hw}, 0, "omni_map_shape");
  o.grid_split = g.concat({s.n, c, m, hb, m, wb}, 0, "omni_grid_split_shape");
  o.heads_split = g.concat({s.n, hd, hb, m, wb, m}, 0, "omni_heads_split_shape");
  o.window_back = g.concat({s.n, hb, wb, hd, m, m}, 0, "omni_window_back_shape");
  o.grid_back = g.concat({s.n, m, m, hd, hb, wb}, 0, "omni_grid_back_shape");
  return o;
}

std::string omni_conv(OnnxGraph& g, const std::string& x, const torch::nn::Conv2d& c, const std::string& key) {
  return export_conv2d(g, x, *c, key, kOmniSrOnnxType);
}

/// The `output` conv (3x3, padding 1, as OmniSrImpl builds it) as a Conv node named "output_conv": export_conv2d
/// would name its value "output", the name reserved for the graph output.
std::string omni_output_conv(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& c) {
  const auto& opt = c.options;
  const auto* pad = torch_compat::get_if<torch::ExpandingArray<2>>(&opt.padding());
  const auto both = [](const torch::ExpandingArray<2>& v, int64_t want) { return v->at(0) == want && v->at(1) == want; };
  if (!pad || opt.transposed() || opt.groups() != 1 || !both(opt.kernel_size(), 3) || !both(opt.stride(), 1) ||
      !both(opt.dilation(), 1) || !both(*pad, 1) || !torch_compat::get_if<torch::enumtype::kZeros>(&opt.padding_mode()))
    refuse_onnx_export(kOmniSrOnnxType, "'output' is not the 3x3 zero-padded convolution OmniSrImpl builds");
  OnnxConvAttrs a;
  a.kernel_shape = {3, 3};
  a.pads = {1, 1, 1, 1};
  const std::string b = c.bias.defined() ? g.initializer("output.bias", c.bias) : "";
  return g.conv(x, g.initializer("output.weight", c.weight), b, a, "output_conv");
}

std::string omni_channels(OnnxGraph& g, const std::string& x, int64_t begin, int64_t end, const std::string& hint) {
  return g.slice(x, omni_i64(g, {begin}, hint + "_begin"), omni_i64(g, {end}, hint + "_end"), {1}, hint);
}

/// OmniMbConvImpl::forward (with its residual), keys <key>.fn.*.
std::string omni_mbconv(OnnxGraph& g, const std::string& x, const OmniMbConvImpl& mb, const std::string& key) {
  const std::string fn = key + ".fn";
  std::string t = gelu(g, omni_conv(g, x, mb.conv_in, fn + ".0"), fn + ".1");
  t = gelu(g, omni_conv(g, t, mb.dwconv, fn + ".2"), fn + ".3");
  const std::string pooled = g.node("ReduceMean", {t}, fn + ".4.mean", {onnx::MakeAttribute("axes", std::vector<int64_t>{2, 3}),
                                                                        onnx::MakeAttribute("keepdims", int64_t{0})});
  const std::string down = onnx_linear(g, pooled, *mb.gate_down, fn + ".4.gate.1");
  const std::string silu = g.mul(down, g.sigmoid(down, fn + ".4.gate.2_sigmoid"), fn + ".4.gate.2");
  const std::string gate = g.sigmoid(onnx_linear(g, silu, *mb.gate_up, fn + ".4.gate.3"), fn + ".4.gate.4");
  t = g.mul(t, g.reshape(gate, omni_i64(g, {0, 0, 1, 1}, fn + ".4.gate_shape"), fn + ".4.gate_map"), fn + ".4");
  return g.add(omni_conv(g, t, mb.conv_out, fn + ".5"), x, key);
}

/// Pre-norm window (grid = false) or grid self-attention stage with its residual, keys <key>.norm / .fn.
std::string omni_self_attention(OnnxGraph& g, const std::string& map, const torch::nn::LayerNormImpl& norm,
                                const OmniAttentionImpl& a, const std::string& key, const OmniOnnxShapes& o, bool grid) {
  const SwinOnnxShapes& s = o.s;
  const int64_t n = s.m * s.m;
  const std::string t =
      grid ? g.reshape(g.transpose(g.reshape(map, o.grid_split, key + ".grid6"), {0, 3, 5, 2, 4, 1}, key + ".grid_t"),
                       omni_i64(g, {-1, n, s.c}, key + ".tok_shape"), key + ".tokens")
           : swin_onnx_partition(g, g.transpose(map, {0, 2, 3, 1}, key + ".nhwc"), s, key);
  const std::string fn = key + ".fn";
  const std::string qkv = onnx_linear(g, onnx_layer_norm(g, t, norm, key + ".norm"), *a.to_qkv, fn + ".to_qkv");
  const std::string bias = a.rel_pos_bias.is_empty() ? std::string()
                                                     : swin_onnx_relative_bias_const(g, a.rel_pos_bias->weight,
                                                                                     fn + ".rel_pos_bias.weight", a.rel_pos_indices, fn);
  const std::string y = g.add(onnx_linear(g, swin_onnx_qkv_attention(g, qkv, a.heads, n, s.c, bias, s, false, fn), *a.to_out,
                                          fn + ".to_out.0"),
                              t, key + ".residual");
  if (!grid) return g.transpose(swin_onnx_reverse(g, y, s, key), {0, 3, 1, 2}, key + ".map");
  return g.reshape(g.transpose(g.reshape(y, s.rev, key + ".ungrid6"), {0, 5, 3, 1, 4, 2}, key + ".ungrid_t"), o.map, key + ".map");
}

/// OmniGatedFfnImpl::forward, keys <key>.*.
std::string omni_gated_ffn(OnnxGraph& g, const std::string& x, const OmniGatedFfnImpl& f, const std::string& key) {
  const std::string t = omni_conv(g, omni_conv(g, x, f.project_in, key + ".project_in"), f.dwconv, key + ".dwconv");
  const int64_t c = f.project_in->options.out_channels() / 2;
  const std::string a = omni_channels(g, t, 0, c, key + ".a"), b = omni_channels(g, t, c, 2 * c, key + ".b");
  return omni_conv(g, g.mul(gelu(g, a, key + ".gelu"), b, key + ".gated"), f.project_out, key + ".project_out");
}

/// F::normalize(x, dim -1): x / max(||x||_2, 1e-12).
std::string omni_l2_normalize(OnnxGraph& g, const std::string& x, const std::string& key) {
  const std::string norm = g.node("ReduceL2", {x}, key + "_norm", {onnx::MakeAttribute("axes", std::vector<int64_t>{-1}),
                                                                    onnx::MakeAttribute("keepdims", int64_t{1})});
  return g.div(x, g.node("Max", {norm, scalar_constant(g, 1e-12, key + "_eps")}, key + "_clamped"), key);
}

/// OmniChannelAttentionImpl::forward (window or grid groups), keys <key>.*.
std::string omni_channel_attention(OnnxGraph& g, const std::string& x, const OmniChannelAttentionImpl& ca, const std::string& key,
                                   const OmniOnnxShapes& o) {
  const int64_t c = o.s.c, m = o.s.m, heads = ca.heads, d = c / heads;
  const std::string t = omni_conv(g, omni_conv(g, x, ca.qkv, key + ".qkv"), ca.qkv_dwconv, key + ".qkv_dwconv");
  const std::vector<int64_t> order = ca.grid ? std::vector<int64_t>{0, 4, 6, 1, 2, 3, 5} : std::vector<int64_t>{0, 3, 5, 1, 2, 4, 6};
  const std::vector<int64_t> groups = ca.grid ? std::vector<int64_t>{0, m * m, heads, d, -1} : std::vector<int64_t>{0, -1, heads, d, m * m};
  const auto split = [&](int64_t i, const std::string& name) {
    const std::string k = key + "." + name;
    const std::string part = omni_channels(g, t, i * c, (i + 1) * c, k);
    return g.reshape(g.transpose(g.reshape(part, o.heads_split, k + "_heads"), order, k + "_t"),
                     omni_i64(g, groups, k + "_group_shape"), k + "_groups");
  };
  const std::string q = omni_l2_normalize(g, split(0, "q"), key + ".q_normed");
  const std::string k = omni_l2_normalize(g, split(1, "k"), key + ".k_normed");
  const std::string v = split(2, "v");
  const std::string scores = g.node("MatMul", {q, g.transpose(k, {0, 1, 2, 4, 3}, key + ".k_t")}, key + ".scores");
  const std::string attn = g.node("Softmax", {g.mul(scores, g.initializer(key + ".temperature", ca.temperature), key + ".scaled")},
                                  key + ".softmax", {onnx::MakeAttribute("axis", int64_t{-1})});
  const std::string out = g.node("MatMul", {attn, v}, key + ".context");  // (N, groups, 4, C/4, tokens)
  const std::string back = ca.grid ? g.transpose(g.reshape(out, o.grid_back, key + ".back7"), {0, 3, 4, 5, 1, 6, 2}, key + ".back_t")
                                   : g.transpose(g.reshape(out, o.window_back, key + ".back7"), {0, 3, 4, 1, 5, 2, 6}, key + ".back_t");
  return omni_conv(g, g.reshape(back, o.map, key + ".map"), ca.project_out, key + ".project_out");
}

/// OsaBlockImpl::forward, keys <key>.layer.<i>.
std::string omni_osa_block(OnnxGraph& g, const std::string& x, const OsaBlockImpl& b, const std::string& key,
                           const OmniOnnxShapes& o) {
  const auto stage = [&](int i) { return key + ".layer." + std::to_string(i); };
  const auto norm2d = [&](const std::string& y, int idx, int i) {
    const OmniLayerNorm2dImpl& n = *b.conv_norms[idx];
    return channel_layer_norm(g, y, n.weight, n.bias, n.eps, stage(i) + ".norm");
  };
  const auto ffn = [&](const std::string& y, int idx, int f, int i) {  // conv_norms[idx], ffns[f], layer.<i>
    return g.add(omni_gated_ffn(g, norm2d(y, idx, i), *b.ffns[f], stage(i) + ".fn"), y, stage(i));
  };
  const auto channel = [&](const std::string& y, int idx, int i, const OmniChannelAttentionImpl& ca) {
    return g.add(omni_channel_attention(g, norm2d(y, idx, i), ca, stage(i) + ".fn", o), y, stage(i));
  };
  std::string y = omni_mbconv(g, x, *b.mbconv, stage(0));
  y = omni_self_attention(g, y, *b.window_norm, *b.window_attn, stage(2), o, false);
  y = channel(ffn(y, 0, 0, 4), 1, 5, *b.window_channel);
  y = ffn(y, 2, 1, 6);
  y = omni_self_attention(g, y, *b.grid_norm, *b.grid_attn, stage(8), o, true);
  y = channel(ffn(y, 3, 2, 10), 4, 11, *b.grid_channel);
  return ffn(y, 5, 3, 12);
}

/// OmniEsaImpl::forward, keys <key>.conv*.
std::string omni_esa(OnnxGraph& g, const std::string& x, const OmniEsaImpl& e, const std::string& key) {
  const std::string c1 = omni_conv(g, x, e.conv1, key + ".conv1");
  const std::string pooled = g.node("MaxPool", {omni_conv(g, c1, e.conv2, key + ".conv2")}, key + ".max_pool",
                                    {onnx::MakeAttribute("kernel_shape", std::vector<int64_t>{7, 7}),
                                     onnx::MakeAttribute("strides", std::vector<int64_t>{3, 3})});
  const std::string up = resize_bilinear_to(g, omni_conv(g, pooled, e.conv3, key + ".conv3"), x, key + ".upsample");
  const std::string cf = omni_conv(g, c1, e.conv_f, key + ".conv_f");
  const std::string m = g.sigmoid(omni_conv(g, g.add(up, cf, key + ".sum"), e.conv4, key + ".conv4"), key + ".mask");
  return g.mul(x, m, key);
}

std::string export_omnisr(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const OmniSrImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as omnisr but is not an OmniSrImpl");
  const OmniSrOptions& opt = net->options();
  SwinOnnxShapes s;
  const std::string x = swin_onnx_pad_to_windows(g, lr, opt.window_size, opt.num_feat, s, "constant");
  const OmniOnnxShapes o = omni_shapes(g, s, net->groups.at(0)->blocks.at(0)->window_channel->heads);
  const std::string r = omni_conv(g, x, net->input, "input");
  std::string y = r;
  for (size_t gi = 0; gi < net->groups.size(); ++gi) {
    const OsagImpl& group = *net->groups[gi];
    const std::string key = "residual_layer." + std::to_string(gi);
    std::string h = y;
    for (size_t b = 0; b < group.blocks.size(); ++b)
      h = omni_osa_block(g, h, *group.blocks[b], key + ".residual_layer." + std::to_string(b), o);
    h = g.add(omni_conv(g, h, group.conv, key + ".residual_layer." + std::to_string(group.blocks.size())), y, key + ".skip");
    y = omni_esa(g, h, *group.esa, key + ".esa");
  }
  y = g.add(omni_output_conv(g, y, *net->output), r, "long_skip");
  y = g.depth_to_space(omni_conv(g, y, net->up, "up.0"), opt.scale, "pixel_shuffle");
  const std::string ends = g.mul(s.hw, omni_i64(g, {opt.scale, opt.scale}, "scale"), "output_hw");
  return g.slice(y, omni_i64(g, {0, 0}, "crop_starts"), ends, {2, 3}, "crop");
}

}  // namespace

void register_omnisr_onnx() {
  register_onnx_exporter("omnisr", export_omnisr, {},
                         "OSA blocks (window/grid attention with relative bias, channel attention), ESA; zero padding to the window size");
}

}  // namespace srlab::models
