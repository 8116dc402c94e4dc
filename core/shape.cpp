#include "core/shape.h"

namespace srlab::core {

std::string shape_text(c10::IntArrayRef sizes) { return c10::str(sizes); }

std::string shape_text(const torch::Tensor& t) { return t.defined() ? shape_text(t.sizes()) : "undefined"; }

std::string dims_text(c10::IntArrayRef sizes) {
  std::string s;
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? "x" : "") + std::to_string(sizes[i]);
  return s;
}

}  // namespace srlab::core
