#include "eval/naming.h"

#include <cctype>

namespace srlab::eval {

namespace {
bool is_scale_folder(const std::string& s) {
  if (s.size() < 2 || (s[0] != 'x' && s[0] != 'X')) return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}
}  // namespace

std::string dataset_display_name(const std::filesystem::path& dir) {
  std::filesystem::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  if (p.extension() == ".h5" || p.extension() == ".hdf5") return p.stem().string();  // prepared HDF5 test file
  if (is_scale_folder(name) && p.has_parent_path() && !p.parent_path().filename().empty())
    name = p.parent_path().filename().string();
  return name.empty() ? dir.string() : name;
}

std::string method_display_name(const std::string& spec) {
  if (spec == "bicubic" || spec == "sharpened") return spec;
  const std::filesystem::path p(spec);
  if (p.parent_path().filename() == "checkpoints" && p.parent_path().has_parent_path())
    return p.parent_path().parent_path().filename().string() + "/" + p.stem().string();
  return p.stem().string();
}

}  // namespace srlab::eval
