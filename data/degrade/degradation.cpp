#include "data/degrade/degradation.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/paths.h"
#include "core/registry.h"
#include "data/degrade/degrade_ops.h"
#include "data/degrade/degrade_steps.h"
#include "data/datasets/loader.h"

namespace srlab::data {

namespace {

void register_builtin_degradations() {
  register_primitive_degradations();
  register_pipeline_degradations();
}

core::Registry<DegradationFactory>& registry() {
  static core::Registry<DegradationFactory> r("degradation", register_builtin_degradations);
  return r;
}

}  // namespace

void register_degradation(const std::string& type, DegradationFactory factory, const std::string& summary) {
  registry().add(type, std::move(factory), summary);
}

StepPtr make_degradation_step(const core::Config& cfg) {
  if (!cfg.is_map()) throw Error("config error in " + cfg.source() + " at '" + cfg.path() +
                                 "': expected a mapping with a `type:` key (e.g. {type: jpeg, quality: [30, 95]})");
  return registry().find(cfg)(cfg);
}

std::vector<std::pair<std::string, std::string>> degradation_types() { return registry().list(); }

Degradation Degradation::from_config(const core::Config& cfg) {
  Degradation d;
  d.root_ = make_degradation_step(cfg);
  cfg.check_known();
  d.type_ = cfg.req<std::string>("type");
  d.yaml_ = cfg.dump();
  return d;
}

Degradation Degradation::load_file(const std::filesystem::path& file) {
  const core::Config root = core::Config::load_file(core::expand_data_path(file.string()));
  const bool nested = root.is_map() && root.has("degradation");
  Degradation d = from_config(nested ? root.at("degradation") : root);
  root.check_known();
  return d;
}

Degradation Degradation::from_config_or_file(const core::Config& node) {
  if (node.is_scalar()) return load_file(node.as<std::string>());
  return from_config(node);
}

Degradation Degradation::parse(const std::string& yaml, const std::string& source) {
  return from_config(core::Config::parse(yaml, source));
}

namespace {
DegradeContext make_context(int64_t channels, int64_t h, int64_t w, int scale, uint64_t seed, int64_t index) {
  if (scale < 1) throw Error("degradation: scale must be >= 1, got " + std::to_string(scale));
  if (channels != 1 && channels != 3) throw Error("degradation: expected an HR image (C,H,W) with C = 1 or 3");
  if (h % scale != 0 || w % scale != 0 || h < scale || w < scale)
    throw Error(fmt::format("degradation: HR size {}x{} is not a positive multiple of the scale {}; mod-crop it first",
                            w, h, scale));
  DegradeContext ctx;
  ctx.rng.seed(sample_seed(seed ^ 0x6465677261646531ULL, index, 0));  // own stream, distinct from the crop draws
  ctx.scale = scale;
  ctx.input_h = static_cast<int>(h);
  ctx.input_w = static_cast<int>(w);
  ctx.target_h = ctx.input_h / scale;
  ctx.target_w = ctx.input_w / scale;
  return ctx;
}
}  // namespace

std::vector<PlannedOp> Degradation::plan(int channels, int hr_h, int hr_w, int scale, uint64_t seed, int64_t index,
                                         nlohmann::json* params) const {
  DegradeContext ctx = make_context(channels, hr_h, hr_w, scale, seed, index);
  ctx.plan_only = true;
  cv::Mat img(1, 1, CV_32FC(channels), cv::Scalar::all(0.0));  // carries the channel count only
  root_->apply(img, ctx);
  if (params) *params = nlohmann::json{{"type", type_}, {"seed", seed}, {"index", index}, {"steps", std::move(ctx.steps)}};
  return std::move(ctx.plan);
}

DegradedSample Degradation::apply(const torch::Tensor& hr, int scale, uint64_t seed, int64_t index) const {
  if (!hr.defined() || hr.dim() != 3) throw Error("degradation: expected an HR image (C,H,W) with C = 1 or 3");
  torch::NoGradGuard no_grad;
  DegradeContext ctx = make_context(hr.size(0), hr.size(1), hr.size(2), scale, seed, index);
  cv::Mat img = quantize_8bit(chw_to_mat(hr));
  root_->apply(img, ctx);
  if (img.rows != ctx.target_h || img.cols != ctx.target_w)
    throw Error(fmt::format("degradation '{}' ended at {}x{} instead of the LR size {}x{}; end the pipeline with a "
                            "`resize` (to: target) or `bicubic` step",
                            type_, img.cols, img.rows, ctx.target_w, ctx.target_h));
  DegradedSample out;
  out.lr = mat_to_chw(quantize_8bit(img));
  out.params = nlohmann::json{{"type", type_}, {"seed", seed}, {"index", index}, {"steps", std::move(ctx.steps)}};
  return out;
}

std::string describe_step(const nlohmann::json& r) {
  const std::string type = r.value("type", "?");
  auto num = [&](const char* k, const char* f) { return r.contains(k) ? fmt::format(fmt::runtime(f), r[k].get<double>()) : std::string(); };
  if (type == "blur" || type == "sinc") {
    std::string s = fmt::format("{} {} k{}", type, r.value("kernel", "?"), r.value("size", 0));
    if (r.contains("omega_deg")) return s + num("omega_deg", " w{:.0f}deg");
    s += num("sigma_x", " sx{:.2f}");
    if (r.value("kernel", "").find("aniso") != std::string::npos) s += num("sigma_y", " sy{:.2f}") + num("rotation_deg", " rot{:.0f}");
    return s + num("beta", " b{:.2f}");
  }
  if (type == "resize") {
    std::string s = "resize " + r.value("mode", "?");
    if (r.contains("factor")) s += num("factor", " {:.2f}x");
    if (r.contains("size")) s += fmt::format(" {}x{}", r["size"][1].get<int>(), r["size"][0].get<int>());
    return s;
  }
  if (type == "noise") {
    const bool g = r.value("kind", "") == "gaussian";
    return std::string("noise ") + (g ? "gaussian" + num("sigma", " s{:.1f}") : "poisson" + num("scale", " x{:.2f}")) +
           (r.value("gray", false) ? " gray" : "");
  }
  if (type == "jpeg") return fmt::format("jpeg q{}", r.value("quality", 0));
  if (type == "random_order") return "order " + r["order"].dump();
  return r.dump();
}

}  // namespace srlab::data
