#include "models/weights/weight_file.h"

#include <fmt/format.h>

#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"
#include "models/weights/finite.h"

namespace srlab::models {
namespace fs = std::filesystem;

std::map<std::string, torch::Tensor> read_tensor_dict(const fs::path& file, const std::string& what,
                                                      const std::string& how) {
  torch::IValue iv;
  {
    std::string bytes;
    try {
      bytes = core::read_file(file);
    } catch (const Error& e) {
      throw Error(fmt::format("{}; {}", e.what(), how));
    }
    try {
      iv = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    } catch (const c10::Error& e) {
      throw Error(fmt::format("{} {}: not a readable torch.save file ({}); {}", what, file.string(),
                              std::string(e.what_without_backtrace()).substr(0, 200), how));
    }
  }
  if (!iv.isGenericDict())
    throw Error(fmt::format("{} {}: expected a dict name -> tensor, found {}; {}", what, file.string(), iv.tagKind(), how));
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : iv.toGenericDict()) {
    if (!kv.key().isString() || !kv.value().isTensor())
      throw Error(fmt::format("{} {}: every entry must map a string name to a tensor; {}", what, file.string(), how));
    require_finite(kv.value().toTensor(), kv.key().toStringRef(), file.string());
    out[kv.key().toStringRef()] = kv.value().toTensor();
  }
  return out;
}

void load_parameters_strict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& dict,
                            const std::string& strip_prefix, const fs::path& file, const std::string& what,
                            const std::string& how) {
  std::map<std::string, torch::Tensor> expected;
  for (const auto& p : module.named_parameters(true)) {
    std::string name = p.key();
    if (!strip_prefix.empty() && name.rfind(strip_prefix, 0) == 0) name = name.substr(strip_prefix.size());
    expected[name] = p.value();
  }
  torch::NoGradGuard ng;
  for (auto& [name, param] : expected) {
    auto it = dict.find(name);
    if (it == dict.end())
      throw Error(fmt::format("{} {}: tensor '{}' is missing (expected shape {}); {}", what, file.string(), name,
                              c10::str(param.sizes()), how));
    if (it->second.sizes() != param.sizes())
      throw Error(fmt::format("{} {}: tensor '{}' has shape {}, expected {}; {}", what, file.string(), name,
                              c10::str(it->second.sizes()), c10::str(param.sizes()), how));
    if (!it->second.is_floating_point())
      throw Error(fmt::format("{} {}: tensor '{}' is {}, expected float; {}", what, file.string(), name,
                              std::string(c10::toString(it->second.scalar_type())), how));
    param.copy_(it->second.to(param.device(), torch::kFloat32));
  }
  for (const auto& [name, t] : dict)
    if (!expected.count(name))
      throw Error(fmt::format("{} {}: unexpected tensor '{}' (shape {}); is this another network? {}", what,
                              file.string(), name, c10::str(t.sizes()), how));
}

fs::path resolve_weight_file(const std::string& explicit_path, const char* env_var, const fs::path& data_relative,
                             const std::string& what, const std::string& how) {
  if (!explicit_path.empty()) {
    const fs::path p = core::expand_data_path(explicit_path);
    if (!fs::is_regular_file(p)) throw Error(fmt::format("{}: '{}' (given explicitly) is not a file; {}", what, p.string(), how));
    return p;
  }
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') {
    const fs::path p = env;
    if (fs::is_regular_file(p)) return p;
    throw Error(fmt::format("{}: {}='{}' is not a file; fix or unset it, or give the path explicitly; {}", what, env_var,
                            p.string(), how));
  }
  std::vector<std::string> tried{"explicit path: not given", fmt::format("${}: not set", env_var)};
  const fs::path data = core::find_shared_data_dir();
  if (!data.empty()) {
    const fs::path p = data / data_relative;
    if (fs::is_regular_file(p)) return p;
    tried.push_back(p.string() + ": no such file");
  } else {
    std::string c;
    for (const auto& d : core::shared_data_candidates()) c += (c.empty() ? "" : ", ") + d.string();
    tried.push_back(fmt::format("shared data folder <data>/{}: no shared data folder found (looked in {})",
                                data_relative.string(), c));
  }
  std::string msg = what + " not found; tried: ";
  for (size_t i = 0; i < tried.size(); ++i) msg += (i ? "; " : "") + tried[i];
  throw Error(fmt::format("{}. Give the path explicitly or set {}; {}", msg, env_var, how));
}

}  // namespace srlab::models
