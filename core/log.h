#pragma once
// Minimal timestamped logging to stderr (and optionally a run's log file), formatted with fmt.
#include <fmt/format.h>

#include <filesystem>
#include <string>

namespace srlab::core {

/// Also append every log line to `path` (empty path: stop). Thread-safe.
void set_log_file(const std::filesystem::path& path);

/// Whether log lines also go to stderr (default true). Data-parallel training turns it off on every
/// rank but 0, so that a run logs once (errors are still printed by the CLI on every rank).
void set_log_stderr(bool enabled);

/// Writes "[HH:MM:SS] message" to stderr (unless disabled) and the log file.
void log_line(const std::string& message);

template <typename... Args>
void log(fmt::format_string<Args...> f, Args&&... args) {
  log_line(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace srlab::core
