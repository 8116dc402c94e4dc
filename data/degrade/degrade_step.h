#pragma once
// The building block of degradation pipelines: a step transforms a float image in place, drawing its
// random parameters from the per-sample generator and recording what it drew. Pipelines (sequence,
// first_order, second_order, random_order) are steps made of steps (composition, no class hierarchy
// beyond this interface). Adding a degradation = one file with a step + one line in
// builtin_degradations.cpp (register_degradation with a factory reading its YAML parameters).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/config.h"

namespace srlab::data {

/// One image operation recorded in plan mode (see DegradeContext::plan_only): the step's record (as in
/// DegradeContext::steps) plus what cannot be rebuilt from it exactly: the drawn blur kernel and the
/// seed of the noise field. The tensor path (tensor_pipeline.h) replays these on batches.
struct PlannedOp {
  nlohmann::json record;
  cv::Mat kernel;      ///< blur/sinc: the CV_32F kernel applied
  uint64_t seed = 0;   ///< noise: the seed of the noise field
};

/// Per-sample state shared by the steps of one pipeline run.
struct DegradeContext {
  std::mt19937_64 rng;                              ///< the sample's only source of randomness
  int scale = 4;                                    ///< SR factor
  int target_h = 0, target_w = 0;                   ///< the LR size the pipeline must end at (HR / scale)
  int input_h = 0, input_w = 0;                     ///< the HR size the pipeline started from
  nlohmann::json steps = nlohmann::json::array();   ///< one record per applied step, in order
  /// Plan mode: steps draw and record exactly as usual (same generator draws, same records) but skip
  /// the image work and append what they would apply to `plan`; `img` then only carries the channel count.
  bool plan_only = false;
  std::vector<PlannedOp> plan;
};

/// One degradation operation. apply() receives a CV_32FC1/CV_32FC3 RGB image in [0,1] (H,W,C) and
/// replaces it with the degraded image (any size; the pipeline's last step must reach the target size).
/// Steps are immutable after construction and safe to call from several threads at once.
class DegradationStep {
 public:
  virtual ~DegradationStep() = default;
  virtual void apply(cv::Mat& img, DegradeContext& ctx) const = 0;
};
using StepPtr = std::shared_ptr<const DegradationStep>;

/// Builds a step from its YAML mapping (`type` already known). Factories read every parameter through
/// `params` (so unknown keys are reported) and throw srlab::Error via params.fail() for bad values.
using DegradationFactory = std::function<StepPtr(const core::Config& params)>;

/// Registers a `type:` name (later registrations of the same name replace earlier ones).
void register_degradation(const std::string& type, DegradationFactory factory, const std::string& summary);

/// Builds the step described by `cfg` (a mapping with `type:`). Throws srlab::Error naming the key for
/// unknown types (listing the known ones) or bad parameters. Does not check for unknown keys (the
/// caller does, once, on the whole tree: Degradation::from_config).
StepPtr make_degradation_step(const core::Config& cfg);

/// Registered (type, summary) pairs, sorted by type.
std::vector<std::pair<std::string, std::string>> degradation_types();

}  // namespace srlab::data
