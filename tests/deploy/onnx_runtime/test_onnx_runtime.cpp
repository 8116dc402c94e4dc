// ONNX export checked in ONNX Runtime (deploy/onnx_verify.h: onnxruntime-node under tools/onnxruntime,
// driven by scripts/onnx_run.mjs): every shipped architecture, exported in float32 and float16 with
// random weights, must reproduce LibTorch's output on random inputs of odd and even sizes (batch 1
// and 2) and on a real Set5 LR image: max abs diff <= 1e-4 (float32), <= 1e-2 (float16).
// ONNX Runtime missing is a FAILURE, not a skip: CI runs scripts/setup.sh, which installs it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>

#include "tests/test_util.h"

#include "core/config.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_verify.h"
#include "models/arch/registry.h"
#include "tests/deploy/onnx_runtime/ort_check.h"

namespace sm = srlab::models;
namespace fs = std::filesystem;
using srlab::testing::error_of;
using namespace srlab::testing::ort;

TEST(OnnxRuntime, IsInstalled) {
  ASSERT_TRUE(ort_installed());
  // The driver runs a trivial export end to end (also checks node + the native binding load).
  const auto g = build({"{type: espcn, num_feat: 2}", 2, false});
  const fs::path model = fs::temp_directory_path() / ("srlab_onnx_ort_probe_" + std::to_string(::getpid()) + ".onnx");
  std::ofstream(model, std::ios::binary) << sm::export_onnx(g, {});
  const auto r = sm::run_onnx_ort({{model, torch::rand({1, 3, 5, 7})}});
  fs::remove(model);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].output.sizes(), (std::vector<int64_t>{1, 3, 10, 14}));
  EXPECT_GE(r[0].time_ms, 0.0);
}

TEST(OnnxRuntime, GraphEmittersBuildACheckedGraphWithUniqueNamesThatMatchesLibTorch) {
  // y = conv1x1(concat(clip(leaky_relu(x, 0.2), -0.1, 0.5), sigmoid(x) * x - tanh(x))) with hints that
  // collide, checked by ONNX and run in ONNX Runtime against the same LibTorch expression (OpenCV DNN
  // 4.6 cannot import Clip with min/max inputs, opset >= 11).
  if (!ort_installed()) return;
  namespace F = torch::nn::functional;
  torch::manual_seed(5);
  const torch::Tensor w = torch::randn({3, 6, 1, 1}), b = torch::randn({3});
  sm::OnnxGraph g("emitters");
  const std::string x = g.input("input", {sm::OnnxDim::fixed(1), sm::OnnxDim::fixed(3), sm::OnnxDim::fixed(4),
                                          sm::OnnxDim::fixed(5)});
  const std::string a = g.clip(g.leaky_relu(x, 0.2f, "v"), -0.1f, 0.5f, "v");
  const std::string c = g.sub(g.mul(g.sigmoid(x, "v"), x, "v"), g.tanh(x, "v"), "v");
  sm::OnnxConvAttrs attrs;
  attrs.kernel_shape = {1, 1};
  const std::string y = g.conv(g.concat({a, c}, 1, "v"), g.initializer("w", w), g.initializer("b", b), attrs, "v");
  g.output(y, "output", {sm::OnnxDim::fixed(1), sm::OnnxDim::fixed(3), sm::OnnxDim::fixed(4), sm::OnnxDim::fixed(5)});
  EXPECT_NE(error_of([&] { g.initializer("w", w); }).find("'w'"), std::string::npos);
  const std::string bytes = g.finish({});
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  std::set<std::string> outputs;
  for (const auto& n : m.graph().node())
    for (const auto& o : n.output()) EXPECT_TRUE(outputs.insert(o).second) << "duplicate value name " << o;
  EXPECT_TRUE(outputs.count("output"));

  const torch::Tensor in = torch::randn({1, 3, 4, 5});
  const torch::Tensor ref = F::conv2d(
      torch::cat({torch::clamp(F::leaky_relu(in, F::LeakyReLUFuncOptions().negative_slope(0.2)), -0.1, 0.5),
                  torch::sigmoid(in) * in - torch::tanh(in)},
                 1),
      w, F::Conv2dFuncOptions().bias(b));
  const fs::path model = fs::temp_directory_path() / ("srlab_onnx_emitters_" + std::to_string(::getpid()) + ".onnx");
  std::ofstream(model, std::ios::binary) << bytes;
  const auto r = sm::run_onnx_ort({{model, in}});
  fs::remove(model);
  const torch::Tensor out = r.at(0).output;
  ASSERT_EQ(out.sizes(), ref.sizes());
  EXPECT_LE((out - ref).abs().max().item<double>(), 1e-5);
}

TEST(OnnxRuntime, EspcnEveryActivationAndResidualMatchesLibTorch) {
  std::vector<Arch> archs;
  int s = 2;
  for (const char* act : {"relu", "tanh", "prelu"})
    for (const char* res : {"none", "bicubic", "nearest"}) {
      archs.push_back({std::string("{type: espcn, num_feat: 16, activation: ") + act + ", residual: " + res + "}", s,
                       true});
      s = s == 4 ? 2 : s + 1;  // cycle through the scales
    }
  check_architectures(archs, "espcn");
}

TEST(OnnxRuntime, EdsrMatchesLibTorch) {
  check_architectures({{"{type: edsr, num_feat: 16, num_block: 2, res_scale: 0.1}", 2, true},
                       {"{type: edsr, num_feat: 16, num_block: 2, res_scale: 0.1}", 3, true},
                       {"{type: edsr, num_feat: 16, num_block: 2}", 4, true},
                       {"{type: edsr_baseline}", 4, false}},
                      "edsr");
}

TEST(OnnxRuntime, RrdbnetMatchesLibTorch) {
  // x1/x2: reflect padding of the odd 17x23 input to a multiple of the unshuffle factor (Shape, Mod, Pad),
  // pixel unshuffle (SpaceToDepth + channel permutation) and the final crop (Slice); x4: nearest Resize.
  check_architectures({{"{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}", 1, true},
                       {"{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}", 2, true},
                       {"{type: rrdbnet, num_feat: 8, num_block: 2, num_grow_ch: 4}", 4, true}},
                      "rrdbnet");
}

TEST(OnnxRuntime, SrvggMatchesLibTorch) {
  check_architectures({{"{type: srvgg_compact, num_feat: 16, num_conv: 2, act_type: prelu}", 2, true},
                       {"{type: srvgg_compact, num_feat: 16, num_conv: 2, act_type: relu}", 3, true},
                       {"{type: srvgg_compact, num_feat: 16, num_conv: 2, act_type: leakyrelu}", 4, true},
                       {"{type: srvgg_compact}", 4, false}},
                      "srvgg");
}

TEST(OnnxRuntime, SpanMatchesLibTorch) {
  // Folded Conv3XC (eval_conv), SiLU, parameter-free attention, input normalisation (or none).
  // With norm (x255 input) a random SPAN outputs values of ~10: fp16 is checked relative to that.
  check_architectures({{"{type: span, feature_channels: 8}", 2, true, true},
                       {"{type: span, feature_channels: 8, norm: false}", 3, false},
                       {"{type: span, feature_channels: 12}", 4, false, true}},
                      "span");
}

TEST(OnnxRuntime, PlksrAndRealPlksrMatchLibTorch) {
  // GELU / Mish / GroupNorm / LayerNorm from primitives, partial large kernel (Slice + Concat),
  // repeat_interleave as a one-hot 1x1 conv; every CCM type.
  check_architectures({{"{type: realplksr, dim: 16, n_blocks: 2, kernel_size: 7}", 2, true},
                       {"{type: realplksr, dim: 16, n_blocks: 1, kernel_size: 5, layer_norm: true}", 4, false},
                       {"{type: plksr, dim: 8, n_blocks: 1, kernel_size: 5, ccm_type: CCM}", 3, false},
                       {"{type: plksr, dim: 8, n_blocks: 1, kernel_size: 5, ccm_type: ICCM, with_idt: true}", 4, false},
                       {"{type: plksr, dim: 8, n_blocks: 1, kernel_size: 3, ccm_type: DCCM, use_ea: false}", 2, false}},
                      "plksr");
}

TEST(OnnxRuntime, MosrMatchesLibTorch) {
  // Gated CNN blocks (channel LayerNorm, Mish, the g/i/c channel split), the shortcut and the ps and gps
  // (Reshape from the runtime H, W + ReduceMean over the 8 groups) upsamplers; dys is refused (test_onnx_mosr).
  check_architectures({{"{type: mosr, n_block: 2, dim: 16, upsampler: ps, kernel_size: 7}", 4, true},
                       {"{type: mosr, n_block: 2, dim: 8, upsampler: gps, kernel_size: 5}", 2, false},
                       {"{type: mosr, n_block: 1, dim: 8, upsampler: gps, kernel_size: 3, expansion_ratio: 1.0}", 3, false},
                       {"{type: mosr, n_block: 1, dim: 12, upsampler: ps, kernel_size: 3, conv_ratio: 0.5}", 3, false}},
                      "mosr");
}

TEST(OnnxRuntime, SwinirDynamicSizesMatchLibTorch) {
  // Dynamic H, W: reflect padding of 17x23 to window multiples, the window partition and the shifted-window
  // mask computed in the graph from the runtime size (SwinIR issue 145), and the crop. 32x32 with
  // img_size 32 is the size where LibTorch uses the stored attn_mask buffers instead.
  const std::string tiny = "type: swinir, embed_dim: 8, depths: [2, 2], num_heads: [2, 4], window_size: 4, img_size: 8, mlp_ratio: 2";
  check_architectures({{"{" + tiny + ", upsampler: pixelshuffle, num_feat: 8}", 2, true},
                       {"{" + tiny + ", upsampler: pixelshuffle, num_feat: 8}", 3, false},
                       {"{" + tiny + ", upsampler: pixelshuffledirect, resi_connection: 3conv, patch_norm: false}", 4, false},
                       {"{" + tiny + ", upsampler: nearest+conv, num_feat: 8}", 4, false},
                       {"{type: swinir, upsampler: pixelshuffledirect, embed_dim: 12, depths: [2], num_heads: [3], "
                        "window_size: 8, img_size: 32, mlp_ratio: 2}", 2, false}},
                      "swinir");
}

TEST(OnnxRuntime, SwinirModifiedAttentionMaskBuffersMatchLibTorch) {
  // As DRCT's test: perturbed stored masks are used by LibTorch at img_size (the 2x3x32x32 input), the computed
  // mask elsewhere; the graph keeps the buffers and selects them by the runtime padded size.
  check_architectures({{"{type: swinir, upsampler: pixelshuffledirect, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                        "img_size: 32, mlp_ratio: 2}", 2, false, false, [](sm::Generator& g) {
                          torch::manual_seed(11);
                          for (auto& kv : g->named_buffers())
                            if (kv.key().find("attn_mask") != std::string::npos) kv.value().add_(torch::rand_like(kv.value()) * 0.1);
                        }}},
                      "swinir_masks");
}

TEST(OnnxRuntime, SwinirStaticExportMatchesLibTorch) {
  check_static_export("{type: swinir, upsampler: pixelshuffledirect, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
                      "img_size: 8, mlp_ratio: 2}", 2, 13, 10, "swinir");
}
