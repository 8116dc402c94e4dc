#pragma once
// Hyperparameters the Swin-family generators share (SwinIR and the zoo transformers that copy its
// trunk: HAT, DRCT, ATD): one reader of their YAML keys and one set of checks, so each make_<arch> and
// <arch>_validate adds only its own keys. Each options struct keeps its own defaults (the reference
// constructor's); the reader keeps a field's value when its key is absent.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"

namespace srlab::models {

/// (key, problem) of the first invalid hyperparameter, or ("", "") when valid (as <arch>_validate).
using SwinProblem = std::pair<std::string, std::string>;

/// Reads embed_dim, depths, num_heads, window_size, mlp_ratio, qkv_bias, patch_norm and img_range from
/// `params` into the same-named fields of `o` (their current values are the defaults). Wrong YAML types
/// fail through core::Config (naming the file and key).
template <class Options>
void read_swin_trunk_options(const core::Config& params, Options& o) {
  o.embed_dim = params.get<int>("embed_dim", o.embed_dim);
  o.depths = params.get<std::vector<int>>("depths", o.depths);
  o.num_heads = params.get<std::vector<int>>("num_heads", o.num_heads);
  o.window_size = params.get<int>("window_size", o.window_size);
  o.mlp_ratio = params.get<double>("mlp_ratio", o.mlp_ratio);
  o.qkv_bias = params.get<bool>("qkv_bias", o.qkv_bias);
  o.patch_norm = params.get<bool>("patch_norm", o.patch_norm);
  o.img_range = params.get<double>("img_range", o.img_range);
}

/// embed_dim >= 1; depths non-empty with entries >= 1 (`group` names a depths entry in the message, e.g.
/// "RSTB depth"); one num_heads entry per depths entry, each >= 1 and, when `heads_divide_embed_dim`,
/// dividing embed_dim; window_size >= 1.
SwinProblem validate_swin_trunk(int embed_dim, const std::vector<int>& depths, const std::vector<int>& num_heads,
                                int window_size, const std::string& group, bool heads_divide_embed_dim = true);

/// mlp_ratio finite with embed_dim * mlp_ratio >= 1; img_range finite and > 0.
SwinProblem validate_swin_ratios(int embed_dim, double mlp_ratio, double img_range);

/// img_size >= window_size and, when larger, a multiple of it (the stored shifted-window attn_mask is
/// built for img_size x img_size). `multiple` false checks only the lower bound (HAT keeps no mask).
SwinProblem validate_swin_img_size(int img_size, int window_size, bool multiple = true);

/// drop_path_rate in [0, 1).
SwinProblem validate_drop_path_rate(double rate);

/// The `resi_connection` key of HAT and DRCT: "1conv" (default, false) or "identity" (true); any other
/// value fails through `params.fail` naming `arch`.
bool parse_identity_resi_connection(const core::Config& params, const std::string& arch);

}  // namespace srlab::models
