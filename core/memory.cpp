#include "core/memory.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace srlab::core {

uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

std::string format_bytes(uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.0f} MiB", b / (1024.0 * 1024));
  return fmt::format("{:.0f} KiB", b / 1024.0);
}

void check_memory_budget(uint64_t needed, const std::string& what, const std::string& advice) {
  const uint64_t avail = available_memory_bytes();
  if (avail == 0 || needed <= avail) return;
  throw Error(what + " needs about " + format_bytes(needed) + " of memory but only " + format_bytes(avail) +
              " is available; " + advice);
}

}  // namespace srlab::core
