#include "data/degrade/degrade_random.h"

#include <cmath>

#include "core/error.h"

namespace srlab::data {

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double uniform(std::mt19937_64& rng, const Range& r) {
  const double u = uniform01(rng);
  return r.hi > r.lo ? r.lo + (r.hi - r.lo) * u : r.lo;
}

bool bernoulli(std::mt19937_64& rng, double p) { return uniform01(rng) < p; }

size_t weighted_choice(std::mt19937_64& rng, const std::vector<double>& weights) {
  double total = 0.0;
  for (double w : weights) total += w;
  if (weights.empty() || !(total > 0.0)) throw Error("weighted_choice: weights must have a positive sum");
  const double u = uniform01(rng) * total;
  double acc = 0.0;
  for (size_t i = 0; i < weights.size(); ++i) {
    acc += weights[i];
    if (u < acc) return i;
  }
  for (size_t i = weights.size(); i-- > 0;)  // rounding at the top end: last positive weight
    if (weights[i] > 0.0) return i;
  return weights.size() - 1;
}

Range read_range(const core::Config& cfg, const std::string& key, Range fallback, double min, double max) {
  if (!cfg.has(key)) return fallback;
  const core::Config node = cfg.at(key);
  Range r;
  if (node.is_sequence()) {
    const auto v = node.as<std::vector<double>>();
    if (v.size() != 2) cfg.fail(key, "expected a number or a list [lo, hi] of two numbers");
    r = {v[0], v[1]};
  } else {
    const double v = node.as<double>();
    r = {v, v};
  }
  if (!std::isfinite(r.lo) || !std::isfinite(r.hi) || r.lo > r.hi)
    cfg.fail(key, "range [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "] must have lo <= hi");
  if (r.lo < min || r.hi > max)
    cfg.fail(key, "range [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "] must lie within [" +
                      std::to_string(min) + ", " + std::to_string(max) + "]");
  return r;
}

double read_prob(const core::Config& cfg, const std::string& key, double fallback) {
  const double p = cfg.get<double>(key, fallback);
  if (!(p >= 0.0 && p <= 1.0)) cfg.fail(key, "probability must be in [0, 1], got " + std::to_string(p));
  return p;
}

std::vector<std::pair<std::string, double>> read_weights(const core::Config& cfg, const std::string& key,
                                                         std::vector<std::pair<std::string, double>> fallback,
                                                         const std::vector<std::string>& allowed) {
  if (!cfg.has(key)) return fallback;
  const core::Config node = cfg.at(key);
  if (!node.is_map()) cfg.fail(key, "expected a mapping name: weight");
  std::vector<std::pair<std::string, double>> out;
  double total = 0.0;
  for (const auto& name : node.keys()) {
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == name;
    if (!ok) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      node.fail(name, "unknown name '" + name + "'; allowed: " + list);
    }
    const double w = node.req<double>(name);
    if (!(w >= 0.0) || !std::isfinite(w)) node.fail(name, "weight must be a finite number >= 0");
    total += w;
    out.emplace_back(name, w);
  }
  if (!(total > 0.0)) cfg.fail(key, "weights must not all be zero");
  return out;
}

}  // namespace srlab::data
