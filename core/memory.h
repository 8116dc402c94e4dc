#pragma once
// Memory estimates checked before large allocations, so that an impossible request fails at once with
// the figure instead of after minutes of work (or with LibTorch's "can't allocate N bytes").
#include <cstdint>
#include <string>

namespace srlab::core {

/// Bytes of memory available to new allocations: MemAvailable of /proc/meminfo (Linux), else the
/// physical memory (sysconf), else 0 when unknown. Never throws.
uint64_t available_memory_bytes();

/// "12.0 GiB" / "512 MiB" style text of a byte count.
std::string format_bytes(uint64_t bytes);

/// Throws srlab::Error "<what> needs about <needed> of memory but only <available> is available;
/// <advice>" when `needed` exceeds the available memory (nothing is thrown when it is unknown).
void check_memory_budget(uint64_t needed, const std::string& what, const std::string& advice);

}  // namespace srlab::core
