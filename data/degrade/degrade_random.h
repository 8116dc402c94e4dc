#pragma once
// Portable random draws and YAML range parsing for the degradation pipelines.
//
// Every draw is computed from raw std::mt19937_64 output with fixed arithmetic (no std::*_distribution,
// whose results differ between standard libraries), so a (seed, sample index) pair gives the same
// degradation parameters on every platform.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"

namespace srlab::data {

/// A closed interval [lo, hi] from which a parameter is drawn uniformly; lo == hi fixes the value.
struct Range {
  double lo = 0.0, hi = 0.0;
};

/// Uniform double in [0, 1) with 53 random bits.
double uniform01(std::mt19937_64& rng);
/// Uniform double in [r.lo, r.hi] (r.lo when the range is a single value).
double uniform(std::mt19937_64& rng, const Range& r);
/// True with probability p (one draw, even when p is 0 or 1, so later draws do not shift).
bool bernoulli(std::mt19937_64& rng, double p);
/// Index drawn with probability weights[i] / sum(weights). Weights >= 0 with a positive sum.
size_t weighted_choice(std::mt19937_64& rng, const std::vector<double>& weights);

/// Reads `key` of `cfg` as a range: a number v (-> [v, v]) or a two-element list [lo, hi] with
/// lo <= hi. Missing key: `fallback`. Both ends must lie in [min, max]. Throws srlab::Error naming
/// the key for other shapes, lo > hi or out-of-bounds values.
Range read_range(const core::Config& cfg, const std::string& key, Range fallback, double min, double max);

/// Reads `key` of `cfg` as a probability in [0, 1] (missing: `fallback`). Throws srlab::Error naming
/// the key otherwise.
double read_prob(const core::Config& cfg, const std::string& key, double fallback);

/// Reads `key` as a mapping name -> weight (>= 0, positive sum) whose names all belong to `allowed`
/// (missing key: `fallback`). Returned in file order. Throws srlab::Error naming the key for unknown
/// names (listing the allowed ones), negative weights or an all-zero mapping.
std::vector<std::pair<std::string, double>> read_weights(const core::Config& cfg, const std::string& key,
                                                         std::vector<std::pair<std::string, double>> fallback,
                                                         const std::vector<std::string>& allowed);

}  // namespace srlab::data
