// ONNX export of SPAN and PLKSR/RealPLKSR (deploy/onnx_span.cpp, deploy/onnx_plksr.cpp): initializer
// names (state-dict keys; SPAN exports only the folded eval_conv of each Conv3XC, holding the fold of the
// branches), and the DySample refusal. Numerical parity runs in ONNX Runtime (tests/deploy/onnx_runtime/).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/test_util.h"

#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"
#include "models/arch/span.h"

namespace sm = srlab::models;
using srlab::testing::error_of;

namespace test_onnx_span_plksr {

sm::Generator build(const std::string& yaml, int scale) {
  auto cfg = srlab::core::Config::parse("model: " + yaml, "test_onnx_span_plksr.yaml");
  auto g = sm::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

std::map<std::string, onnx::TensorProto> initializers(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  std::map<std::string, onnx::TensorProto> out;
  for (const auto& t : m.graph().initializer()) out[t.name()] = t;
  return out;
}

TEST(OnnxSpan, ExportsTheFoldedEvalConvUnderItsStateDictKey) {
  torch::manual_seed(4);
  auto g = build("{type: span, feature_channels: 4}", 2);
  {
    torch::NoGradGuard ng;
    for (auto& p : g->parameters()) p.add_(torch::randn_like(p) * 0.1);  // eval_conv now != fold
  }
  const auto init = initializers(sm::export_onnx(g, {}));
  std::set<std::string> want;
  for (const auto& kv : g->named_parameters())
    if (kv.key().find(".sk.") == std::string::npos && kv.key().find(".conv.") == std::string::npos) want.insert(kv.key());
  std::set<std::string> got;
  for (const auto& kv : init) got.insert(kv.first);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), 20u * 2 + 4);  // 20 eval_conv weight+bias, conv_cat, upsampler.0
  // The exported eval_conv is the fold of the branches, not the stale parameter.
  const auto* span = dynamic_cast<const sm::SpanImpl*>(g.get());
  const auto [w, b] = span->conv_2->fold();
  const auto& t = init.at("conv_2.eval_conv.weight");  // raw little-endian float32 (onnx_graph.cpp)
  ASSERT_EQ(static_cast<int64_t>(t.raw_data().size()), w.numel() * 4);
  const auto exported = torch::from_blob(const_cast<char*>(t.raw_data().data()), {w.numel()}, torch::kFloat32).clone();
  EXPECT_TRUE(torch::equal(exported, w.flatten()));
}

TEST(OnnxPlksr, DySampleIsRefusedClearly) {
  auto g = build("{type: realplksr, dim: 8, n_blocks: 1, dysample: true}", 4);
  const std::string e = error_of([&] { sm::export_onnx(g, {}); });
  EXPECT_NE(e.find("cannot be exported faithfully"), std::string::npos) << e;
  EXPECT_NE(e.find("DySample"), std::string::npos) << e;
  const auto types = sm::onnx_exportable_types();
  for (const char* t : {"span", "plksr", "realplksr"})
    EXPECT_TRUE(std::count(types.begin(), types.end(), t)) << t;
}

TEST(OnnxPlksr, InitializersAreTheStateDictKeys) {
  auto g = build("{type: realplksr, dim: 8, n_blocks: 2, kernel_size: 5, layer_norm: true}", 3);
  const auto init = initializers(sm::export_onnx(g, {}));
  for (const auto& kv : g->named_parameters()) EXPECT_TRUE(init.count(kv.key())) << kv.key();
}

}  // namespace test_onnx_span_plksr
