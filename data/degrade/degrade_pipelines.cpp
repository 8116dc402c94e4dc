// Composite degradations: sequence, random_order, and the first-/second-order presets.
#include <algorithm>

#include "core/error.h"
#include "data/degrade/degrade_steps.h"
#include "data/datasets/transforms.h"

namespace srlab::data {

namespace {

using nlohmann::json;

class SequenceStep final : public DegradationStep {
 public:
  explicit SequenceStep(std::vector<StepPtr> steps) : steps_(std::move(steps)) {}
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    for (const auto& s : steps_) s->apply(img, ctx);
  }

 private:
  std::vector<StepPtr> steps_;
};

// Applies its children in a random permutation (Fisher-Yates with portable draws), recording the order.
class RandomOrderStep final : public DegradationStep {
 public:
  explicit RandomOrderStep(std::vector<StepPtr> steps) : steps_(std::move(steps)) {}
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    std::vector<size_t> order(steps_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[uniform_index(ctx.rng, i)]);
    ctx.steps.push_back(json{{"type", "random_order"}, {"order", order}});
    for (size_t i : order) steps_[i]->apply(img, ctx);
  }

 private:
  std::vector<StepPtr> steps_;
};

std::vector<StepPtr> read_steps(const core::Config& cfg) {
  if (!cfg.has("steps") || !cfg.at("steps").is_sequence() || cfg.at("steps").items().empty())
    cfg.fail("steps", "expected a non-empty list of steps, e.g. [{type: blur}, {type: resize}, {type: jpeg}]");
  std::vector<StepPtr> steps;
  for (const auto& item : cfg.at("steps").items()) steps.push_back(make_degradation_step(item));
  return steps;
}

// Real-ESRGAN first stage (options/train_realesrgan_x4plus.yml), with the resize going straight to the
// LR size: blur -> resize -> noise -> JPEG.
StepPtr first_order(const core::Config& c) {
  return std::make_shared<SequenceStep>(std::vector<StepPtr>{
      make_blur_step(BlurOptions::read(c.child("blur"), {})),
      make_resize_step(ResizeOptions::read(c.child("resize"), {})),
      make_noise_step(NoiseOptions::read(c.child("noise"), {})),
      make_jpeg_step(JpegOptions::read(c.child("jpeg"), {})),
  });
}

// Real-ESRGAN's second-order model (Sec. 3.2) with its default x4 parameters.
StepPtr second_order(const core::Config& c) {
  ResizeOptions resize1;
  resize1.to = "random";
  BlurOptions blur2;
  blur2.prob = 0.8;  // second_blur_prob
  blur2.kernel.sigma = {0.2, 1.5};
  ResizeOptions resize2;
  resize2.to = "random";
  resize2.relative_to = "target";
  resize2.updown = {0.3, 0.4, 0.3};
  resize2.range = {0.3, 1.2};
  NoiseOptions noise2;
  noise2.sigma = {1.0, 25.0};
  noise2.poisson_scale = {0.05, 2.5};
  // Final stage: [resize to LR + sinc] and JPEG in random order.
  StepPtr resize_sinc = std::make_shared<SequenceStep>(std::vector<StepPtr>{
      make_resize_step(ResizeOptions::read(c.child("final_resize"), {})),
      make_blur_step(BlurOptions::read(c.child("final_sinc"), BlurOptions::sinc_defaults()), "sinc"),
  });
  StepPtr final_stage = std::make_shared<RandomOrderStep>(
      std::vector<StepPtr>{resize_sinc, make_jpeg_step(JpegOptions::read(c.child("jpeg2"), {}))});
  return std::make_shared<SequenceStep>(std::vector<StepPtr>{
      make_blur_step(BlurOptions::read(c.child("blur"), {})),
      make_resize_step(ResizeOptions::read(c.child("resize"), resize1)),
      make_noise_step(NoiseOptions::read(c.child("noise"), {})),
      make_jpeg_step(JpegOptions::read(c.child("jpeg"), {})),
      make_blur_step(BlurOptions::read(c.child("blur2"), blur2)),
      make_resize_step(ResizeOptions::read(c.child("resize2"), resize2)),
      make_noise_step(NoiseOptions::read(c.child("noise2"), noise2)),
      final_stage,
  });
}

}  // namespace

void register_pipeline_degradations() {
  register_degradation(
      "sequence", [](const core::Config& c) { return std::make_shared<SequenceStep>(read_steps(c)); },
      "the listed steps in order (key: steps)");
  register_degradation(
      "random_order", [](const core::Config& c) { return std::make_shared<RandomOrderStep>(read_steps(c)); },
      "the listed steps in a random order (key: steps)");
  register_degradation("first_order", first_order,
                       "blur -> resize to LR -> noise -> JPEG (keys blur, resize, noise, jpeg; Real-ESRGAN stage 1)");
  register_degradation("second_order", second_order,
                       "Real-ESRGAN second-order model (keys blur resize noise jpeg blur2 resize2 noise2 "
                       "final_resize final_sinc jpeg2)");
}

}  // namespace srlab::data
