// YAML factory, state-dict detector and registration of "mosr" (models/arch/mosr.h).
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "models/arch/arch_util.h"
#include "models/arch/mosr.h"
#include "models/arch/state_dict_util.h"

namespace srlab::models {

namespace {
/// Layers of gblocks that are not GatedCNNBlocks: the first conv and conv, Mish, conv, Mish, conv at the end.
constexpr int kExtraLayers = 6;

/// The ratio r (as close to n / dim as possible) for which int(r * dim) == n, the reference's formula.
/// n / dim itself can round below n when multiplied back (e.g. 7 / 10 * 10 = 6.9999...); step up by ulps.
double ratio_for(int64_t n, int64_t dim) {
  double r = static_cast<double>(n) / static_cast<double>(dim);
  for (int i = 0; i < 8 && static_cast<int64_t>(r * static_cast<double>(dim)) < n; ++i)
    r = std::nextafter(r, std::numeric_limits<double>::infinity());
  return r;
}

/// The s with factor * s * s == channels, or 0.
int square_scale(int64_t channels, int64_t factor) {
  if (channels <= 0 || channels % factor != 0) return 0;
  const auto s = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(channels / factor))));
  return s * s * factor == channels ? static_cast<int>(s) : 0;
}
}  // namespace

Generator make_mosr(const core::Config& params, int scale) {
  check_scale(params, "mosr", scale, kMosrScales);
  MosrOptions o;
  o.scale = scale;
  o.n_block = params.get<int>("n_block", o.n_block);
  o.dim = params.get<int>("dim", o.dim);
  const std::string up = params.get<std::string>("upsampler", "ps");
  if (up == "ps")
    o.upsampler = MosrUpsampler::kPixelShuffle;
  else if (up == "gps")
    o.upsampler = MosrUpsampler::kGeoPixelShuffle;
  else if (up == "dys")
    o.upsampler = MosrUpsampler::kDySample;
  else
    params.fail("upsampler", "unknown upsampler '" + up + "'; use ps (pixel shuffle), gps (geo-ensemble pixel "
                             "shuffle) or dys (DySample)");
  o.kernel_size = params.get<int>("kernel_size", o.kernel_size);
  o.expansion_ratio = params.get<double>("expansion_ratio", o.expansion_ratio);
  o.conv_ratio = params.get<double>("conv_ratio", o.conv_ratio);
  o.drop_path = params.get<double>("drop_path", o.drop_path);
  const auto [key, problem] = mosr_invalid_option(o);
  if (!key.empty()) params.fail(key, problem);
  return std::make_shared<MosrImpl>(o);
}

std::optional<DetectedModel> detect_mosr(const StateDict& sd) {
  for (const char* k : {"gblocks.0.weight", "gblocks.1.norm.weight", "gblocks.1.fc1.weight", "gblocks.1.conv.weight",
                        "gblocks.1.fc2.weight", "shortcut.conv11.weight"})
    if (!sd.count(k)) return std::nullopt;
  const std::string what = "MoSR weights";
  const torch::Tensor& first = tensor_of(sd, "gblocks.0.weight", 4, what);
  if (first.size(1) != 3)
    throw Error(what + ": gblocks.0.weight has " + std::to_string(first.size(1)) +
                " input channels; SRLab's MoSR takes RGB (3) only");
  const int64_t dim = first.size(0);
  const int len = sequence_length(sd, "gblocks");
  const int blocks = len - kExtraLayers;
  if (blocks < 1)
    throw Error(what + ": found " + std::to_string(len) + " gblocks layers, too few for any GatedCNNBlock");
  for (int i = 1; i <= blocks; ++i) require_key(sd, "gblocks." + std::to_string(i) + ".fc1.weight", what);
  for (int i : {blocks + 1, blocks + 3, blocks + 5}) require_key(sd, "gblocks." + std::to_string(i) + ".weight", what);

  const torch::Tensor& fc1 = tensor_of(sd, "gblocks.1.fc1.weight", 4, what);
  const torch::Tensor& conv = tensor_of(sd, "gblocks.1.conv.weight", 4, what);
  const int64_t hidden = fc1.size(0) / 2, conv_channels = conv.size(0), kernel = conv.size(2);
  if (fc1.size(0) % 2 != 0 || fc1.size(1) != dim)
    throw Error(what + ": gblocks.1.fc1.weight has shape [" + std::to_string(fc1.size(0)) + ", " +
                std::to_string(fc1.size(1)) + ", ...], expected [2 x hidden, dim = " + std::to_string(dim) + ", ...]");
  if (conv_channels < 1 || conv_channels > hidden || conv.size(1) != 1 || kernel % 2 == 0 || conv.size(3) != kernel)
    throw Error(what + ": gblocks.1.conv.weight (depthwise, " + std::to_string(conv_channels) + " channels, kernel " +
                std::to_string(kernel) + ") is no odd square depthwise kernel over at most hidden = " +
                std::to_string(hidden) + " channels");

  std::string upsampler;
  int scale = 0;
  if (sd.count("upsampler.init_pos")) {
    upsampler = "dys";
    const torch::Tensor& end = tensor_of(sd, "upsampler.end_conv.weight", 4, what);
    if (end.size(0) != 3)
      throw Error(what + ": upsampler.end_conv.weight has " + std::to_string(end.size(0)) +
                  " output channels; SRLab's MoSR outputs RGB (3) only");
    const int64_t n = tensor_of(sd, "upsampler.offset.weight", 4, what).size(0);
    scale = square_scale(n, 8);
    if (scale == 0)
      throw Error(what + ": upsampler.offset.weight has " + std::to_string(n) +
                  " output channels, not 8 * s * s (DySample with 4 groups)");
  } else if (sd.count("upsampler.in_to_k.weight")) {
    upsampler = "gps";
    const int64_t n = tensor_of(sd, "upsampler.in_to_k.weight", 4, what).size(0);
    scale = square_scale(n, 24);
    if (scale == 0)
      throw Error(what + ": upsampler.in_to_k.weight has " + std::to_string(n) +
                  " output channels, not 8 * 3 * s * s (geo-ensemble pixel shuffle to RGB)");
  } else {
    upsampler = "ps";
    scale = pixel_shuffle_scale(tensor_of(sd, "upsampler.0.weight", 4, what), 3, "upsampler.0.weight", what);
  }
  check_scale("mosr", scale, kMosrScales);

  std::ostringstream y;
  y.precision(17);
  y << "type: mosr\nn_block: " << blocks << "\ndim: " << dim << "\nupsampler: " << upsampler
    << "\nkernel_size: " << kernel << "\nexpansion_ratio: " << ratio_for(hidden, dim)
    << "\nconv_ratio: " << ratio_for(conv_channels, dim) << "\n";
  return DetectedModel{y.str(), scale};
}

void register_mosr() {
  register_generator("mosr", make_mosr,
                     "MoSR (traiNNer-redux, MambaOut gated CNN blocks), spandrel layout; params n_block (B, default "
                     "24), dim (D, 64), upsampler (ps | gps | dys, ps), kernel_size (depthwise, odd, 7), "
                     "expansion_ratio (hidden = int(ratio * D), 1.5), conv_ratio (depthwise share, 1.0), drop_path "
                     "(stochastic depth, 0); scales 1,2,3,4,8",
                     detect_mosr);
}

}  // namespace srlab::models
