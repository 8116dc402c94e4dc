#pragma once
// SRLab's single exception type. Every user-facing failure (bad input file, bad config key, missing
// weights, ...) is thrown as srlab::Error with a one-line message that names the offending file or key
// and says what to do. The CLI prints e.what() and exits non-zero.
#include <stdexcept>
#include <string>

namespace srlab {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace srlab
