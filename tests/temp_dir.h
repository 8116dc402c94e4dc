#pragma once
// A temporary folder for tests, removed with its contents on destruction.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace srlab::testing {

/// A fresh folder under the system temp directory ("srlab_<tag>_<pid>_<n>").
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag = "test") {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("srlab_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace srlab::testing
