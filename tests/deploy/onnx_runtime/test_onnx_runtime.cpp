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

namespace sm = srlab::models;
namespace fs = std::filesystem;
using srlab::testing::error_of;

namespace {

constexpr double kTolFp32 = 1e-4;
constexpr double kTolFp16 = 1e-2;

struct Arch {
  std::string yaml;  // `model:` section
  int scale;
  bool real_image;   // also run on the 128x128 Set5 LR image (cheap architectures only)
  bool fp16_relative = false;  // fp16 tolerance relative to max |output| (networks whose random-weight
                               // outputs are far outside [0,1], e.g. SPAN's x255 input)
};

sm::Generator build(const Arch& a) {
  auto cfg = srlab::core::Config::parse("model: " + a.yaml, "test_onnx_runtime.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), a.scale);
  g->eval();
  return g;
}

torch::Tensor set5_lr() {
  const fs::path p = srlab::core::shared_data_dir() / "benchmarks/Set5/x4/LR/img_001.png";
  return srlab::data::to_rgb(srlab::data::read_image(p).pixels).unsqueeze(0);
}

bool ort_installed() {
  if (!sm::find_onnxruntime().empty()) return true;
  ADD_FAILURE() << "ONNX Runtime (npm package onnxruntime-node) is not installed under tools/onnxruntime "
                   "(or $SRLAB_ONNXRUNTIME_DIR): run scripts/setup.sh, which installs it with npm";
  return false;
}

// Exports every architecture in fp32 and fp16, runs all models on all inputs in one ONNX Runtime
// process and checks the max abs difference to LibTorch, printing one line per model and input.
void check_architectures(const std::vector<Arch>& archs, const std::string& tag) {
  if (!ort_installed()) return;
  torch::manual_seed(42);
  const std::vector<torch::Tensor> random_inputs{torch::rand({1, 3, 17, 23}), torch::rand({2, 3, 32, 32})};
  const torch::Tensor real = set5_lr();
  const fs::path dir = fs::temp_directory_path() / ("srlab_onnx_ort_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);

  struct Expect {
    std::string what;
    torch::Tensor ref;
    double tol;
  };
  std::vector<sm::OrtJob> jobs;
  std::vector<Expect> expected;
  for (size_t i = 0; i < archs.size(); ++i) {
    const sm::Generator g = build(archs[i]);
    std::vector<torch::Tensor> inputs = random_inputs;
    if (archs[i].real_image) inputs.push_back(real);
    std::vector<torch::Tensor> refs;
    {
      torch::NoGradGuard ng;
      for (const auto& x : inputs) refs.push_back(g->forward(x));
    }
    for (bool fp16 : {false, true}) {
      sm::OnnxExportOptions o;
      o.fp16 = fp16;
      const fs::path model = dir / (std::to_string(i) + (fp16 ? "_fp16" : "_fp32") + ".onnx");
      std::ofstream(model, std::ios::binary) << sm::export_onnx(g, o);
      for (size_t k = 0; k < inputs.size(); ++k) {
        jobs.push_back({model, inputs[k]});
        std::string shape = c10::str(inputs[k].sizes());
        expected.push_back({archs[i].yaml + " x" + std::to_string(archs[i].scale) + (fp16 ? " fp16 " : " fp32 ") +
                                shape + (k == 2 ? " Set5/img_001" : ""),
                            refs[k],
                            fp16 ? kTolFp16 * (archs[i].fp16_relative ? std::max(1.0, refs[k].abs().max().item<double>()) : 1.0)
                                 : kTolFp32});
      }
    }
  }
  std::vector<sm::OrtResult> results;
  try {
    results = sm::run_onnx_ort(jobs);
  } catch (const srlab::Error& e) {
    ADD_FAILURE() << e.what();
  }
  fs::remove_all(dir);
  ASSERT_EQ(results.size(), expected.size());
  for (size_t j = 0; j < results.size(); ++j) {
    const auto& e = expected[j];
    ASSERT_EQ(results[j].output.sizes(), e.ref.sizes()) << e.what;
    const double diff = (results[j].output - e.ref).abs().max().item<double>();
    std::cout << "[ORT] " << e.what << ": max abs diff " << diff << " (" << results[j].time_ms << " ms, max |ref| "
              << e.ref.abs().max().item<double>() << ")\n";
    EXPECT_LE(diff, e.tol) << e.what;
  }
}

}  // namespace

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

TEST(OnnxRuntime, SwinirStaticExportMatchesLibTorch) {
  if (!ort_installed()) return;
  auto cfg = srlab::core::Config::parse(
      "model: {type: swinir, upsampler: pixelshuffledirect, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, "
      "img_size: 8, mlp_ratio: 2}", "static.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), 2);
  g->eval();
  sm::OnnxExportOptions o;
  o.height = 13;
  o.width = 10;
  o.batch = 1;
  const fs::path model = fs::temp_directory_path() / ("srlab_swinir_static_" + std::to_string(::getpid()) + ".onnx");
  std::ofstream(model, std::ios::binary) << sm::export_onnx(g, o);
  torch::manual_seed(5);
  const auto x = torch::rand({1, 3, 13, 10});
  torch::Tensor ref;
  {
    torch::NoGradGuard ng;
    ref = g->forward(x);
  }
  std::vector<sm::OrtResult> r;
  try {
    r = sm::run_onnx_ort({{model, x}});
  } catch (const srlab::Error& e) {
    ADD_FAILURE() << e.what();
  }
  fs::remove(model);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].output.sizes(), ref.sizes());
  const double diff = (r[0].output - ref).abs().max().item<double>();
  std::cout << "[ORT] swinir static 13x10 x2: max abs diff " << diff << "\n";
  EXPECT_LE(diff, kTolFp32);
}
