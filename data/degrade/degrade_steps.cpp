#include "data/degrade/degrade_steps.h"

#include <cmath>

#include "core/error.h"
#include "data/degrade/degrade_ops.h"
#include "data/image/imresize.h"

namespace srlab::data {

namespace {

using nlohmann::json;

class BlurStep final : public DegradationStep {
 public:
  BlurStep(BlurOptions o, std::string name) : o_(std::move(o)), name_(std::move(name)) {}
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    if (!bernoulli(ctx.rng, o_.prob)) return;
    const SampledKernel k = sample_kernel(o_.kernel, ctx.rng);
    if (!ctx.plan_only) img = apply_kernel(img, k.kernel);
    json r = {{"type", name_}, {"kernel", kernel_type_name(k.type)}, {"size", k.size}};
    if (k.type == KernelType::kSinc) {
      r["omega_deg"] = k.omega_deg;
    } else {
      r["sigma_x"] = k.sigma_x;
      r["sigma_y"] = k.sigma_y;
      r["rotation_deg"] = k.rotation_deg;
      if (k.beta > 0.0) r["beta"] = k.beta;
    }
    if (ctx.plan_only) ctx.plan.push_back({r, k.kernel, 0});
    ctx.steps.push_back(std::move(r));
  }

 private:
  BlurOptions o_;
  std::string name_;
};

class ResizeStep final : public DegradationStep {
 public:
  explicit ResizeStep(ResizeOptions o) : o_(std::move(o)) {
    for (const auto& kv : o_.modes) {
      modes_.push_back(parse_resize_mode(kv.first));
      weights_.push_back(kv.second);
    }
  }
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    int out_h = ctx.target_h, out_w = ctx.target_w;
    double factor = 0.0;
    if (o_.to == "random") {
      if (!bernoulli(ctx.rng, o_.prob)) return;
      const size_t dir = weighted_choice(ctx.rng, o_.updown);
      factor = dir == 0 ? uniform(ctx.rng, Range{1.0, std::max(1.0, o_.range.hi)})
               : dir == 1 ? uniform(ctx.rng, Range{std::min(1.0, o_.range.lo), 1.0})
                          : 1.0;
      const bool rel_target = o_.relative_to == "target";
      const double base_h = rel_target ? ctx.target_h : ctx.input_h, base_w = rel_target ? ctx.target_w : ctx.input_w;
      out_h = std::max(1, static_cast<int>(base_h * factor));  // truncation, as Real-ESRGAN's int(h * scale)
      out_w = std::max(1, static_cast<int>(base_w * factor));
    }
    const ResizeMode mode = modes_[weighted_choice(ctx.rng, weights_)];
    if (!ctx.plan_only) img = resize_image(img, out_h, out_w, mode);
    json r = {{"type", "resize"}, {"mode", resize_mode_name(mode)}, {"size", {out_h, out_w}}};
    if (o_.to == "random") r["factor"] = factor;
    if (ctx.plan_only) ctx.plan.push_back({r, {}, 0});
    ctx.steps.push_back(std::move(r));
  }

 private:
  ResizeOptions o_;
  std::vector<ResizeMode> modes_;
  std::vector<double> weights_;
};

class BicubicStep final : public DegradationStep {
 public:
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    if (ctx.plan_only) {  // the tensor path runs the same recipe (bicubic_to_target) on its image
      ctx.plan.push_back({json{{"type", "bicubic"}, {"size", {ctx.target_h, ctx.target_w}}}, {}, 0});
      ctx.steps.push_back(ctx.plan.back().record);
      return;
    }
    img = chw_to_mat(bicubic_to_target(mat_to_chw(quantize_8bit(img)), ctx.target_h, ctx.target_w, ctx.scale));
    ctx.steps.push_back(json{{"type", "bicubic"}, {"size", {ctx.target_h, ctx.target_w}}});
  }
};

class NoiseStep final : public DegradationStep {
 public:
  explicit NoiseStep(NoiseOptions o) : o_(std::move(o)) {}
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    if (!bernoulli(ctx.rng, o_.prob)) return;
    const bool gaussian = bernoulli(ctx.rng, o_.gaussian_prob);
    const double amount = uniform(ctx.rng, gaussian ? o_.sigma : o_.poisson_scale);
    const bool gray = bernoulli(ctx.rng, o_.gray_prob) || img.channels() == 1;
    const uint64_t seed = ctx.rng();
    if (!ctx.plan_only)
      img = gaussian ? add_gaussian_noise(img, amount, gray, seed) : add_poisson_noise(img, amount, gray, seed);
    json r = {{"type", "noise"}, {"kind", gaussian ? "gaussian" : "poisson"}, {gaussian ? "sigma" : "scale", amount}, {"gray", gray}};
    if (ctx.plan_only) ctx.plan.push_back({r, {}, seed});
    ctx.steps.push_back(std::move(r));
  }

 private:
  NoiseOptions o_;
};

class JpegStep final : public DegradationStep {
 public:
  explicit JpegStep(JpegOptions o) : o_(std::move(o)) {}
  void apply(cv::Mat& img, DegradeContext& ctx) const override {
    if (!bernoulli(ctx.rng, o_.prob)) return;
    const int q = static_cast<int>(std::lround(uniform(ctx.rng, o_.quality)));
    if (!ctx.plan_only) img = jpeg_roundtrip(img, q);
    ctx.steps.push_back(json{{"type", "jpeg"}, {"quality", q}});
    if (ctx.plan_only) ctx.plan.push_back({ctx.steps.back(), {}, 0});
  }

 private:
  JpegOptions o_;
};

}  // namespace

torch::Tensor bicubic_to_target(const torch::Tensor& img, int target_h, int target_w, int scale) {
  const torch::Tensor& x = img;
  if (x.size(-2) == static_cast<int64_t>(target_h) * scale && x.size(-1) == static_cast<int64_t>(target_w) * scale)
    return imresize_integer(x, 1.0 / scale, 8);  // exactly what PairedImageDataset generates
  return imresize(x, target_h, target_w);        // after an earlier resize: size-based, float
}

BlurOptions BlurOptions::read(const core::Config& cfg, const BlurOptions& defaults) {
  BlurOptions o = defaults;
  o.prob = read_prob(cfg, "prob", o.prob);
  o.kernel = KernelSamplerOptions::read(cfg, o.kernel);
  return o;
}

ResizeOptions ResizeOptions::read(const core::Config& cfg, const ResizeOptions& defaults) {
  ResizeOptions o = defaults;
  o.prob = read_prob(cfg, "prob", o.prob);
  o.to = cfg.get<std::string>("to", o.to);
  if (o.to != "target" && o.to != "random") cfg.fail("to", "expected 'target' or 'random', got '" + o.to + "'");
  o.relative_to = cfg.get<std::string>("relative_to", o.relative_to);
  if (o.relative_to != "input" && o.relative_to != "target")
    cfg.fail("relative_to", "expected 'input' or 'target', got '" + o.relative_to + "'");
  if (cfg.has("updown")) {
    o.updown = cfg.req<std::vector<double>>("updown");
    double sum = 0.0;
    for (double w : o.updown) {
      if (!(w >= 0.0)) cfg.fail("updown", "weights must be >= 0");
      sum += w;
    }
    if (o.updown.size() != 3 || !(sum > 0.0)) cfg.fail("updown", "expected [up, down, keep] weights with a positive sum");
  }
  o.range = read_range(cfg, "range", o.range, 1e-3, 16.0);
  o.modes = read_weights(cfg, "modes", o.modes, {"bicubic", "bilinear", "area", "nearest"});
  return o;
}

NoiseOptions NoiseOptions::read(const core::Config& cfg, const NoiseOptions& defaults) {
  NoiseOptions o = defaults;
  o.prob = read_prob(cfg, "prob", o.prob);
  o.gaussian_prob = read_prob(cfg, "gaussian_prob", o.gaussian_prob);
  o.sigma = read_range(cfg, "sigma", o.sigma, 0.0, 255.0);
  o.poisson_scale = read_range(cfg, "poisson_scale", o.poisson_scale, 0.0, 100.0);
  o.gray_prob = read_prob(cfg, "gray_prob", o.gray_prob);
  return o;
}

JpegOptions JpegOptions::read(const core::Config& cfg, const JpegOptions& defaults) {
  JpegOptions o = defaults;
  o.prob = read_prob(cfg, "prob", o.prob);
  o.quality = read_range(cfg, "quality", o.quality, 1.0, 100.0);
  return o;
}

StepPtr make_blur_step(const BlurOptions& options, const std::string& name) {
  return std::make_shared<BlurStep>(options, name);
}
StepPtr make_resize_step(const ResizeOptions& options) { return std::make_shared<ResizeStep>(options); }
StepPtr make_bicubic_step() { return std::make_shared<BicubicStep>(); }
StepPtr make_noise_step(const NoiseOptions& options) { return std::make_shared<NoiseStep>(options); }
StepPtr make_jpeg_step(const JpegOptions& options) { return std::make_shared<JpegStep>(options); }

BlurOptions BlurOptions::sinc_defaults() {
  BlurOptions o;
  o.prob = 0.8;  // Real-ESRGAN final_sinc_prob
  o.kernel.weights = {{"sinc", 1.0}};
  o.kernel.omega_deg = {60.0, 180.0};  // [pi/3, pi]
  return o;
}

void register_primitive_degradations() {
  register_degradation(
      "blur", [](const core::Config& c) { return make_blur_step(BlurOptions::read(c, {})); },
      "blur with a kernel from the mixed sampler; keys prob, kernels {iso, aniso, generalized_iso, generalized_aniso, "
      "plateau_iso, plateau_aniso, sinc} weights, kernel_size (odd), sigma, rotation_deg, beta_gaussian, beta_plateau, omega_deg");
  register_degradation(
      "sinc", [](const core::Config& c) { return make_blur_step(BlurOptions::read(c, BlurOptions::sinc_defaults()), "sinc"); },
      "2-D sinc low-pass filter (ringing/overshoot); keys as blur, defaults prob 0.8, omega_deg [60, 180]");
  register_degradation(
      "resize", [](const core::Config& c) { return make_resize_step(ResizeOptions::read(c, {})); },
      "resize to the LR size or by a random factor; keys prob, to target|random, updown [up, down, keep] weights, range, "
      "relative_to input|target, modes {bicubic, bilinear, area, nearest} weights");
  register_degradation(
      "bicubic",
      [](const core::Config&) { return make_bicubic_step(); },
      "MATLAB-exact bicubic downsampling to the LR size (the classic benchmark degradation); no keys");
  register_degradation(
      "noise", [](const core::Config& c) { return make_noise_step(NoiseOptions::read(c, {})); },
      "additive Gaussian or Poisson noise, colour or gray, clipped; keys prob, gaussian_prob, sigma (0-255 units), "
      "poisson_scale, gray_prob");
  register_degradation(
      "jpeg", [](const core::Config& c) { return make_jpeg_step(JpegOptions::read(c, {})); },
      "JPEG compression (OpenCV/libjpeg); keys prob, quality (1-100, a value or [lo, hi])");
}

}  // namespace srlab::data
