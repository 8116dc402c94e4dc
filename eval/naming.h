#pragma once
// Short display names for datasets and methods in tables and JSON.
#include <filesystem>
#include <string>

namespace srlab::eval {

/// ".../benchmarks/Set5/x4" -> "Set5"; ".../my_photos" -> "my_photos"; "a/set14_blur.h5" -> "set14_blur" (a trailing "x<digits>" folder is
/// skipped, as are trailing slashes).
std::string dataset_display_name(const std::filesystem::path& dir);

/// "bicubic"/"sharpened" unchanged; a checkpoint ".../runs/quickstart/checkpoints/best.pt" ->
/// "quickstart/best"; any other file -> its stem.
std::string method_display_name(const std::string& spec);

}  // namespace srlab::eval
