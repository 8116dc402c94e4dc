#include "core/paths.h"

#include <unistd.h>

#include <cstdlib>

#include "core/error.h"

namespace srlab::core {
namespace fs = std::filesystem;

namespace {

bool looks_like_data_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p / "benchmarks", ec) || fs::is_directory(p / "train", ec);
}

fs::path executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

void add_upwards(std::vector<fs::path>& out, fs::path dir) {
  if (dir.empty()) return;
  dir = fs::weakly_canonical(dir);
  while (true) {
    out.push_back(dir / "shared" / "data");
    out.push_back(dir.parent_path() / "shared" / "data");
    if (dir == dir.root_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
}

}  // namespace

std::vector<fs::path> shared_data_candidates() {
  std::vector<fs::path> c;
  if (const char* env = std::getenv("SRLAB_DATA"); env && *env) c.emplace_back(env);
  std::error_code ec;
  add_upwards(c, fs::current_path(ec));
  add_upwards(c, executable_dir());
  std::vector<fs::path> unique;
  for (auto& p : c) {
    bool seen = false;
    for (auto& u : unique) seen = seen || (u == p);
    if (!seen) unique.push_back(p);
  }
  return unique;
}

fs::path find_shared_data_dir() {
  if (const char* env = std::getenv("SRLAB_DATA"); env && *env) {
    return looks_like_data_dir(env) ? fs::path(env) : fs::path();
  }
  for (const auto& p : shared_data_candidates())
    if (looks_like_data_dir(p)) return p;
  return {};
}

fs::path shared_data_dir() {
  fs::path p = find_shared_data_dir();
  if (!p.empty()) return p;
  std::string msg = "shared data folder not found (expected a folder with benchmarks/ or train/). ";
  if (const char* env = std::getenv("SRLAB_DATA"); env && *env)
    msg += "SRLAB_DATA='" + std::string(env) + "' does not hold it. ";
  msg += "Looked in:";
  const auto cands = shared_data_candidates();
  for (size_t i = 0; i < cands.size() && i < 8; ++i) msg += " " + cands[i].string() + (i + 1 < cands.size() ? "," : "");
  if (cands.size() > 8) msg += " ...";
  msg += ". Set SRLAB_DATA=/path/to/shared/data or run from a checkout next to shared/data.";
  throw Error(msg);
}

std::string expand_data_path(const std::string& path) {
  const std::string key = "${data}";
  auto pos = path.find(key);
  if (pos == std::string::npos) return path;
  std::string out = path;
  const std::string dir = shared_data_dir().string();
  while ((pos = out.find(key)) != std::string::npos) out.replace(pos, key.size(), dir);
  return out;
}

fs::path find_near_executable(const fs::path& relative) {
  fs::path dir = executable_dir();
  std::error_code ec;
  while (!dir.empty()) {
    if (fs::exists(dir / relative, ec)) return dir / relative;
    if (dir == dir.root_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return {};
}

}  // namespace srlab::core
