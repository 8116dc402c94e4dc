#include "train/run_dir.h"

#include <cstdio>
#include <ctime>

#include "core/error.h"
#include "core/fs.h"
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

namespace {
constexpr const char* kAdvice = "pick another run name (train.name / --set name=...)";

void archive_run_dir(const fs::path& runs_dir, const fs::path& dir, const std::string& name) {
  // A live run holds the lock; refuse instead of moving its folder away under it.
  core::FolderLock old = core::FolderLock::try_acquire(dir, "run folder", kAdvice);
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
  fs::path archived = runs_dir / (name + "_archived_" + stamp);
  for (int i = 1; fs::exists(archived); ++i) archived = runs_dir / (name + "_archived_" + stamp + "_" + std::to_string(i));
  std::error_code ec;
  fs::rename(dir, archived, ec);
  if (ec) throw Error("run folder '" + dir.string() + "' exists and cannot be archived: " + ec.message());
  core::log("run folder {} existed; moved it to {}", dir.string(), archived.string());
}
}  // namespace

LockedRunDir create_run_dir(const fs::path& runs_dir, const std::string& name) {
  std::error_code ec;
  fs::create_directories(runs_dir, ec);
  if (ec) throw Error("cannot create runs folder '" + runs_dir.string() + "': " + ec.message());
  const core::FolderMutex mutex(runs_dir);
  const fs::path dir = runs_dir / name;
  if (fs::exists(dir)) archive_run_dir(runs_dir, dir, name);
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) throw Error("cannot create run folder '" + dir.string() + "': " + ec.message());
  return {dir, core::FolderLock::try_acquire(dir, "run folder", kAdvice)};
}

LockedRunDir lock_run_dir(const fs::path& run_dir) {
  if (!fs::is_directory(run_dir))
    throw Error("cannot resume: '" + run_dir.string() + "' is not a folder (pass a run folder made by srlab train)");
  const fs::path parent = run_dir.has_parent_path() ? run_dir.parent_path() : fs::path(".");
  const core::FolderMutex mutex(parent);
  LockedRunDir locked{run_dir, core::FolderLock::try_acquire(run_dir, "run folder", "resume it later")};
  core::remove_stale_temps(run_dir / "checkpoints");
  return locked;
}

}  // namespace srlab::train
