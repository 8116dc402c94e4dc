#pragma once
// Helpers shared by the GoogleTest files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"

namespace srlab::testing {

/// Runs `f` and returns the message of the srlab::Error it throws; records a test failure (and
/// returns "") when it throws nothing.
template <typename Fn>
std::string error_of(Fn&& f) {
  try {
    f();
  } catch (const srlab::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected srlab::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected srlab::Error, nothing thrown";
  return "";
}

/// A fresh folder under the system temp directory ("srlab_<tag>_<pid>_<n>"), removed with its contents
/// on destruction.
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
