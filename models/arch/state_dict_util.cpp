#include "models/arch/state_dict_util.h"

#include <cmath>

#include "core/error.h"

namespace srlab::models {

void require_key(const StateDict& sd, const std::string& key, const std::string& what) {
  if (!sd.count(key))
    throw Error(what + ": tensor '" + key + "' is missing; the weight file is incomplete or of another variant");
}

const torch::Tensor& tensor_of(const StateDict& sd, const std::string& key, int64_t dim, const std::string& what) {
  require_key(sd, key, what);
  const torch::Tensor& t = sd.at(key);
  if (t.dim() != dim)
    throw Error(what + ": tensor '" + key + "' has shape " + c10::str(t.sizes()) + ", expected " +
                std::to_string(dim) + " dimensions");
  return t;
}

int pixel_shuffle_scale(const torch::Tensor& weight, int64_t channels, const std::string& key, const std::string& what) {
  const int64_t out = weight.size(0);
  const auto s = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(out) / static_cast<double>(channels))));
  if (s < 1 || s * s * channels != out)
    throw Error(what + ": tensor '" + key + "' has " + std::to_string(out) + " output channels, not " +
                std::to_string(channels) + " x scale^2 (a pixel-shuffle conv for " + std::to_string(channels) +
                " colour channels)");
  return static_cast<int>(s);
}

int sequence_length(const StateDict& sd, const std::string& prefix) {
  const std::string p = prefix + ".";
  int n = 0;
  for (auto it = sd.lower_bound(p); it != sd.end() && it->first.compare(0, p.size(), p) == 0; ++it) {
    const std::string rest = it->first.substr(p.size());
    const size_t dot = rest.find('.');
    const std::string idx = rest.substr(0, dot);
    if (idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos || idx.size() > 6) continue;
    n = std::max(n, std::stoi(idx) + 1);
  }
  return n;
}

}  // namespace srlab::models
