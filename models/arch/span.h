#pragma once
// SPAN: Swift Parameter-free Attention Network (Wan et al., "Swift Parameter-free Attention Network for
// Efficient Super-Resolution", CVPR Workshops 2024, Sec. 3; winner of the NTIRE 2024 efficient-SR
// challenge). Layout, hyperparameters and state-dict keys follow the official code as copied into
// spandrel (chaiNNer-org/spandrel, libs/spandrel/spandrel/architectures/SPAN/__arch/span.py), F =
// feature_channels, s = scale:
//   x' = (x - rgb_mean) * 255              (rgb_mean = (0.4488, 0.4371, 0.4040); skipped when norm: false)
//   conv_1                   Conv3XC 3 -> F                              -> f0
//   block_1 .. block_6       SPAB(F): c1_r, c2_r, c3_r Conv3XC F -> F    -> b1 .. b6
//                            (b5' = silu(c1_r output) of block_6: the reference's SiLU is in place)
//   conv_2                   Conv3XC F -> F on b6
//   conv_cat                 Conv2d 4F -> F, 1x1, on cat(f0, conv_2(b6), b1, b5')
//   upsampler.0              Conv2d F -> 3*s*s, 3x3, then pixel shuffle by s
// SPAB (parameter-free attention, Sec. 3.2): o1 = c1_r(x); o2 = c2_r(silu(o1)); o3 = c3_r(silu(o2));
// a = sigmoid(o3) - 0.5; out = (o3 + x) * a. The output is NOT de-normalised (the reference code returns
// the upsampler output as is; trained weights produce [0,1]).
// `norm: false` (weights with a `no_norm` buffer) feeds x unchanged; the buffer (shape (1), zeros) is then
// part of the state dict, as in the reference.
//
// YAML (`model:` section):
//   type: span
//   feature_channels: 48   # F >= 1 (the official SPAN x4: 48; SPAN-S: 28 ... any)
//   norm: true             # subtract rgb_mean and multiply by 255 first (reference default)
// Supported scales: 1, 2, 3, 4, 8. Defaults at x4: 2,236,728 stored parameters (branches + eval_conv), of
// which eval uses 426,288.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "core/config.h"
#include "models/arch/generator.h"
#include "models/arch/registry.h"

namespace srlab::models {

/// Relative tolerance (to 1 + max |folded weight|) within which an existing eval_conv counts as the fold.
constexpr double kConv3XCFoldTolerance = 1e-6;

/// Conv3XC (SPAN, Sec. 3.3): a re-parameterisable 3x3 convolution c_in -> c_out, stride 1.
/// Training mode computes the branches conv.2(conv.1(conv.0(pad1(x)))) + sk(x) (1x1 c_in -> 2c_in, 3x3
/// valid 2c_in -> 2c_out, 1x1 2c_out -> c_out; sk: 1x1 c_in -> c_out), all with bias. Eval mode folds
/// the branches into one 3x3 conv (fold()), stores it in `eval_conv` (as the reference's update_params()
/// does on every eval forward; an eval_conv already equal to the fold within kConv3XCFoldTolerance, e.g.
/// one loaded from a weight file folded by the reference code, is kept as is) and applies eval_conv with
/// zero padding 1. The two agree exactly in real
/// arithmetic, borders included (padding before conv.0 yields conv.0's bias there, which the folded bias
/// contains); in float32 they agree to ~1e-6 relative.
/// forward: (N,c_in,H,W) -> (N,c_out,H,W).
class Conv3XCImpl : public torch::nn::Module {
 public:
  Conv3XCImpl(int64_t c_in, int64_t c_out, int64_t gain = 2);
  torch::Tensor forward(const torch::Tensor& x);
  /// The folded 3x3 weight (c_out,c_in,3,3) and bias (c_out) of the branches, computed (without grad) in
  /// float64 and returned in the parameters' dtype.
  std::pair<torch::Tensor, torch::Tensor> fold() const;
  /// Copies fold() into eval_conv (no grad). Called by eval-mode forward and before ONNX export.
  void update_eval_conv();

  torch::nn::Conv2d sk{nullptr};
  torch::nn::Sequential conv{nullptr};
  torch::nn::Conv2d eval_conv{nullptr};
};
TORCH_MODULE(Conv3XC);

/// SPAB: the attention block (see the file comment). forward returns {out, silu(o1)} (silu of the c1_r
/// output, used by SPAN for block_6), shapes (N,F,H,W).
class SpabImpl : public torch::nn::Module {
 public:
  explicit SpabImpl(int64_t channels);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);
  Conv3XC c1_r{nullptr}, c2_r{nullptr}, c3_r{nullptr};
};
TORCH_MODULE(Spab);

struct SpanOptions {
  int scale = 4;                 ///< 1, 2, 3, 4 or 8
  int feature_channels = 48;     ///< F >= 1
  bool norm = true;              ///< (x - rgb_mean) * 255 at the input
};

/// The mean subtracted when norm is on (DIV2K RGB mean, reference code) and the image range factor.
constexpr double kSpanRgbMean[3] = {0.4488, 0.4371, 0.4040};
constexpr double kSpanImgRange = 255.0;

/// SPAN generator. forward: (N,3,h,w) float in [0,1] -> (N,3,h*s,w*s), not clamped. Training mode uses
/// the Conv3XC branches, eval mode the folded eval_conv (see Conv3XCImpl). Throws srlab::Error for a
/// malformed input batch.
class SpanImpl : public GeneratorImpl {
 public:
  /// Throws srlab::Error for an unsupported scale or feature_channels < 1.
  explicit SpanImpl(const SpanOptions& options);

  torch::Tensor forward(torch::Tensor lr) override;
  int scale() const override { return options_.scale; }
  std::string type() const override { return "span"; }
  const SpanOptions& options() const { return options_; }
  /// Conv3XC layers in state-dict order (conv_1, block_1.c1_r, ..., block_6.c3_r, conv_2), with their keys.
  std::vector<std::pair<std::string, Conv3XC>> conv3xc_layers() const;

  Conv3XC conv_1{nullptr};
  std::vector<Spab> blocks;  ///< block_1 .. block_6
  torch::nn::Conv2d conv_cat{nullptr};
  Conv3XC conv_2{nullptr};
  torch::nn::Sequential upsampler{nullptr};  ///< upsampler.0 conv, upsampler.1 pixel shuffle
  torch::Tensor no_norm;                     ///< buffer "no_norm" (zeros(1)) when norm is off, else undefined

 private:
  SpanOptions options_;
};

/// Registry factory for "span": reads feature_channels, norm (errors name the key).
Generator make_span(const core::Config& params, int scale);

/// Detector for SPAN state dicts (spandrel's key set: conv_1.sk, block_1.c1_r.{sk,eval_conv},
/// conv_cat, conv_2.{sk,eval_conv}, upsampler.0): F = conv_1.sk.weight.shape[0], s from
/// upsampler.0.weight.shape[0] = 3*s*s, norm = no `no_norm` key. Throws srlab::Error for 1-channel /
/// 4-channel models or scales outside 1,2,3,4,8, and for missing blocks.
std::optional<DetectedModel> detect_span(const StateDict& sd);

/// Registers "span" (called from builtin_generators.cpp).
void register_span();

}  // namespace srlab::models
