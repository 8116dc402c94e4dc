#pragma once
// Helpers shared by the GoogleTest files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

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

/// The comma-separated fields of one CSV line (metrics.csv; no quoting), keeping a trailing empty field.
inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

/// A folder of this test process under the temp folder (srlab_test_<pid>), made on first use and removed with
/// everything in it when the process exits, so that test runs leave nothing behind in /tmp.
inline const std::filesystem::path& process_temp_dir() {
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("srlab_test_" + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

}  // namespace srlab::testing
