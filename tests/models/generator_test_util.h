#pragma once
// Helpers shared by the generator tests (tests/models/) and their ONNX export tests (tests/deploy/).
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/arch/registry.h"

namespace srlab::testing {

/// The generator of `model_yaml` (a `model:` mapping, e.g. "{type: srvgg_compact}") at `scale`, in eval mode.
inline models::Generator build_generator(const std::string& model_yaml, int scale) {
  const core::Config cfg = core::Config::parse("model: " + model_yaml, "generator_test.yaml");
  models::Generator g = models::make_generator(cfg.at("model"), scale);
  g->eval();
  return g;
}

/// The parameter names of `g`, in registration order.
inline std::vector<std::string> parameter_keys(const models::Generator& g) {
  std::vector<std::string> keys;
  for (const auto& kv : g->named_parameters()) keys.push_back(kv.key());
  return keys;
}

/// The state dict of `g` as the reference code's state_dict() holds it: parameters and buffers by name.
inline models::StateDict state_dict_of(const models::Generator& g) {
  models::StateDict sd;
  for (const auto& kv : g->named_parameters()) sd[kv.key()] = kv.value();
  for (const auto& kv : g->named_buffers()) sd[kv.key()] = kv.value();
  return sd;
}

/// The key names of `sd`.
inline std::set<std::string> key_set(const models::StateDict& sd) {
  std::set<std::string> k;
  for (const auto& kv : sd) k.insert(kv.first);
  return k;
}

/// BasicSR RRDBNet state-dict keys, in registration order, written out independently of the C++ code.
inline std::vector<std::string> rrdbnet_basicsr_keys(int num_block) {
  std::vector<std::string> k{"conv_first.weight", "conv_first.bias"};
  for (int i = 0; i < num_block; ++i)
    for (int r = 1; r <= 3; ++r)
      for (int c = 1; c <= 5; ++c)
        for (const char* p : {"weight", "bias"})
          k.push_back("body." + std::to_string(i) + ".rdb" + std::to_string(r) + ".conv" + std::to_string(c) + "." + p);
  for (const char* name : {"conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"})
    for (const char* p : {"weight", "bias"}) k.push_back(std::string(name) + "." + p);
  return k;
}

}  // namespace srlab::testing
