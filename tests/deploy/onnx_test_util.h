#pragma once
// Helpers of the per-architecture ONNX export tests (tests/deploy/test_onnx_<type>.cpp): build a generator
// from a `model:` YAML section, export and parse it, count node types, compare initializer names with the
// state-dict keys.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>

#include "core/config.h"
#include "deploy/onnx_export.h"
#include "models/arch/registry.h"

namespace srlab::testing::onnx_export {

/// The generator of `model: <yaml>` at `scale`, eval mode.
inline models::Generator build(const std::string& yaml, int scale) {
  auto cfg = core::Config::parse("model: " + yaml, "onnx_test.yaml");
  models::Generator g = models::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

/// export_onnx(g, o) parsed back (a parse failure is a test failure).
inline onnx::ModelProto exported(const models::Generator& g, const models::OnnxExportOptions& o = {}) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(models::export_onnx(g, o)));
  return m;
}

/// Number of nodes per op_type in the main graph.
inline std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> n;
  for (const auto& node : m.graph().node()) ++n[node.op_type()];
  return n;
}

/// A static export of `g` (batch 1, 12x7 input) has input dims 12 and 7 and the node counts `dynamic_counts`
/// of the dynamic export: fixing the size changes the input's type, not the graph.
inline void expect_static_export_has_the_same_graph(const models::Generator& g,
                                                    const std::map<std::string, int>& dynamic_counts) {
  models::OnnxExportOptions o;
  o.batch = 1;
  o.height = 12;
  o.width = 7;
  const auto s = exported(g, o);
  const auto& in = s.graph().input(0).type().tensor_type().shape().dim();
  EXPECT_EQ(in.Get(2).dim_value(), 12);
  EXPECT_EQ(in.Get(3).dim_value(), 7);
  EXPECT_EQ(op_counts(s), dynamic_counts);
}

/// Names of the graph's initializers.
inline std::set<std::string> initializer_names(const onnx::ModelProto& m) {
  std::set<std::string> s;
  for (const auto& t : m.graph().initializer()) s.insert(t.name());
  return s;
}

/// How many initializers have `part` in their name (e.g. stored "attn_mask" buffers).
inline int initializers_containing(const onnx::ModelProto& m, const std::string& part) {
  int k = 0;
  for (const auto& t : m.graph().initializer()) k += t.name().find(part) != std::string::npos;
  return k;
}

/// The graph's input is (N, 3, H, W): dynamic batch, height and width (dim_params N, H, W), 3 channels.
inline void expect_dynamic_nhw_input(const onnx::ModelProto& m) {
  const auto& in = m.graph().input(0).type().tensor_type().shape().dim();
  EXPECT_EQ(in.Get(0).dim_param(), "N");
  EXPECT_EQ(in.Get(1).dim_value(), 3);
  EXPECT_EQ(in.Get(2).dim_param(), "H");
  EXPECT_EQ(in.Get(3).dim_param(), "W");
}

/// State-dict keys of `g`: parameters and buffers.
inline std::set<std::string> state_keys(const models::Generator& g) {
  std::set<std::string> s;
  for (const auto& kv : g->named_parameters()) s.insert(kv.key());
  for (const auto& kv : g->named_buffers()) s.insert(kv.key());
  return s;
}

}  // namespace srlab::testing::onnx_export
