#include "core/log.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>

namespace srlab::core {
namespace {
std::mutex g_mutex;
std::ofstream g_file;
bool g_stderr = true;
}  // namespace

void set_log_file(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file.is_open()) g_file.close();
  if (!path.empty()) g_file.open(path, std::ios::app);
}

void set_log_stderr(bool enabled) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_stderr = enabled;
}

void log_line(const std::string& message) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_stderr) std::cerr << '[' << stamp << "] " << message << '\n';
  if (g_file.is_open()) g_file << '[' << stamp << "] " << message << '\n' << std::flush;
}

}  // namespace srlab::core
