#include "train/run_dir.h"

#include <cstdio>
#include <ctime>

#include "core/error.h"
#include "core/log.h"

namespace srlab::train {
namespace fs = std::filesystem;

namespace {
std::string run_command(const char* cmd) {
  std::string out;
  FILE* pipe = ::popen(cmd, "r");
  if (!pipe) return out;
  char buf[256];
  while (std::fgets(buf, sizeof(buf), pipe)) out += buf;
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}
}  // namespace

std::string git_revision() {
  std::string rev = run_command("git rev-parse HEAD 2>/dev/null");
  if (rev.empty()) return "unknown";
  if (!run_command("git status --porcelain --untracked-files=no 2>/dev/null").empty()) rev += "-dirty";
  return rev;
}

fs::path create_run_dir(const fs::path& runs_dir, const std::string& name) {
  const fs::path dir = runs_dir / name;
  std::error_code ec;
  if (fs::exists(dir)) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
    fs::path archived = runs_dir / (name + "_archived_" + stamp);
    for (int i = 1; fs::exists(archived); ++i) archived = runs_dir / (name + "_archived_" + stamp + "_" + std::to_string(i));
    fs::rename(dir, archived, ec);
    if (ec) throw Error("run folder '" + dir.string() + "' exists and cannot be archived: " + ec.message());
    core::log("run folder {} existed; moved it to {}", dir.string(), archived.string());
  }
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) throw Error("cannot create run folder '" + dir.string() + "': " + ec.message());
  return dir;
}

}  // namespace srlab::train
