#pragma once
// MoSR ("Mamba Out Super-Resolution"): the traiNNer-redux community architecture built from MambaOut's
// gated CNN block (Yu & Wang, "MambaOut: Do We Really Need Mamba for Vision?", 2024, arXiv:2405.07992,
// Sec. 3, Fig. 2) with a convolutional token mixer, Mish activations and a residual convolutional
// shortcut. There is no paper of its own; layout, hyperparameters and state-dict keys follow the code in
// spandrel (chaiNNer-org/spandrel, libs/spandrel/spandrel/architectures/MoSR/__arch/mosr_arch.py,
// detector MoSR/__init__.py). D = dim, B = n_block, s = scale, E = int(expansion_ratio * D) (hidden),
// K = int(conv_ratio * D) (depthwise channels, 1 <= K <= E):
//   gblocks.0                 Conv2d 3 -> D, 3x3
//   gblocks.1 .. gblocks.B    GatedCNNBlock(D)
//   gblocks.B+1, B+3, B+5     Conv2d D -> 2D 3x3, Mish, Conv2d 2D -> D 3x3, Mish, Conv2d D -> D 1x1
//   shortcut                  ConvBlock: block.0 Conv2d 3 -> D 3x3, Mish, block.2 Conv2d D -> D 3x3, Mish,
//                             plus conv11 Conv2d 3 -> D 1x1
//   y = upsampler(gblocks(x) + shortcut(x) - 0.5)
// GatedCNNBlock: t = fc1(norm(x)) (norm: LayerNorm over channels, eps 1e-6; fc1 3x3 D -> 2E), split along
// channels into g (E), i (E - K), c (K); c' = conv(c) (depthwise K x K, kernel_size, zero padding);
// out = x - 0.5 + DropPath(mish(fc2(mish(g) * cat(i, c')))) (fc2 3x3 E -> D).
// Upsamplers (key `upsampler`):
//   ps    upsampler.0 Conv2d D -> 3*s*s 3x3, then pixel shuffle by s
//   gps   "geo-ensemble pixel shuffle": upsampler.in_to_k Conv2d D -> 8*3*s*s 3x3, the mean of its 8
//         consecutive groups of 3*s*s channels, then pixel shuffle by s
//   dys   DySample(D -> 3, s, groups 4, end conv) (models/arch/dysample.h); D must be a multiple of 4
// Initialisation as the reference: the GatedCNNBlocks' convs normal(0, 0.02) (trunc_normal_, bounds +-2
// never reached) with zero biases, LayerNorm 1/0, LibTorch defaults elsewhere.
// Fully convolutional: any input size, no padding or cropping.
//
// YAML (`model:` section):
//   type: mosr
//   n_block: 24             # B >= 1
//   dim: 64                 # D >= 1
//   upsampler: ps           # ps | gps | dys
//   kernel_size: 7          # depthwise kernel, odd >= 1
//   expansion_ratio: 1.5    # E = int(expansion_ratio * D)
//   conv_ratio: 1.0         # K = int(conv_ratio * D), 1 <= K <= E
//   drop_path: 0.0          # stochastic depth in training, rising linearly over the blocks to this, [0, 1)
// Supported scales: 1, 2, 3, 4, 8. RGB in and out only (the reference's in_ch/out_ch are 3).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>

#include "core/config.h"
#include "models/arch/dysample.h"
#include "models/arch/generator.h"
#include "models/arch/plksr.h"
#include "models/arch/registry.h"

namespace srlab::models {

/// The scales MoSR supports (1, 2, 3, 4, 8).
extern const std::vector<int> kMosrScales;

enum class MosrUpsampler { kPixelShuffle, kGeoPixelShuffle, kDySample };

/// YAML name of an upsampler: "ps", "gps", "dys".
std::string mosr_upsampler_name(MosrUpsampler u);

struct MosrOptions {
  int scale = 4;                  ///< 1, 2, 3, 4 or 8
  int n_block = 24;               ///< B >= 1
  int dim = 64;                   ///< D >= 1 (a multiple of 4 with dys)
  MosrUpsampler upsampler = MosrUpsampler::kPixelShuffle;
  int kernel_size = 7;            ///< depthwise kernel of the gated blocks, odd >= 1
  double expansion_ratio = 1.5;   ///< E = int(expansion_ratio * D)
  double conv_ratio = 1.0;        ///< K = int(conv_ratio * D)
  double drop_path = 0.0;         ///< stochastic depth rate of the last block, [0, 1)
};

/// The first invalid option of `o` as {YAML key, problem}, or {"", ""} when all are valid.
std::pair<std::string, std::string> mosr_invalid_option(const MosrOptions& o);

/// MambaOut's gated CNN block in MoSR's form (see the file comment). forward: (N,D,H,W) -> (N,D,H,W).
/// DropPath (probability `drop_path`, per sample, x / keep * Bernoulli(keep)) acts in training only.
class GatedCnnBlockImpl : public torch::nn::Module {
 public:
  GatedCnnBlockImpl(int64_t dim, double expansion_ratio, int64_t kernel_size, double conv_ratio, double drop_path);
  torch::Tensor forward(const torch::Tensor& x);

  ChannelLayerNorm norm{nullptr};  ///< over channels, eps 1e-6 (models/arch/plksr.h)
  torch::nn::Conv2d fc1{nullptr};  ///< D -> 2E, 3x3
  torch::nn::Conv2d conv{nullptr}; ///< K -> K depthwise, kernel_size x kernel_size
  torch::nn::Conv2d fc2{nullptr};  ///< E -> D, 3x3
  int64_t hidden = 0;              ///< E
  int64_t conv_channels = 0;       ///< K
  double drop_path = 0.0;
};
TORCH_MODULE(GatedCnnBlock);

/// The convolutional shortcut (AST's ConvBlock): mish(block.2(mish(block.0(x)))) + conv11(x).
/// forward: (N,C_in,H,W) -> (N,C_out,H,W).
class MosrConvBlockImpl : public torch::nn::Module {
 public:
  MosrConvBlockImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential block{nullptr};  ///< block.0 conv 3x3, Mish, block.2 conv 3x3, Mish
  torch::nn::Conv2d conv11{nullptr};     ///< 1x1
};
TORCH_MODULE(MosrConvBlock);

/// Geo-ensemble pixel shuffle: pixel_shuffle(mean over 8 groups of in_to_k(x)).
/// forward: (N,D,H,W) -> (N,out,s*H,s*W).
class GeoPixelShuffleImpl : public torch::nn::Module {
 public:
  GeoPixelShuffleImpl(int64_t dim, int64_t scale, int64_t out_channels, int64_t kernel_size = 3);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d in_to_k{nullptr};  ///< D -> 8*out*s*s, kernel_size x kernel_size
  int64_t scale;
};
TORCH_MODULE(GeoPixelShuffle);

/// MoSR generator. forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s), not clamped. Throws
/// srlab::Error for a malformed input batch.
class MosrImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error naming the option for invalid values or an unsupported scale.
  explicit MosrImpl(const MosrOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "mosr"; }
  const MosrOptions& options() const { return options_; }

  torch::nn::Sequential gblocks{nullptr};
  MosrConvBlock shortcut{nullptr};
  torch::nn::Sequential ps{nullptr};    ///< key upsampler (ps): conv, pixel shuffle
  GeoPixelShuffle gps{nullptr};         ///< key upsampler (gps)
  DySample dys{nullptr};                ///< key upsampler (dys)

 private:
  MosrOptions options_;
};

/// Registry factory for "mosr" (errors name the key).
Generator make_mosr(const core::Config& params, int scale);

/// Detector for MoSR state dicts (spandrel's key set: gblocks.0, gblocks.1.{norm,fc1,conv,fc2},
/// shortcut.conv11): D and the input channels from gblocks.0.weight, B = (gblocks length) - 6, E and
/// expansion_ratio = E / D from gblocks.1.fc1.weight (2E x D), K, conv_ratio = K / D and kernel_size
/// from gblocks.1.conv.weight; upsampler dys (upsampler.init_pos; s from upsampler.offset, 8*s*s
/// outputs), gps (upsampler.in_to_k; 24*s*s outputs) or ps (upsampler.0; 3*s*s outputs). drop_path has
/// no trace and takes 0. Throws srlab::Error for non-RGB models, unsupported scales and inconsistent
/// shapes.
std::optional<DetectedModel> detect_mosr(const StateDict& sd);

/// Registers "mosr" (called from builtin_generators.cpp).
void register_mosr();

}  // namespace srlab::models
