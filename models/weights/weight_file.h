#pragma once
// Pretrained weights exchanged with the Python ecosystem as plain .pt files: a dict name -> tensor
// written by torch.save (zip format), e.g. a (filtered) torchvision / `lpips` state dict. Used by the
// LPIPS network (models/features/lpips.h) and the VGG19 feature extractor (models/features/vgg19_features.h).
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace srlab::models {

/// Reads a .pt file holding a dict name -> tensor.
/// @param file  the .pt file
/// @param what  label of the file in messages, e.g. "LPIPS-squeeze weights"
/// @param how   appended to every message: how to obtain a correct file
/// @throws srlab::Error naming `file` when it cannot be read, is no torch.save file, or is not a dict of
///         string -> tensor.
std::map<std::string, torch::Tensor> read_tensor_dict(const std::filesystem::path& file, const std::string& what,
                                                      const std::string& how);

/// Copies the tensors of `dict` into the parameters of `module`, strictly: the module's parameter
/// names (with the leading `strip_prefix` removed where present) must all be in `dict` with exactly the
/// same shape and a floating type, and `dict` must hold nothing else (another network). Values are
/// converted to float32 on the parameter's device, under NoGradGuard.
/// @throws srlab::Error "<what> <file>: tensor '<name>' is missing / has shape .. expected .. / is <type> /
///         unexpected tensor ...; <how>".
void load_parameters_strict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& dict,
                            const std::string& strip_prefix, const std::filesystem::path& file,
                            const std::string& what, const std::string& how);

/// Where a weight file is: `explicit_path` (a CLI option or config key; "${data}" expanded) when
/// non-empty, else the environment variable `env_var` when set and non-empty, else
/// core::find_shared_data_dir() / `data_relative`.
/// @param what  label in messages ("LPIPS weights"); @param how  appended to every message.
/// @return an existing regular file.
/// @throws srlab::Error listing every place tried (the shared-data candidates when no shared data
///         folder exists) when the chosen or default file does not exist.
std::filesystem::path resolve_weight_file(const std::string& explicit_path, const char* env_var,
                                          const std::filesystem::path& data_relative, const std::string& what,
                                          const std::string& how);

}  // namespace srlab::models
