#pragma once
// Minimal timestamped logging to stderr (and optionally a run's log file), formatted with fmt.
#include <fmt/format.h>

#include <filesystem>
#include <string>

namespace srlab::core {

/// Also append every log line to `path` (empty path: stop). Thread-safe.
void set_log_file(const std::filesystem::path& path);

/// Writes "[HH:MM:SS] message" to stderr and the log file.
void log_line(const std::string& message);

template <typename... Args>
void log(fmt::format_string<Args...> f, Args&&... args) {
  log_line(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace srlab::core
