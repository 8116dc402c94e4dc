#pragma once
// A small tmpfs for disk-full tests (needs root, as in CI; tests skip with a note when mounting fails).
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace srlab::testing {

/// Mounts a tmpfs of `size` (e.g. "1m") on a fresh folder under the temp directory; unmounts and removes
/// it on destruction. mounted() is false when not root or the mount is refused.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& size) {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("srlab_tmpfs_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    mounted_ = ::geteuid() == 0 && ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

}  // namespace srlab::testing
