// ONNX exporter of RGT (models/arch/rgt.h), dynamic N, H, W; mirrors RgtImpl::forward() in eval mode:
//   input padding  the reference needs h, w >= 16 and >= 4^T (T = max(2, floor(log4(max(h, w) / 16))));
//                  RgtImpl reflect-pads (repeating the reflection) at the bottom/right: here one Gather
//                  per axis with the triangle-wave index min(i mod (2n-2), 2n-2 - i mod (2n-2)), which
//                  is what the repeated reflection yields (n = 1: replicate), 16 and 4^T from the
//                  runtime shape (T by comparisons with the thresholds of rgt_reduction_steps, exact)
//   normalisation  (x - DIV2K mean) * img_range, and back + crop to (s*h, s*w) (onnx_swin_blocks.h)
//   body           conv_first, before_RG LayerNorm, residual groups of blocks (deploy/onnx_rgt_blocks.cpp:
//                  L-SA with rectangular shifted windows, RG-SA with a Loop of T reductions, gated MLP,
//                  gamma) + resi_connection (1conv/3conv), norm, conv_after_body + long skip
//   tail           SwinIR's pixelshuffle reconstruction (conv_before_upsample + LeakyReLU 0.01,
//                  upsample, conv_last)
// The two L-SA shift masks are computed once from the runtime size (swin_onnx_rect_shift_mask); the
// stored attn_mask_{0,1} buffers (LibTorch uses them for img_size x img_size maps) are checked to equal
// that formula at export time and are not stored. rpe_biases and relative_position_index are stored and
// the DPB runs in the graph. Refused: split_size whose larger entry is not a multiple of the smaller (L-SA
// pads to multiples of the larger only, so the model itself cannot partition most sizes), and modified
// attn_mask buffers.
#include "deploy/onnx_rgt.h"

#include <algorithm>

#include "models/arch/arch_util.h"
#include "models/arch/swinir.h"

namespace srlab::models {

namespace {

const char* kRgtType = "rgt";

static_assert(kSwinIrRgbMean[0] == kDiv2kRgbMean[0] && kSwinIrRgbMean[1] == kDiv2kRgbMean[1] &&
                  kSwinIrRgbMean[2] == kDiv2kRgbMean[2],
              "RGT normalises with the DIV2K mean that swin_onnx_normalize uses");

std::string rgt_i64(OnnxGraph& g, const std::vector<int64_t>& v, const std::string& hint) { return int64_vector(g, v, hint); }
std::string rgt_scalar64(OnnxGraph& g, int64_t v, const std::string& hint) { return g.constant(torch::tensor(v), hint); }

std::string rgt_element(OnnxGraph& g, const std::string& v, int64_t i, const std::string& hint) {
  return g.slice(v, rgt_i64(g, {i}, hint + "_from"), rgt_i64(g, {i + 1}, hint + "_to"), {0}, hint);
}
std::string rgt_squeeze0(OnnxGraph& g, const std::string& v, const std::string& hint) {
  return g.node("Squeeze", {v, rgt_i64(g, {0}, hint + "_axes")}, hint);
}

bool rgt_any_shifted(const RgtOptions& o) {
  for (size_t i = 0; i < o.depth.size(); ++i)
    for (int j = 0; j < o.depth[i]; ++j)
      if (rgt_block_shifted(static_cast<int>(i), j)) return true;
  return false;
}

void rgt_check_options_and_masks(const RgtImpl& net, OnnxGraph& g) {
  const RgtOptions& o = net.options();
  const int64_t sh = o.split_size.at(0), sw = o.split_size.at(1);
  if (std::max(sh, sw) % std::min(sh, sw) != 0)
    refuse_onnx_export(kRgtType, "split_size [" + std::to_string(sh) + ", " + std::to_string(sw) +
                                     "]: L-SA pads to multiples of the larger entry only, so the smaller must divide it "
                                     "(else the model cannot partition most sizes); use e.g. [8, 32] or [8, 8]");
  for (const auto& kv : net.named_buffers()) {
    const std::string& k = kv.key();
    const bool m0 = k.size() > 12 && k.compare(k.size() - 12, 12, ".attn_mask_0") == 0;
    const bool m1 = k.size() > 12 && k.compare(k.size() - 12, 12, ".attn_mask_1") == 0;
    if (!m0 && !m1) continue;
    const int64_t wh = m0 ? sh : sw, ww = m0 ? sw : sh;
    const torch::Tensor want = swin_rect_shift_attention_mask(o.img_size, o.img_size, wh, ww, wh / 2, ww / 2);
    if (!torch::equal(kv.value().to(torch::kCPU, torch::kFloat32), want))
      refuse_onnx_export(kRgtType, "buffer '" + k + "' differs from the shifted-window mask of img_size " +
                                       std::to_string(o.img_size) +
                                       " (a modified weight file?); the exported graph computes the mask");
    g.mark_reproduced(k);
  }
}

/// [T] = [max(2, steps(max(h, w) / 16))] as rgt_reduction_steps(h, w, false): 2 + the number of k >= 3 with
/// max(h, w) >= the smallest size whose T is >= k (found with the model's own function, so float log
/// rounding is reproduced exactly).
std::string rgt_onnx_steps(OnnxGraph& g, const std::string& hw) {
  std::vector<int64_t> thresholds;
  for (int64_t k = 3; k <= 14; ++k) {
    int64_t lo = 1, hi = int64_t{1} << 40;  // smallest n with rgt_reduction_steps(n, 1) >= k
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (rgt_reduction_steps(mid, 1, false) >= k)
        hi = mid;
      else
        lo = mid + 1;
    }
    thresholds.push_back(lo);
  }
  const std::string mx = g.node("ReduceMax", {hw}, "max_hw", {onnx::MakeAttribute("keepdims", int64_t{1})});
  const std::string over = g.cast(g.node("GreaterOrEqual", {mx, rgt_i64(g, thresholds, "t_thresholds")}, "t_reached"),
                                  onnx::TensorProto_DataType_INT64, "t_reached_i");
  return g.add(g.node("ReduceSum", {over}, "t_extra", {onnx::MakeAttribute("keepdims", int64_t{1})}), rgt_i64(g, {2}, "t_min"),
               "steps");
}

/// pad_reflect of rgt.cpp on axis 2 or 3 from size `n` to `out` (int64 [1] values) as one Gather.
std::string rgt_reflect_repeat(OnnxGraph& g, const std::string& x, int64_t axis, const std::string& n, const std::string& out) {
  const std::string k = "reflect_ax" + std::to_string(axis);
  const std::string size = rgt_squeeze0(g, n, k + "_n");
  const std::string idx = g.node(
      "Range", {rgt_scalar64(g, 0, k + "_zero"), rgt_squeeze0(g, out, k + "_out"), rgt_scalar64(g, 1, k + "_one")}, k + "_range");
  const std::string period =
      g.sub(g.mul(size, rgt_scalar64(g, 2, k + "_two"), k + "_2n"), rgt_scalar64(g, 2, k + "_two2"), k + "_period");
  const std::string j =
      g.node("Mod", {idx, g.node("Max", {period, rgt_scalar64(g, 1, k + "_one2")}, k + "_period1")}, k + "_mod");
  const std::string src = g.node("Min", {j, g.sub(period, j, k + "_mirror")}, k + "_src");
  return g.node("Gather", {x, src}, k, {onnx::MakeAttribute("axis", axis)});
}

/// Fills the context (sizes, T, L-SA pads/windows/masks) and returns the padded input.
std::string rgt_prepare(OnnxGraph& g, const std::string& lr, const RgtOptions& o, RgtOnnxContext& z) {
  SwinOnnxShapes& s = z.s;
  s.c = o.embed_dim;
  const std::string shape = g.shape(lr, "input_shape");
  s.n = g.slice(shape, rgt_i64(g, {0}, "n_from"), rgt_i64(g, {1}, "n_to"), {0}, "batch");
  s.hw = g.slice(shape, rgt_i64(g, {2}, "hw_from"), rgt_i64(g, {4}, "hw_to"), {0}, "input_hw");
  const std::string steps = rgt_onnx_steps(g, s.hw);
  z.trips = rgt_squeeze0(g, steps, "trips");
  std::vector<int64_t> pow4{1};
  while (pow4.size() < 16) pow4.push_back(pow4.back() * 4);
  const std::string side = g.node("Gather", {rgt_i64(g, pow4, "pow4"), steps}, "side", {onnx::MakeAttribute("axis", int64_t{0})});
  s.padded_hw = g.node("Max", {s.hw, rgt_i64(g, {16, 16}, "min_hw"), side}, "padded_hw");
  std::string x = rgt_reflect_repeat(g, lr, 2, rgt_element(g, s.hw, 0, "h"), rgt_element(g, s.padded_hw, 0, "ph"));
  x = rgt_reflect_repeat(g, x, 3, rgt_element(g, s.hw, 1, "w"), rgt_element(g, s.padded_hw, 1, "pw"));
  const int64_t sh = o.split_size[0], sw = o.split_size[1], m = std::max(sh, sw);
  const std::string lsa_hw = g.mul(
      g.div(g.add(s.padded_hw, rgt_i64(g, {m - 1, m - 1}, "lsa_round"), "lsa_up"), rgt_i64(g, {m, m}, "lsa_m"), "lsa_blocks"),
      rgt_i64(g, {m, m}, "lsa_m2"), "lsa_hw");
  z.lsa_pads = g.concat({rgt_i64(g, {0, 0, 0, 0, 0, 0}, "lsa_pads_begin"), g.sub(lsa_hw, s.padded_hw, "lsa_pad_hw"),
                         rgt_i64(g, {0, 0}, "lsa_pads_end")},
                        0, "lsa_pads");
  z.win[0] = swin_onnx_rect_shapes(g, s.n, lsa_hw, sh, sw, "lsa_win0");
  z.win[1] = swin_onnx_rect_shapes(g, s.n, lsa_hw, sw, sh, "lsa_win1");
  if (rgt_any_shifted(o)) {
    z.mask[0] = swin_onnx_rect_shift_mask(g, z.win[0], sh / 2, sw / 2, "shift_mask0");
    z.mask[1] = swin_onnx_rect_shift_mask(g, z.win[1], sw / 2, sh / 2, "shift_mask1");
  }
  return x;
}

std::string rgt_export(const GeneratorImpl& gen, OnnxGraph& g, const std::string& lr) {
  const auto* net = dynamic_cast<const RgtImpl*>(&gen);
  if (!net) refuse_onnx_export(gen.type(), "registered as rgt but is not an RgtImpl");
  const RgtOptions& o = net->options();
  rgt_check_options_and_masks(*net, g);
  RgtOnnxContext z;
  std::string x = rgt_prepare(g, lr, o, z);
  std::string mean, range;
  x = swin_onnx_normalize(g, x, o.img_range, mean, range);
  const std::string first = export_conv2d(g, x, *net->conv_first, "conv_first", kRgtType);
  std::string t = onnx_layer_norm(g, swin_onnx_map_to_tokens(g, first, "embed"), *net->before_norm, "before_RG.1");
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const std::string key = "layers." + std::to_string(i);
    const auto& layer = *net->layers[i];
    std::string h = t;
    for (size_t j = 0; j < layer.blocks.size(); ++j)
      h = rgt_onnx_block(g, h, *layer.blocks[j], z, key + ".blocks." + std::to_string(j));
    const std::string conv = swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, h, z.s, key), layer.conv, key + ".conv", kRgtType);
    t = g.add(t, swin_onnx_map_to_tokens(g, conv, key), key + ".skip");
  }
  t = onnx_layer_norm(g, t, *net->norm, "norm");
  const std::string f =
      g.add(swin_onnx_resi_conv(g, swin_onnx_tokens_to_map(g, t, z.s, "body"), net->conv_after_body, "conv_after_body", kRgtType),
            first, "long_skip");
  const SwinOnnxTail tail = swin_onnx_tail_of(*net, SwinOnnxTail::Kind::kPixelShuffle, o.scale);
  return swin_onnx_denormalize_crop(g, swin_onnx_tail(g, f, tail, kRgtType), mean, range, z.s, o.scale);
}

}  // namespace

void register_rgt_onnx() {
  register_onnx_exporter("rgt", rgt_export, rgt_onnx_empty_dpb_parameter,
                         "L-SA rect shifted windows + RG-SA (Loop of T reductions from the runtime size), reflect padding; "
                         "stored attn_mask checked");
}

}  // namespace srlab::models
