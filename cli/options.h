#pragma once
// The one place where numeric command-line options are validated (as core::Config validates config
// keys): every bounded option of every subcommand is declared with ranged() / threads_option(), whose
// notifier rejects non-finite values (nan, inf) and values outside [lo, hi] with a srlab::Error naming
// the option, the accepted range and the value given.
#include <boost/program_options.hpp>

#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace srlab::cli {

/// Throws srlab::Error "--<name> must be <range>, got <value>" unless `value` is finite and in [lo, hi].
template <typename T>
void check_range(const std::string& name, T value, T lo, T hi) {
  bool ok = value >= lo && value <= hi;
  if constexpr (std::is_floating_point_v<T>) ok = ok && std::isfinite(value);
  if (ok) return;
  std::string range;
  if (hi == std::numeric_limits<T>::max())
    range = fmt::format(">= {}", lo);
  else
    range = fmt::format("in {}..{}", lo, hi);
  throw Error(fmt::format("--{} must be {}{}, got {}", name, std::is_floating_point_v<T> ? "a finite number " : "an integer ",
                          range, value));
}

/// A boost::program_options value bound to `var` whose parsed value must lie in [lo, hi] (finite).
/// Use with ->default_value(...) as usual; the default itself is not checked.
template <typename T>
boost::program_options::typed_value<T>* ranged(T* var, const std::string& name, T lo,
                                               T hi = std::numeric_limits<T>::max()) {
  return boost::program_options::value<T>(var)->notifier([name, lo, hi](const T& v) { check_range(name, v, lo, hi); });
}

/// The --threads option of every command: an integer >= 0 (0 = all cores), default 0.
inline boost::program_options::typed_value<int>* threads_option(int* var) {
  return ranged<int>(var, "threads", 0, 4096)->default_value(0);
}

}  // namespace srlab::cli
