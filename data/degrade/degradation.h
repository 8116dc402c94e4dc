#pragma once
// Degradation pipelines that turn an HR image into a realistic LR input: the classic bicubic
// downsampling, the "first order" model blur -> resize -> noise -> JPEG (Zhang et al., "Designing a
// Practical Degradation Model for Deep Blind Image Super-Resolution" (BSRGAN), ICCV 2021, Sec. 3;
// Wang et al., Real-ESRGAN, ICCVW 2021, Sec. 3.1) and Real-ESRGAN's "second order" model (Sec. 3.2:
// the first-order model applied twice, then a final sinc filter and JPEG in random order).
//
// YAML (the `degradation:` section of a config; every parameter is optional, ranges are [lo, hi] or a
// single value, probabilities in [0, 1]):
//   degradation:
//     type: first_order            # bicubic | first_order | second_order | sequence
//     blur:   {prob: 1.0, kernel_size: [7, 21], sigma: [0.2, 3.0], kernels: {iso: 0.45, aniso: 0.25, ...}}
//     resize: {modes: {bicubic: 1, bilinear: 1, area: 1}}
//     noise:  {prob: 1.0, gaussian_prob: 0.5, sigma: [1, 30], poisson_scale: [0.05, 3], gray_prob: 0.4}
//     jpeg:   {prob: 1.0, quality: [30, 95]}
//   or an explicit list of steps (types blur, sinc, resize, noise, jpeg, bicubic, random_order, sequence):
//   degradation:
//     type: sequence
//     steps: [{type: blur, kernels: {iso: 1}, sigma: 1.6, kernel_size: 13}, {type: resize, modes: {bicubic: 1}},
//             {type: jpeg, quality: 40}]
// See configs/degradations/*.yaml for the shipped presets and docs/degradations in README.md.
//
// Determinism: a sample's degradation is a pure function of (config, seed, index): its generator is a
// std::mt19937_64 seeded from splitmix64-mixed (seed, index) and every draw is portable (degrade_random.h;
// Gaussian noise comes from cv::RNG, OpenCV's fixed generator).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/degrade/degrade_step.h"

namespace srlab::data {

/// The result of degrading one HR image.
struct DegradedSample {
  torch::Tensor lr;       ///< float32 (C,H/scale,W/scale) in [0,1] on the 8-bit grid
  nlohmann::json params;  ///< {"type", "seed", "index", "steps": [one record per applied step]}
};

/// A configured degradation pipeline (immutable, thread-safe).
class Degradation {
 public:
  /// Builds the pipeline from a `degradation:` mapping and checks that every key below it was used.
  /// Throws srlab::Error naming the file and key for unknown types/keys and invalid values.
  static Degradation from_config(const core::Config& cfg);
  /// Like from_config(), but `node` may also be a string: the path of a YAML file ("${data}" expanded)
  /// whose root is a degradation mapping or holds one under a single `degradation:` key (the format of
  /// configs/degradations/*.yaml). Throws srlab::Error naming the file for missing/malformed files.
  static Degradation from_config_or_file(const core::Config& node);
  /// Loads a degradation file (see from_config_or_file()).
  static Degradation load_file(const std::filesystem::path& file);
  /// Parses YAML text (e.g. "type: bicubic"); `source` names it in errors.
  static Degradation parse(const std::string& yaml, const std::string& source = "<degradation>");

  /// Degrades `hr`: float (C,H,W), C = 1 or 3, values in [0,1] (snapped to the 8-bit grid first), H and
  /// W multiples of `scale` (>= 1). Returns the LR image (C,H/scale,W/scale) rounded to 8 bits, and the
  /// drawn parameters. Throws srlab::Error for bad shapes, or if the pipeline does not end at the LR
  /// size (a `sequence` must end with a resize/bicubic step to the target).
  DegradedSample apply(const torch::Tensor& hr, int scale, uint64_t seed, int64_t index) const;

  /// Draws the parameters apply() would draw for (seed, index) on a (channels, hr_h, hr_w) image, in the
  /// same order and with the same records, without touching pixels: the ops to replay (tensor path,
  /// tensor_pipeline.h). `params` (optional) receives what apply() returns as DegradedSample::params.
  /// Throws srlab::Error like apply() for bad shapes.
  std::vector<PlannedOp> plan(int channels, int hr_h, int hr_w, int scale, uint64_t seed, int64_t index,
                              nlohmann::json* params = nullptr) const;

  /// The pipeline's `type:` name.
  const std::string& type() const { return type_; }
  /// The resolved YAML of the configuration it was built from.
  const std::string& yaml() const { return yaml_; }

 private:
  std::string type_, yaml_;
  StepPtr root_;
};

/// A one-line human-readable description of a step record (for captions and logs), e.g.
/// "blur aniso k15 sx2.10 sy0.80 rot35", "resize area 0.62x", "noise gaussian s12.3 gray", "jpeg q47".
std::string describe_step(const nlohmann::json& record);

}  // namespace srlab::data
