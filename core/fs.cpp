#include "core/fs.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace srlab::core {
namespace fs = std::filesystem;

fs::path temp_path_for(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  return fs::path(target.string() + ".tmp." + std::to_string(::getpid()) + "." +
                  std::to_string(counter++));
}

void write_atomic_with(const fs::path& target, const std::function<void(const fs::path&)>& writer) {
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw Error("cannot create folder '" + target.parent_path().string() + "': " + ec.message());
  }
  const fs::path tmp = temp_path_for(target);
  try {
    writer(tmp);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw Error("cannot move '" + tmp.string() + "' onto '" + target.string() + "': " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_file_atomic(const fs::path& target, std::string_view content) {
  write_atomic_with(target, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot open '" + tmp.string() + "' for writing");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw Error("failed writing '" + tmp.string() + "' (disk full?)");
  });
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read file '" + path.string() + "': it does not exist or is not readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace srlab::core
