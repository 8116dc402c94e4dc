#pragma once
// Small helpers for the architectures' state-dict detectors (GeneratorDetector, models/arch/registry.h):
// key lookups and shape queries on a StateDict. A detector returns std::nullopt when the keys are not
// its architecture's and throws srlab::Error when they are but a hyperparameter cannot be supported.
#include <optional>
#include <string>
#include <vector>

#include "models/arch/registry.h"

namespace srlab::models {

/// The tensor under `key`, or nullptr.
const torch::Tensor* find_tensor(const StateDict& sd, const std::string& key);

/// The tensor under `key` when it exists with `dim` dimensions, else nullptr.
const torch::Tensor* find_tensor(const StateDict& sd, const std::string& key, int64_t dim);

/// True when every key in `keys` exists.
bool has_keys(const StateDict& sd, const std::vector<std::string>& keys);

/// The sorted indices i for which "<prefix><i><suffix>" is a key, e.g. ("body.", ".rdb1.conv1.weight").
std::vector<int> key_indices(const StateDict& sd, const std::string& prefix, const std::string& suffix);

/// The s with 3*s*s == out_channels (a sub-pixel conv's RGB scale), or 0 when there is none.
int subpixel_scale(int64_t out_channels);

/// The tensor under `key` with `dims` dimensions; throws srlab::Error "<arch> weights: tensor '<key>' is
/// missing; the file is incomplete or not <arch>" or "... has N dimensions, expected D".
const torch::Tensor& require_tensor(const StateDict& sd, const std::string& key, int64_t dims, const std::string& arch);

/// True when `key` is in `sd`.
bool has_key(const StateDict& sd, const std::string& key);

/// Number of consecutive indices i = 0, 1, ... with "<prefix><i><suffix>" present.
int count_indexed(const StateDict& sd, const std::string& prefix, const std::string& suffix);

/// The exact integer square root of `n`, or -1 when there is none (or n < 0).
int64_t exact_sqrt(int64_t n);

/// True when `indices` is exactly 0, 1, ..., n-1.
bool is_contiguous_from_zero(const std::vector<int>& indices);

/// "[a, b, c]": an int list as the detectors' summaries and messages print it.
std::string int_list(const std::vector<int>& v);

}  // namespace srlab::models
