// ONNX exporter of RRDBNet (models/arch/rrdbnet.h): mirrors RrdbNetImpl::forward(), RrdbImpl::forward() and
// ResidualDenseBlockImpl::forward() node for node. At x1/x2 the input's reflect padding to a multiple of
// the pixel-unshuffle factor r is computed from the runtime shape (pad = ceil(h/r)*r - h, Pad reflect)
// and the output is sliced back to (s*h, s*w), so dynamic H, W export the same function as forward();
// torch::pixel_unshuffle is OnnxGraph::pixel_unshuffle (SpaceToDepth + channel permutation), nearest x2
// interpolation is Resize (nearest, asymmetric, floor).
#include "deploy/onnx_export.h"
#include "models/arch/rrdbnet.h"

#include <cstdint>
#include <limits>

namespace srlab::models {

namespace {

const char* kRrdbnetType = "rrdbnet";

std::string rdb(OnnxGraph& graph, const ResidualDenseBlockImpl& block, const std::string& x, const std::string& key,
                const std::string& res_scale) {
  std::vector<std::string> feats{x};
  const torch::nn::Conv2dImpl* convs[5] = {block.conv1.get(), block.conv2.get(), block.conv3.get(),
                                           block.conv4.get(), block.conv5.get()};
  std::string x5;
  for (int j = 0; j < 5; ++j) {
    const std::string ck = key + ".conv" + std::to_string(j + 1);
    const std::string in = feats.size() == 1 ? x : graph.concat(feats, 1, ck + ".cat");
    const std::string y = export_conv2d(graph, in, *convs[j], ck, kRrdbnetType);
    if (j < 4)
      feats.push_back(graph.leaky_relu(y, 0.2f, ck + ".lrelu"));
    else
      x5 = y;
  }
  return graph.add(graph.mul(x5, res_scale, key + ".scale"), x, key + ".add");
}

std::string export_rrdbnet(const GeneratorImpl& g, OnnxGraph& graph, const std::string& lr) {
  const auto* net = dynamic_cast<const RrdbNetImpl*>(&g);
  if (!net) refuse_onnx_export(g.type(), "registered as rrdbnet but is not an RrdbNetImpl");
  const int64_t r = net->unshuffle_factor(), s = net->scale();

  std::string x = lr, hw;
  if (r > 1) {
    // pads = {0,0,0,0, 0,0, ceil(h/r)*r - h, ceil(w/r)*r - w}: reflect-pad bottom/right to a multiple of r.
    // ceil(h/r) is read off the shape of lr[:, :, ::r, ::r] rather than computed by integer Div/Mod:
    // OpenCV DNN 4.6 folds int64 Div on constants with rounding (not truncation) and has no Mod/Neg, so
    // this form also imports there (static exports), while ONNX Runtime computes the same values.
    const auto hw_of = [&graph](const std::string& v, const std::string& hint) {
      return graph.slice(graph.shape(v, hint + "_shape"), graph.constant(torch::tensor({int64_t{2}}), hint + "_from"),
                         graph.constant(torch::tensor({int64_t{4}}), hint + "_to"), {0}, hint);
    };
    hw = hw_of(lr, "input_hw");
    const int64_t end = std::numeric_limits<int32_t>::max();  // clamped to the dims
    const std::string strided = graph.slice(lr, graph.constant(torch::zeros({2}, torch::kInt64), "stride_starts"),
                                            graph.constant(torch::tensor({end, end}), "stride_ends"), {2, 3},
                                            "stride_r", {r, r});
    const std::string padded_hw =
        graph.mul(hw_of(strided, "blocks_hw"), graph.constant(torch::tensor({r, r}), "unshuffle_factor"), "padded_hw");
    const std::string pad_hw = graph.sub(padded_hw, hw, "pad_hw");
    const std::string pads =
        graph.concat({graph.constant(torch::zeros({6}, torch::kInt64), "pads_begin"), pad_hw}, 0, "pads");
    x = graph.pixel_unshuffle(graph.pad(lr, pads, "reflect", "reflect_pad"), r, 3, "pixel_unshuffle");
  }
  const std::string first = export_conv2d(graph, x, *net->conv_first, "conv_first", kRrdbnetType);

  const std::string res_scale = scalar_constant(graph, 0.2, "res_scale");
  std::string h = first;
  for (size_t i = 0; i < net->body->size(); ++i) {
    const auto& block = net->body->at<RrdbImpl>(i);
    const std::string key = "body." + std::to_string(i);
    std::string t = rdb(graph, *block.rdb1, h, key + ".rdb1", res_scale);
    t = rdb(graph, *block.rdb2, t, key + ".rdb2", res_scale);
    t = rdb(graph, *block.rdb3, t, key + ".rdb3", res_scale);
    h = graph.add(graph.mul(t, res_scale, key + ".scale"), h, key + ".add");
  }
  std::string feat = graph.add(first, export_conv2d(graph, h, *net->conv_body, "conv_body", kRrdbnetType), "trunk_skip");

  feat = graph.resize(feat, 2, OnnxResizeMode::kNearest, "up1_nearest");
  feat = graph.leaky_relu(export_conv2d(graph, feat, *net->conv_up1, "conv_up1", kRrdbnetType), 0.2f, "conv_up1.lrelu");
  feat = graph.resize(feat, 2, OnnxResizeMode::kNearest, "up2_nearest");
  feat = graph.leaky_relu(export_conv2d(graph, feat, *net->conv_up2, "conv_up2", kRrdbnetType), 0.2f, "conv_up2.lrelu");
  feat = graph.leaky_relu(export_conv2d(graph, feat, *net->conv_hr, "conv_hr", kRrdbnetType), 0.2f, "conv_hr.lrelu");
  std::string out = export_conv2d(graph, feat, *net->conv_last, "conv_last", kRrdbnetType);

  if (r > 1) {  // crop the padded rows/columns back off: out[:, :, :s*h, :s*w]
    const std::string ends = graph.mul(hw, graph.constant(torch::tensor({s, s}), "scale"), "output_hw");
    out = graph.slice(out, graph.constant(torch::zeros({2}, torch::kInt64), "crop_starts"), ends, {2, 3}, "crop");
  }
  return out;
}

}  // namespace

void register_rrdbnet_onnx() { register_onnx_exporter("rrdbnet", export_rrdbnet, {}, "RRDB trunk + nearest upsampling convs; x1/x2 via SpaceToDepth"); }

}  // namespace srlab::models
