#pragma once
// Helpers shared by the GoogleTest files.
#include <gtest/gtest.h>

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

}  // namespace srlab::testing
