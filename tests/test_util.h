#pragma once
// Helpers shared by the GoogleTest files.
#include <gtest/gtest.h>

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

}  // namespace srlab::testing
