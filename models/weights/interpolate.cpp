#include "models/weights/interpolate.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <system_error>

#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/shape.h"
#include "core/torch_io.h"
#include "models/arch/registry.h"

namespace srlab::models {
using core::shape_text;
namespace fs = std::filesystem;

namespace {

std::string both(const InterpolationEnd& a, const InterpolationEnd& b) {
  return fmt::format("A '{}' and B '{}'", a.path.string(), b.path.string());
}

// A YAML node as text with every mapping's keys sorted (flow style, scalars verbatim), so that two
// `model:` sections that differ only in key order or formatting compare equal.
std::string canonical_yaml(const YAML::Node& n) {
  if (!n || n.IsNull()) return "~";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) {
    std::string s = "[";
    for (size_t i = 0; i < n.size(); ++i) s += (i ? "," : "") + canonical_yaml(n[i]);
    return s + "]";
  }
  std::map<std::string, std::string> sorted;
  for (const auto& kv : n) sorted[kv.first.as<std::string>()] = canonical_yaml(kv.second);
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : sorted) {
    s += (first ? "" : ",") + k + ":" + v;
    first = false;
  }
  return s + "}";
}

std::string canonical_model_yaml(const InterpolationEnd& e) {
  try {
    return canonical_yaml(YAML::Load(e.info.model_yaml));
  } catch (const YAML::Exception& ex) {
    throw Error(fmt::format("checkpoint '{}': its model_yaml is not valid YAML: {}", e.path.string(), ex.what()));
  }
}

// Parameters and buffers of a module by their full state-dict key.
struct NamedTensors {
  std::map<std::string, torch::Tensor> params, buffers;
};

NamedTensors named_tensors(const torch::nn::Module& m) {
  NamedTensors t;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) t.params.emplace(p.key(), p.value());
  for (const auto& p : m.named_buffers(/*recurse=*/true)) t.buffers.emplace(p.key(), p.value());
  return t;
}

// Throws when the two key -> tensor maps differ in keys, shapes or dtypes; `context` starts the message.
void check_same_tensors(const std::map<std::string, torch::Tensor>& ta, const std::map<std::string, torch::Tensor>& tb,
                        const char* what, const std::string& context, const std::string& la, const std::string& lb) {
  for (const auto& [k, v] : ta)
    if (!tb.count(k))
      throw Error(fmt::format("{}: {} '{}' of {} is missing in {} (different architectures)", context, what, k, la, lb));
  for (const auto& [k, v] : tb)
    if (!ta.count(k))
      throw Error(fmt::format("{}: {} '{}' of {} is missing in {} (different architectures)", context, what, k, lb, la));
  for (const auto& [k, v] : ta) {
    const torch::Tensor& w = tb.at(k);
    if (v.sizes() != w.sizes())
      throw Error(fmt::format("{}: {} '{}' has shape {} in {} but {} in {} (different architecture settings)", context,
                              what, k, shape_text(v), la, shape_text(w), lb));
    if (v.scalar_type() != w.scalar_type())
      throw Error(fmt::format("{}: {} '{}' is {} in {} but {} in {}", context, what, k,
                              std::string(c10::toString(v.scalar_type())), la,
                              std::string(c10::toString(w.scalar_type())), lb));
  }
}

std::string label(const char* which, const fs::path& p) { return fmt::format("{} '{}'", which, p.string()); }

std::string run_name(const InterpolationEnd& e) {
  return e.info.run_id.empty() ? e.path.stem().string() : e.info.run_id;
}

bool same_file(const fs::path& x, const fs::path& y) {
  std::error_code ec;
  if (fs::exists(x, ec) && fs::exists(y, ec)) return fs::equivalent(x, y, ec);
  return fs::weakly_canonical(x, ec) == fs::weakly_canonical(y, ec);
}

}  // namespace

InterpolationEnd load_interpolation_end(const fs::path& path) {
  InterpolationEnd e;
  e.path = path;
  if (!is_srlab_checkpoint(path) && std::filesystem::is_regular_file(path)) {  // community weight file
    const CommunityGenerator c = load_community_generator(path, /*prefer_ema=*/true);
    e.info.model_yaml = c.detected.model.model_yaml;
    e.info.scale = c.detected.model.scale;
    e.info.run_id = path.stem().string();
    e.used_ema = e.info.has_ema = c.contents.wrapper_key.find("params_ema") != std::string::npos;
    e.generator = c.detected.generator;
    return e;
  }
  torch::serialize::InputArchive archive;
  open_checkpoint(path, archive);
  e.info = read_checkpoint_info(archive, path);
  e.used_ema = e.info.has_ema;
  e.generator = load_generator(path, torch::kCPU, /*prefer_ema=*/true);
  return e;
}

void check_interpolation_compatible(const InterpolationEnd& a, const InterpolationEnd& b) {
  if (!a.generator || !b.generator)
    throw Error(fmt::format("cannot interpolate {}: a generator is not loaded", both(a, b)));
  if (a.generator->type() != b.generator->type())
    throw Error(fmt::format("cannot interpolate {}: A is a {} model, B a {} model; network interpolation needs two "
                            "checkpoints of the same architecture (e.g. a PSNR model and its GAN fine-tune)",
                            both(a, b), a.generator->type(), b.generator->type()));
  if (a.generator->scale() != b.generator->scale() || a.info.scale != b.info.scale)
    throw Error(fmt::format("cannot interpolate {}: A is a x{} model, B a x{} model; both must have the same scale",
                            both(a, b), a.info.scale, b.info.scale));
  const NamedTensors ta = named_tensors(*a.generator), tb = named_tensors(*b.generator);
  const std::string context = "cannot interpolate " + both(a, b);
  check_same_tensors(ta.params, tb.params, "parameter", context, "A", "B");
  check_same_tensors(ta.buffers, tb.buffers, "buffer", context, "A", "B");
  if (canonical_model_yaml(a) != canonical_model_yaml(b))
    throw Error(fmt::format("cannot interpolate {}: their model sections differ (A: '{}', B: '{}'); both must be the "
                            "same architecture configuration",
                            both(a, b), canonical_model_yaml(a), canonical_model_yaml(b)));
}

void check_interpolation_alpha(double alpha, bool extrapolate, const fs::path& a, const fs::path& b) {
  if (!std::isfinite(alpha))
    throw Error(fmt::format("cannot interpolate A '{}' and B '{}': alpha is {}; give a finite number (0 = A, 1 = B)",
                            a.string(), b.string(), alpha));
  if (!extrapolate && (alpha < 0.0 || alpha > 1.0))
    throw Error(fmt::format("cannot interpolate A '{}' and B '{}': alpha {} is outside [0,1] (0 = A, 1 = B); "
                            "pass --extrapolate to extrapolate beyond the two networks",
                            a.string(), b.string(), alpha));
}

int64_t interpolate_module_tensors(const torch::nn::Module& a, const torch::nn::Module& b, double alpha,
                                   torch::nn::Module& out, const std::string& label_a, const std::string& label_b) {
  const std::string context = "cannot interpolate " + label_a + " and " + label_b;
  if (!std::isfinite(alpha)) throw Error(fmt::format("{}: alpha is {}; it must be finite", context, alpha));
  const NamedTensors ta = named_tensors(a), tb = named_tensors(b), to = named_tensors(out);
  check_same_tensors(ta.params, tb.params, "parameter", context, label_a, label_b);
  check_same_tensors(ta.buffers, tb.buffers, "buffer", context, label_a, label_b);
  check_same_tensors(ta.params, to.params, "parameter", context, label_a, "the output network");
  check_same_tensors(ta.buffers, to.buffers, "buffer", context, label_a, "the output network");
  torch::NoGradGuard no_grad;
  int64_t blended = 0;
  auto blend = [&](const std::map<std::string, torch::Tensor>& da, const std::map<std::string, torch::Tensor>& db,
                   const std::map<std::string, torch::Tensor>& dout) {
    for (const auto& [k, dst] : dout) {
      const torch::Tensor& va = da.at(k);
      if (!va.is_floating_point()) {
        dst.copy_(va);
        continue;
      }
      // Wang et al. 2019, Eq. 1, in float64: exact at alpha = 0 and 1, one rounding to the stored dtype.
      const torch::Tensor xa = va.detach().to(torch::kCPU, torch::kFloat64);
      const torch::Tensor xb = db.at(k).detach().to(torch::kCPU, torch::kFloat64);
      dst.copy_((xa * (1.0 - alpha) + xb * alpha).to(dst.scalar_type()));
      ++blended;
    }
  };
  blend(ta.params, tb.params, to.params);
  blend(ta.buffers, tb.buffers, to.buffers);
  return blended;
}

Generator interpolate_generators(const InterpolationEnd& a, const InterpolationEnd& b, double alpha, bool extrapolate) {
  check_interpolation_alpha(alpha, extrapolate, a.path, b.path);
  check_interpolation_compatible(a, b);
  const core::Config model_cfg = core::Config::parse(a.info.model_yaml, a.path.string() + " (model_yaml)");
  Generator out = make_generator(model_cfg, a.info.scale);
  interpolate_module_tensors(*a.generator, *b.generator, alpha, *out, label("A", a.path), label("B", b.path));
  out->eval();
  return out;
}

std::string interpolation_run_id(const InterpolationEnd& a, const InterpolationEnd& b, double alpha) {
  return fmt::format("interp({},{},{})", run_name(a), run_name(b), alpha);
}

InterpolationSummary write_interpolated_checkpoint(const fs::path& a, const fs::path& b, double alpha,
                                                   const fs::path& out, bool extrapolate, core::Existing existing) {
  check_interpolation_alpha(alpha, extrapolate, a, b);
  core::check_output_free(out, existing);
  if (same_file(out, a) || same_file(out, b))
    throw Error(fmt::format("interpolate: the output '{}' is one of the inputs (A '{}', B '{}'); write the blend to a "
                            "new file",
                            out.string(), a.string(), b.string()));
  const InterpolationEnd ea = load_interpolation_end(a);
  const InterpolationEnd eb = load_interpolation_end(b);
  const Generator g = interpolate_generators(ea, eb, alpha, extrapolate);

  InterpolationSummary s;
  s.path_a = a;
  s.path_b = b;
  s.ema_a = ea.used_ema;
  s.ema_b = eb.used_ema;
  s.result.model_yaml = ea.info.model_yaml;
  s.result.scale = ea.info.scale;
  s.result.run_id = interpolation_run_id(ea, eb, alpha);
  s.result.iteration = 0;
  s.result.has_ema = false;
  for (const auto& p : g->named_parameters(true)) s.blended_tensors += p.value().is_floating_point() ? 1 : 0;
  for (const auto& p : g->named_buffers(true)) s.blended_tensors += p.value().is_floating_point() ? 1 : 0;

  torch::serialize::OutputArchive ar;
  {
    write_generator_entries(ar, s.result, g);
    ar.write("interp_a", c10::IValue(a.string()));
    ar.write("interp_b", c10::IValue(b.string()));
    ar.write("interp_alpha", c10::IValue(alpha));
    ar.write("interp_weights",
             c10::IValue(std::string(ea.used_ema ? "ema" : "raw") + "," + (eb.used_ema ? "ema" : "raw")));
  }
  core::save_archive_atomic(ar, out, existing);
  return s;
}

}  // namespace srlab::models
