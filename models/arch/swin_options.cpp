// Shared Swin-family hyperparameter checks (models/arch/swin_options.h).
#include "models/arch/swin_options.h"

namespace srlab::models {

SwinProblem validate_swin_trunk(int embed_dim, const std::vector<int>& depths, const std::vector<int>& num_heads,
                                int window_size, const std::string& group, bool heads_divide_embed_dim) {
  if (embed_dim < 1) return {"embed_dim", "must be >= 1, got " + std::to_string(embed_dim)};
  if (depths.empty()) return {"depths", "must list at least one " + group + ", e.g. [6, 6, 6, 6]"};
  for (int d : depths)
    if (d < 1) return {"depths", "every entry must be >= 1, got " + std::to_string(d)};
  if (num_heads.size() != depths.size())
    return {"num_heads", "must have one entry per depths entry (" + std::to_string(depths.size()) + "), got " +
                             std::to_string(num_heads.size())};
  for (int h : num_heads) {
    if (h < 1) return {"num_heads", "every entry must be >= 1, got " + std::to_string(h)};
    if (heads_divide_embed_dim && embed_dim % h != 0)
      return {"num_heads", "entry " + std::to_string(h) + " does not divide embed_dim " + std::to_string(embed_dim)};
  }
  if (window_size < 1) return {"window_size", "must be >= 1, got " + std::to_string(window_size)};
  return {"", ""};
}

SwinProblem validate_swin_ratios(int embed_dim, double mlp_ratio, double img_range) {
  if (!(std::isfinite(mlp_ratio) && embed_dim * mlp_ratio >= 1.0))
    return {"mlp_ratio", "must be finite with embed_dim * mlp_ratio >= 1"};
  if (!(std::isfinite(img_range) && img_range > 0)) return {"img_range", "must be a finite number > 0 (1.0 or 255.)"};
  return {"", ""};
}

SwinProblem validate_swin_img_size(int img_size, int window_size, bool multiple) {
  if (img_size < window_size)
    return {"img_size", "must be >= window_size (" + std::to_string(window_size) + "), got " + std::to_string(img_size)};
  if (multiple && img_size > window_size && img_size % window_size != 0)
    return {"img_size", "must be a multiple of window_size " + std::to_string(window_size) + " (the shifted-window attn_mask is "
                        "built for img_size x img_size), got " + std::to_string(img_size)};
  return {"", ""};
}

SwinProblem validate_drop_path_rate(double rate) {
  if (!(rate >= 0.0 && rate < 1.0)) return {"drop_path_rate", "must be in [0, 1)"};
  return {"", ""};
}

bool parse_identity_resi_connection(const core::Config& params, const std::string& arch) {
  const std::string resi = params.get<std::string>("resi_connection", "1conv");
  if (resi != "1conv" && resi != "identity")
    params.fail("resi_connection", "unknown value '" + resi + "'; " + arch + " uses 1conv or identity");
  return resi == "identity";
}

}  // namespace srlab::models
