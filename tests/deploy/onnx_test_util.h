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

/// Names of the graph's initializers.
inline std::set<std::string> initializer_names(const onnx::ModelProto& m) {
  std::set<std::string> s;
  for (const auto& t : m.graph().initializer()) s.insert(t.name());
  return s;
}

/// State-dict keys of `g`: parameters and buffers.
inline std::set<std::string> state_keys(const models::Generator& g) {
  std::set<std::string> s;
  for (const auto& kv : g->named_parameters()) s.insert(kv.key());
  for (const auto& kv : g->named_buffers()) s.insert(kv.key());
  return s;
}

}  // namespace srlab::testing::onnx_export
