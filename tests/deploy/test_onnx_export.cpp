// ONNX export (deploy/onnx_export.h, deploy/onnx_graph.h): graph structure, interface, metadata,
// initializer names, refusals, and numeric agreement with LibTorch in OpenCV DNN where it can run.
// ONNX Runtime agreement is checked by tests/models/onnx_runtime/test_onnx_runtime.cpp.
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <cstdlib>
#include <set>

#include "tests/test_util.h"

#include "core/config.h"
#include "deploy/onnx_bicubic.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_ort.h"
#include "deploy/onnx_verify.h"
#include "models/arch/registry.h"

namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_onnx_export {

sm::Generator build(const std::string& model_yaml, int scale) {
  Config cfg = Config::parse("model: " + model_yaml, "test_onnx_export.yaml");
  sm::Generator g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

std::vector<const onnx::NodeProto*> nodes_of(const onnx::ModelProto& m, const std::string& op) {
  std::vector<const onnx::NodeProto*> out;
  for (const auto& n : m.graph().node())
    if (n.op_type() == op) out.push_back(&n);
  return out;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::map<std::string, std::string> metadata(const onnx::ModelProto& m) {
  std::map<std::string, std::string> out;
  for (const auto& p : m.metadata_props()) out[p.key()] = p.value();
  return out;
}

std::set<std::string> state_dict_keys(const sm::Generator& g) {
  std::set<std::string> keys;
  for (const auto& kv : g->named_parameters()) keys.insert(kv.key());
  for (const auto& kv : g->named_buffers()) keys.insert(kv.key());
  return keys;
}

std::set<std::string> initializer_names(const onnx::ModelProto& m) {
  std::set<std::string> names;
  for (const auto& t : m.graph().initializer()) names.insert(t.name());
  return names;
}

// A generator type with no exporter.
struct ToyImpl : sm::GeneratorImpl {
  ToyImpl() { conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 12, 3).padding(1))); }
  torch::Tensor forward(torch::Tensor x) override { return torch::pixel_shuffle(conv->forward(x), 2); }
  int scale() const override { return 2; }
  std::string type() const override { return type_name; }
  std::string type_name = "toy_without_exporter";
  torch::nn::Conv2d conv{nullptr};
};

TEST(OnnxExport, InterfaceIsDynamicNchwFloatWithNamedInputOutput) {
  torch::manual_seed(0);
  const auto g = build("{type: espcn, num_feat: 8}", 3);
  const onnx::ModelProto m = parse(sm::export_onnx(g, {}));
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  ASSERT_EQ(m.graph().input_size(), 1);
  ASSERT_EQ(m.graph().output_size(), 1);
  const auto& in = m.graph().input(0);
  const auto& out = m.graph().output(0);
  EXPECT_EQ(in.name(), "input");
  EXPECT_EQ(out.name(), "output");
  EXPECT_EQ(in.type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(out.type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  const auto& is = in.type().tensor_type().shape();
  ASSERT_EQ(is.dim_size(), 4);
  EXPECT_EQ(is.dim(0).dim_param(), "N");
  EXPECT_EQ(is.dim(1).dim_value(), 3);
  EXPECT_EQ(is.dim(2).dim_param(), "H");
  EXPECT_EQ(is.dim(3).dim_param(), "W");
  EXPECT_FALSE(is.dim(2).has_dim_value());
  const auto& os = out.type().tensor_type().shape();
  ASSERT_EQ(os.dim_size(), 4);
  EXPECT_EQ(os.dim(0).dim_param(), "N");
  EXPECT_EQ(os.dim(1).dim_value(), 3);
  EXPECT_EQ(os.dim(2).dim_param(), "H*3");
  EXPECT_EQ(os.dim(3).dim_param(), "W*3");
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 17);
  EXPECT_EQ(m.producer_name(), "SRLab");
}

TEST(OnnxExport, StaticSizeFixesDims) {
  const auto g = build("{type: espcn, num_feat: 8}", 2);
  sm::OnnxExportOptions o;
  o.height = 20;
  o.width = 30;
  o.batch = 2;
  o.opset = 13;
  const onnx::ModelProto m = parse(sm::export_onnx(g, o));
  const auto& is = m.graph().input(0).type().tensor_type().shape();
  EXPECT_EQ(is.dim(0).dim_value(), 2);
  EXPECT_EQ(is.dim(2).dim_value(), 20);
  EXPECT_EQ(is.dim(3).dim_value(), 30);
  const auto& os = m.graph().output(0).type().tensor_type().shape();
  EXPECT_EQ(os.dim(2).dim_value(), 40);
  EXPECT_EQ(os.dim(3).dim_value(), 60);
  EXPECT_EQ(m.opset_import(0).version(), 13);
}

TEST(OnnxExport, PixelShuffleIsDepthToSpaceCrd) {
  for (const char* yaml : {"{type: espcn, num_feat: 8}", "{type: edsr, num_feat: 8, num_block: 1}"})
    for (int s : {2, 3, 4}) {
      const onnx::ModelProto m = parse(sm::export_onnx(build(yaml, s), {}));
      const bool two_stages = s == 4 && std::string(yaml).find("edsr") != std::string::npos;  // EDSR x4: 2 x (x2)
      const auto d2s = nodes_of(m, "DepthToSpace");
      ASSERT_EQ(d2s.size(), two_stages ? 2u : 1u) << yaml;
      for (const auto* n : d2s) {
        ASSERT_NE(attr(*n, "mode"), nullptr);
        EXPECT_EQ(attr(*n, "mode")->s(), "CRD");
        EXPECT_EQ(attr(*n, "blocksize")->i(), two_stages ? 2 : s);
      }
    }
}

TEST(OnnxExport, ResizeAttributesReproduceTorchInterpolate) {
  // Bicubic is exported without Resize (OpenCV DNN has no cubic Resize): replicate padding by Slice +
  // Concat, one grouped 5x5 Conv (3 groups, 3*s*s phase filters, no bias) and DepthToSpace.
  const onnx::ModelProto bic = parse(sm::export_onnx(build("{type: espcn, num_feat: 8, residual: bicubic}", 4), {}));
  EXPECT_TRUE(nodes_of(bic, "Resize").empty());
  int grouped = 0;
  for (const auto* n : nodes_of(bic, "Conv"))
    if (attr(*n, "group")->i() == 3) {
      ++grouped;
      EXPECT_EQ(attr(*n, "kernel_shape")->ints(0), 5);
      EXPECT_EQ(n->input_size(), 2);
    }
  EXPECT_EQ(grouped, 1);
  EXPECT_EQ(nodes_of(bic, "Slice").size(), 4u);
  EXPECT_EQ(nodes_of(bic, "DepthToSpace").size(), 2u);
  const onnx::ModelProto near = parse(sm::export_onnx(build("{type: espcn, num_feat: 8, residual: nearest}", 3), {}));
  const auto n = nodes_of(near, "Resize");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(attr(*n[0], "mode")->s(), "nearest");
  EXPECT_EQ(attr(*n[0], "coordinate_transformation_mode")->s(), "asymmetric");
  EXPECT_EQ(attr(*n[0], "nearest_mode")->s(), "floor");
  EXPECT_TRUE(nodes_of(parse(sm::export_onnx(build("{type: espcn, num_feat: 8}", 3), {})), "Resize").empty());
}

TEST(OnnxExport, MetadataRecordsArchitectureScaleRangeRunAndVersion) {
  sm::OnnxExportOptions o;
  o.run_id = "my_run_42";
  o.metadata = {{"iteration", "1000"}};
  const auto md = metadata(parse(sm::export_onnx(build("{type: edsr, num_feat: 8, num_block: 1}", 2), o)));
  EXPECT_EQ(md.at("architecture"), "edsr");
  EXPECT_EQ(md.at("scale"), "2");
  EXPECT_EQ(md.at("input_range"), "[0,1]");
  EXPECT_EQ(md.at("colour_order"), "RGB");
  EXPECT_EQ(md.at("run_id"), "my_run_42");
  EXPECT_EQ(md.at("iteration"), "1000");
  EXPECT_FALSE(md.at("srlab_version").empty());
}

TEST(OnnxExport, InitializerNamesAreStateDictKeys) {
  for (const char* yaml : {"{type: espcn, num_feat: 8, activation: prelu, residual: bicubic}",
                           "{type: edsr, num_feat: 8, num_block: 3, res_scale: 0.1}", "{type: edsr_baseline}"})
    for (int s : {2, 3, 4}) {
      const auto g = build(yaml, s);
      const onnx::ModelProto m = parse(sm::export_onnx(g, {}));
      EXPECT_EQ(initializer_names(m), state_dict_keys(g)) << yaml << " x" << s;
    }
  // Shapes: as in the state dict, except PReLU slopes (C) -> (C,1,1).
  const auto g = build("{type: espcn, num_feat: 8, activation: prelu}", 2);
  const onnx::ModelProto m = parse(sm::export_onnx(g, {}));
  const auto params = g->named_parameters();
  for (const auto& t : m.graph().initializer()) {
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    if (t.name() == "act1.weight" || t.name() == "act2.weight")
      EXPECT_EQ(dims, (std::vector<int64_t>{params[t.name()].numel(), 1, 1})) << t.name();
    else
      EXPECT_EQ(dims, params[t.name()].sizes().vec()) << t.name();
  }
}

TEST(OnnxExport, Fp16StoresHalfWeightsBehindAFloat32Interface) {
  sm::OnnxExportOptions o;
  o.fp16 = true;
  const onnx::ModelProto m = parse(sm::export_onnx(build("{type: edsr, num_feat: 8, num_block: 1}", 2), o));
  EXPECT_EQ(m.graph().input(0).type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(m.graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  for (const auto& t : m.graph().initializer()) EXPECT_EQ(t.data_type(), onnx::TensorProto_DataType_FLOAT16) << t.name();
  EXPECT_EQ(nodes_of(m, "Cast").size(), 2u);
  EXPECT_EQ(metadata(m).at("precision"), "float16 (float32 interface)");
}

TEST(OnnxExport, RefusesWhatItCannotReproduce) {
  auto toy = std::make_shared<ToyImpl>();
  const std::string none = error_of([&] { sm::export_onnx(toy, {}); });
  EXPECT_NE(none.find("cannot be exported faithfully"), std::string::npos) << none;
  EXPECT_NE(none.find("toy_without_exporter"), std::string::npos) << none;
  EXPECT_NE(none.find("espcn"), std::string::npos) << none;  // lists the exportable types

  // A registered exporter that leaves a parameter out is refused instead of exporting something else.
  toy->type_name = "toy_partial";
  sm::register_onnx_exporter("toy_partial", [](const sm::GeneratorImpl&, sm::OnnxGraph& graph, const std::string& x) {
    return graph.depth_to_space(graph.concat({x, x, x, x}, 1), 2);
  });
  const std::string partial = error_of([&] { sm::export_onnx(toy, {}); });
  EXPECT_NE(partial.find("cannot be exported faithfully"), std::string::npos) << partial;
  EXPECT_NE(partial.find("conv.weight"), std::string::npos) << partial;

  // Convolutions with other padding modes.
  toy->type_name = "toy_reflect";
  toy->conv = toy->replace_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 12, 3).padding(1).padding_mode(torch::kReflect)));
  sm::register_onnx_exporter("toy_reflect", [](const sm::GeneratorImpl& g, sm::OnnxGraph& graph, const std::string& x) {
    const auto& t = dynamic_cast<const ToyImpl&>(g);
    return graph.depth_to_space(sm::export_conv2d(graph, x, *t.conv, "conv", t.type()), 2);
  });
  const std::string reflect = error_of([&] { sm::export_onnx(toy, {}); });
  EXPECT_NE(reflect.find("cannot be exported faithfully"), std::string::npos) << reflect;
  EXPECT_NE(reflect.find("reflect"), std::string::npos) << reflect;

  // Bad options.
  const auto g = build("{type: espcn, num_feat: 8}", 2);
  sm::OnnxExportOptions o;
  o.opset = 12;
  EXPECT_NE(error_of([&] { sm::export_onnx(g, o); }).find("opset 12"), std::string::npos);
  o.opset = 99;
  EXPECT_NE(error_of([&] { sm::export_onnx(g, o); }).find("opset 99"), std::string::npos);
  o = {};
  o.height = 16;
  EXPECT_NE(error_of([&] { sm::export_onnx(g, o); }).find("height and width"), std::string::npos);
}

// Every registered generator has an ONNX exporter (a new architecture without one fails here).
TEST(OnnxExport, ExportableTypesCoverEveryRegisteredGenerator) {
  const auto types = sm::onnx_exportable_types();
  for (const auto& [type, summary] : sm::generator_types())
    EXPECT_TRUE(std::find(types.begin(), types.end(), type) != types.end()) << type << " has no ONNX exporter";
}

TEST(OnnxExport, OpenCvDnnMatchesLibTorchWhereItCanRun) {
  // OpenCV (4.6 and later) DNN imports Conv/Relu/Tanh/PRelu/DepthToSpace/Add/Sub/Mul/Div, nearest Resize and
  // the Slice/Concat/grouped-Conv form of bicubic upsampling, DepthToSpace only for a fixed N, H, W
  // (run_onnx_opencv fixes the input shape per call): those must match LibTorch; what it cannot run must be
  // reported as unsupported (srlab::Error, no crash).
  torch::manual_seed(3);
  struct Case {
    std::string yaml;
    int scale;
    bool opencv_supported;
  };
  const std::vector<Case> cases{{"{type: espcn, num_feat: 8, activation: tanh}", 3, true},
                                {"{type: espcn, num_feat: 8, activation: relu, residual: nearest}", 2, true},
                                {"{type: espcn, num_feat: 8, activation: prelu}", 4, true},
                                {"{type: espcn, num_feat: 8, residual: bicubic}", 2, true},
                                {"{type: espcn, num_feat: 8, residual: bicubic}", 3, true},
                                {"{type: edsr, num_feat: 8, num_block: 2, res_scale: 0.1}", 4, true},
                                {"{type: edsr, num_feat: 8, num_block: 1}", 3, true}};
  const torch::Tensor x = torch::rand({2, 3, 17, 23});
  sm::OnnxExportOptions fixed;
  fixed.batch = 2;
  fixed.height = 17;
  fixed.width = 23;
  for (const auto& c : cases) {
    const auto g = build(c.yaml, c.scale);
    const std::string bytes = sm::export_onnx(g, fixed);
    torch::NoGradGuard ng;
    const torch::Tensor ref = g->forward(x);
    if (!c.opencv_supported) {
      const std::string err = error_of([&] { sm::run_onnx_opencv(bytes, x); });
      EXPECT_NE(err.find("OpenCV DNN"), std::string::npos) << err;
      continue;
    }
    torch::Tensor y;
    try {
      y = sm::run_onnx_opencv(bytes, x);
    } catch (const srlab::Error& e) {
      ADD_FAILURE() << c.yaml << ": " << e.what();
      continue;
    }
    ASSERT_EQ(y.sizes(), ref.sizes()) << c.yaml;
    EXPECT_LE((y - ref).abs().max().item<double>(), 1e-4) << c.yaml << " x" << c.scale;
  }
  // A dynamic-size export runs at any size (imported once per shape), including 1x1 and odd sizes.
  const auto g = build("{type: espcn, num_feat: 8, residual: bicubic}", 4);
  sm::OpenCvOnnxModel model(sm::export_onnx(g, {}), "dynamic.onnx");
  for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 3, 1, 1}, {1, 3, 5, 2}, {2, 3, 16, 9}, {1, 3, 5, 2}}) {
    const torch::Tensor in = torch::rand(shape);
    torch::NoGradGuard ng;
    const torch::Tensor ref = g->forward(in);
    const torch::Tensor y = model.forward(in);
    ASSERT_EQ(y.sizes(), ref.sizes());
    EXPECT_LE((y - ref).abs().max().item<double>(), 1e-5) << c10::str(in.sizes());
  }
  EXPECT_EQ(model.imported_shapes(), 3u);
  // float16 weights: OpenCV DNN 4.6 reads none, 4.7+ converts them to float32. SRLab promises either a clean
  // refusal with the reason (srlab::Error naming OpenCV DNN, no crash) or the LibTorch result within the fp16
  // tolerance, whichever the installed OpenCV does.
  sm::OnnxExportOptions half = fixed;
  half.fp16 = true;
  const std::string bytes16 = sm::export_onnx(g, half);
  torch::Tensor y16;
  std::string err16;
  try {
    y16 = sm::run_onnx_opencv(bytes16, x);
  } catch (const srlab::Error& e) {
    err16 = e.what();
  }
  if (!y16.defined()) {
    EXPECT_NE(err16.find("OpenCV DNN"), std::string::npos) << err16;
  } else {
    torch::NoGradGuard ng;
    const torch::Tensor ref16 = g->forward(x);
    ASSERT_EQ(y16.sizes(), ref16.sizes());
    EXPECT_LE((y16 - ref16).abs().max().item<double>(), 1e-2) << "OpenCV " << CV_VERSION << " fp16";
  }
}

TEST(OnnxVerify, MissingOnnxRuntimeIsReportedWithTheFix) {
  const char* prev = std::getenv("SRLAB_ONNXRUNTIME_DIR");
  const std::string saved = prev ? prev : "";
  ::setenv("SRLAB_ONNXRUNTIME_DIR", "/nonexistent/srlab_ort", 1);
  EXPECT_TRUE(sm::find_onnxruntime().empty());
  if (sm::onnxruntime_in_process()) {
    // The linked ONNX Runtime needs no Node.js installation: runs go on (a missing model file is named).
    const std::string err = error_of([] { sm::run_onnx_ort({{"/nonexistent/m.onnx", torch::rand({1, 3, 4, 4})}}); });
    EXPECT_NE(err.find("/nonexistent/m.onnx"), std::string::npos) << err;
    EXPECT_TRUE(sm::onnxruntime_available());
  } else {
    const std::string err = error_of([] { sm::run_onnx_ort({{"m.onnx", torch::rand({1, 3, 4, 4})}}); });
    EXPECT_NE(err.find("scripts/setup.sh"), std::string::npos) << err;
    EXPECT_FALSE(sm::onnxruntime_available());
  }
  // --verify still checks what it can: OpenCV DNN on a static export; ONNX Runtime reported as missing.
  const auto g = build("{type: espcn, num_feat: 8, activation: prelu}", 2);
  sm::OnnxExportOptions o;
  o.height = 9;
  o.width = 14;
  sm::OnnxVerifyOptions vo;
  vo.inputs = sm::onnx_verify_inputs(o);
  ASSERT_EQ(vo.inputs.size(), 1u);
  EXPECT_EQ(vo.inputs[0].sizes(), (std::vector<int64_t>{1, 3, 9, 14}));
  const sm::OnnxVerifyReport report = sm::verify_onnx(g, sm::export_onnx(g, o), "unused.onnx", vo);
  EXPECT_TRUE(report.passed()) << report.text();
  if (!sm::onnxruntime_in_process())
    EXPECT_NE(report.text().find("not installed (run scripts/setup.sh"), std::string::npos) << report.text();
  if (prev)
    ::setenv("SRLAB_ONNXRUNTIME_DIR", saved.c_str(), 1);
  else
    ::unsetenv("SRLAB_ONNXRUNTIME_DIR");
}

TEST(OnnxVerify, ReportFailsOverToleranceOnErrorsAndWhenNothingRan) {
  sm::OnnxVerifyReport r;
  r.tolerance = 1e-4;
  r.checks = {{"ONNX Runtime", "1x3x8x8", true, false, 5e-5, 1.0, ""}};
  EXPECT_TRUE(r.passed());
  r.checks.push_back({"OpenCV DNN", "-", false, false, 0, -1, "cannot load"});  // unsupported: not a failure
  EXPECT_TRUE(r.passed());
  r.checks.push_back({"ONNX Runtime", "2x3x8x8", true, false, 2e-4, 1.0, ""});
  EXPECT_FALSE(r.passed());
  EXPECT_NE(r.text().find("OVER TOLERANCE"), std::string::npos) << r.text();
  r.checks = {{"ONNX Runtime", "-", false, true, 0, -1, "crashed"}};
  EXPECT_FALSE(r.passed());
  r.checks = {{"OpenCV DNN", "-", false, false, 0, -1, "cannot load"}};
  EXPECT_FALSE(r.passed());
  EXPECT_NE(r.text().find("no runtime ran the model"), std::string::npos) << r.text();
}

TEST(OnnxExport, BicubicPhaseFiltersReproduceTorchBicubicUpsampling) {
  // Independent reference: LibTorch's own bicubic interpolate (align_corners=false); the filters are
  // applied the way the ONNX graph applies them (replicate pad 2, grouped 5x5 conv, pixel shuffle).
  namespace F = torch::nn::functional;
  torch::manual_seed(5);
  for (int64_t s : {1, 2, 3, 4, 8}) {
    for (const auto& hw : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 7}, {13, 6}}) {
      const torch::Tensor x = torch::rand({2, 3, hw.first, hw.second});
      const torch::Tensor ref = F::interpolate(
          x, F::InterpolateFuncOptions().size(std::vector<int64_t>{s * hw.first, s * hw.second}).mode(torch::kBicubic).align_corners(false));
      const torch::Tensor padded = F::pad(x, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate));
      const torch::Tensor y =
          torch::pixel_shuffle(F::conv2d(padded, sm::bicubic_phase_filters(s, 3), F::Conv2dFuncOptions().groups(3)), s);
      ASSERT_EQ(y.sizes(), ref.sizes());
      EXPECT_LE((y - ref).abs().max().item<double>(), 2e-6) << "x" << s << " " << hw.first << "x" << hw.second;
    }
  }
  // Each phase filter sums to 1 (cubic convolution reproduces constants).
  const torch::Tensor sums = sm::bicubic_phase_filters(4, 1).sum({1, 2, 3});
  EXPECT_LE((sums - 1).abs().max().item<double>(), 1e-6);
  EXPECT_THROW(sm::bicubic_phase_filters(0), srlab::Error);
}

}  // namespace test_onnx_export
