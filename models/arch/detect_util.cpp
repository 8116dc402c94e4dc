#include "models/arch/detect_util.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

#include <algorithm>
#include <cctype>

namespace srlab::models {

const torch::Tensor* find_tensor(const StateDict& sd, const std::string& key) {
  auto it = sd.find(key);
  return it == sd.end() ? nullptr : &it->second;
}

const torch::Tensor* find_tensor(const StateDict& sd, const std::string& key, int64_t dim) {
  const torch::Tensor* t = find_tensor(sd, key);
  return t && t->dim() == dim ? t : nullptr;
}

bool has_keys(const StateDict& sd, const std::vector<std::string>& keys) {
  return std::all_of(keys.begin(), keys.end(), [&](const std::string& k) { return sd.count(k) > 0; });
}

std::vector<int> key_indices(const StateDict& sd, const std::string& prefix, const std::string& suffix) {
  std::vector<int> out;
  for (auto it = sd.lower_bound(prefix); it != sd.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const std::string& k = it->first;
    size_t i = prefix.size();
    while (i < k.size() && std::isdigit(static_cast<unsigned char>(k[i]))) ++i;
    if (i == prefix.size() || i - prefix.size() > 6 || k.compare(i, std::string::npos, suffix) != 0) continue;
    out.push_back(std::stoi(k.substr(prefix.size(), i - prefix.size())));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int subpixel_scale(int64_t out_channels) {
  for (int s = 1; s <= 8; ++s)
    if (3LL * s * s == out_channels) return s;
  return 0;
}

bool is_contiguous_from_zero(const std::vector<int>& indices) {
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] != static_cast<int>(i)) return false;
  return true;
}

const torch::Tensor& require_tensor(const StateDict& sd, const std::string& key, int64_t dims, const std::string& arch) {
  const auto it = sd.find(key);
  if (it == sd.end())
    throw Error(arch + " weights: tensor '" + key + "' is missing; the file is incomplete or not " + arch);
  if (it->second.dim() != dims)
    throw Error(arch + " weights: tensor '" + key + "' has " + std::to_string(it->second.dim()) + " dimensions, expected " +
                std::to_string(dims));
  return it->second;
}

bool has_key(const StateDict& sd, const std::string& key) { return sd.count(key) > 0; }

int count_indexed(const StateDict& sd, const std::string& prefix, const std::string& suffix) {
  int n = 0;
  while (has_key(sd, prefix + std::to_string(n) + suffix)) ++n;
  return n;
}

int64_t exact_sqrt(int64_t n) {
  if (n < 0) return -1;
  const auto r = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  return r * r == n ? r : -1;
}

std::string int_list(const std::vector<int>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

}  // namespace srlab::models
