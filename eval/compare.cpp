#include "eval/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "eval/generator_method.h"
#include "eval/naming.h"
#include "eval/suite.h"
#include "models/features/lpips.h"

namespace srlab::eval {
namespace fs = std::filesystem;

namespace {

// ---- small helpers ----------------------------------------------------------------------------------

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// A file-name-safe version of `s` ([A-Za-z0-9._-] kept, everything else '_').
std::string file_part(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!is_name_char(c)) c = '_';
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::string alpha_text(double a) { return fmt::format("{}", a); }


// ---- crops ----------------------------------------------------------------------------------------------

bool overlaps(const CropBox& a, const CropBox& b) {
  return a.image == b.image && std::abs(a.y - b.y) < a.size && std::abs(a.x - b.x) < a.size;
}

void check_crop(const data::PairedImageDataset& ds, const std::string& ds_name, const CropBox& c) {
  const int s = ds.scale();
  if (c.image >= ds.size())
    throw Error(fmt::format("compare: crop [{}, {}, {}] of {}: image index {} is out of range (the dataset has {} "
                            "images, indices 0..{})",
                            c.image, c.y, c.x, ds_name, c.image, ds.size(), ds.size() - 1));
  const torch::Tensor hr = ds.get_stored(c.image).hr;
  if (c.y < 0 || c.x < 0 || c.y % s != 0 || c.x % s != 0)
    throw Error(fmt::format("compare: crop [{}, {}, {}] of {}: y and x must be >= 0 and multiples of the scale {} so "
                            "that the LR crop is aligned",
                            c.image, c.y, c.x, ds_name, s));
  if (c.y + c.size > hr.size(1) || c.x + c.size > hr.size(2))
    throw Error(fmt::format("compare: crop [{}, {}, {}] of {} (size {}) does not fit in image '{}' ({}x{} HR pixels, "
                            "H x W)",
                            c.image, c.y, c.x, ds_name, c.size, ds.name(c.image), hr.size(1), hr.size(2)));
}

// ---- config parsing -------------------------------------------------------------------------------------

const std::set<std::string>& reserved_names() {
  static const std::set<std::string> r{"bicubic", "sharpened", "crisp", "creative", "creative_then_sharpen",
                                       "sharpen_then_upscale"};
  return r;
}

std::vector<std::array<int64_t, 3>> parse_crop_list(const core::Config& list, int scale) {
  std::vector<std::array<int64_t, 3>> out;
  if (!list.is_sequence()) list.fail("", "expected a list of [image index, y, x] triples");
  for (const core::Config& item : list.items()) {
    if (!item.is_sequence()) item.fail("", "expected [image index, y, x] (0-based image index, HR pixels)");
    const std::vector<int> v = item.as<std::vector<int>>();
    if (v.size() != 3) item.fail("", fmt::format("expected 3 numbers [image index, y, x], got {}", v.size()));
    if (v[0] < 0 || v[1] < 0 || v[2] < 0) item.fail("", "image index, y and x must be >= 0");
    if (v[1] % scale != 0 || v[2] % scale != 0)
      item.fail("", fmt::format("y and x must be multiples of the scale {} (so that the LR crop is aligned)", scale));
    out.push_back({v[0], v[1], v[2]});
  }
  return out;
}

}  // namespace

// ---- public API -----------------------------------------------------------------------------------------
std::string psnr_text(double v) { return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : fmt::format("{:.2f}", v); }

SweepTrend sweep_trend(const std::vector<double>& values) {
  SweepTrend t;
  t.direction = "flat";
  if (values.size() < 2) return t;
  for (double v : values)
    if (std::isnan(v)) t.monotone = false;
  const double d = values.back() - values.front();
  if (d != 0) t.direction = d < 0 ? "decreasing" : "increasing";
  for (size_t i = 1; i < values.size(); ++i) {
    const double step = values[i] - values[i - 1];
    if (d < 0 ? step > 0 : d > 0 ? step < 0 : step != 0) t.monotone = false;
  }
  return t;
}

CompareConfig parse_compare_config(const core::Config& cfg) {
  CompareConfig c;
  c.source = cfg.source();
  c.yaml = cfg.dump();
  c.name = cfg.req<std::string>("name");
  if (c.name.empty()) cfg.fail("name", "must not be empty (it names the output folder experiments/runs/<name>)");
  c.scale = cfg.req<int>("scale");
  if (c.scale < 1) cfg.fail("scale", fmt::format("must be an integer upscaling factor >= 1, got {}", c.scale));
  c.datasets = cfg.req<std::vector<std::string>>("datasets");
  if (c.datasets.empty()) cfg.fail("datasets", "give at least one benchmark folder (e.g. \"${data}/benchmarks/Set5/x4\")");
  c.crisp = cfg.req<std::string>("crisp");
  c.creative = cfg.req<std::string>("creative");
  if (cfg.has("extra")) {
    const core::Config e = cfg.at("extra");
    if (!e.is_map()) cfg.fail("extra", "expected a mapping {method name: checkpoint path}");
    std::set<std::string> seen;
    for (const std::string& k : e.keys()) {
      const std::string path = e.req<std::string>(k);
      const bool ok = !k.empty() && std::all_of(k.begin(), k.end(), is_name_char);
      if (!ok) e.fail(k, "method names may only use letters, digits, '.', '_' and '-'");
      if (reserved_names().count(k) || k.rfind("interp_a", 0) == 0)
        e.fail(k, "'" + k + "' is a built-in method name of srlab compare; pick another name");
      if (!seen.insert(k).second) e.fail(k, "duplicate method name");
      c.extra.emplace_back(k, path);
    }
  }
  c.interpolation_alphas = cfg.get<std::vector<double>>("interpolation_alphas", {});
  {
    std::set<double> seen;
    for (double a : c.interpolation_alphas) {
      if (!std::isfinite(a) || a < 0.0 || a > 1.0)
        cfg.fail("interpolation_alphas", fmt::format("{} is outside [0,1] (0 = crisp, 1 = creative)", a));
      if (!seen.insert(a).second) cfg.fail("interpolation_alphas", fmt::format("{} appears twice", a));
    }
  }
  if (cfg.has("sharpen")) {
    const core::Config s = cfg.at("sharpen");
    if (!s.is_map()) cfg.fail("sharpen", "expected a mapping {amount, sigma, threshold}");
    c.sharpen.amount = s.get<double>("amount", c.sharpen.amount);
    c.sharpen.sigma = s.get<double>("sigma", c.sharpen.sigma);
    c.sharpen.threshold = s.get<double>("threshold", c.sharpen.threshold);
    try {
      (void)unsharp_mask(torch::zeros({1, 1, 1}), c.sharpen);
    } catch (const Error& e) {
      cfg.fail("sharpen", e.what());
    }
  }
  if (cfg.has("crops")) {
    const core::Config k = cfg.at("crops");
    if (!k.is_map()) cfg.fail("crops", "expected a mapping {count, size[, at]}");
    c.crop_count = k.get<int>("count", c.crop_count);
    c.crop_size = k.get<int>("size", c.crop_size);
    if (c.crop_count < 0) k.fail("count", "must be >= 0 (0 = no crop grid)");
    if (c.crop_size < 1 || c.crop_size % c.scale != 0)
      k.fail("size", fmt::format("must be a positive multiple of the scale {} (HR pixels), got {}", c.scale,
                                 c.crop_size));
    if (k.has("at")) {
      const core::Config at = k.at("at");
      if (at.is_map()) {
        for (const std::string& ds : at.keys()) c.crops_at[ds] = parse_crop_list(at.at(ds), c.scale);
      } else {
        c.crops_at[""] = parse_crop_list(at, c.scale);
      }
    }
  }
  c.lpips_weights = cfg.get<std::string>("lpips_weights", "");
  c.niqe = cfg.get<bool>("niqe", c.niqe);
  c.niqe_model = cfg.get<std::string>("niqe_model", "");
  c.device = cfg.get<std::string>("device", c.device);
  cfg.check_known();
  return c;
}

CompareConfig load_compare_config(const fs::path& file, const std::vector<std::string>& overrides) {
  core::Config cfg = core::Config::load_file(file);
  for (const std::string& o : overrides) cfg.set_override(o);
  return parse_compare_config(cfg);
}

std::vector<CropBox> choose_crops(const data::PairedImageDataset& ds, int count, int size) {
  const int s = ds.scale();
  if (size < 1 || size % s != 0)
    throw Error(fmt::format("choose_crops: crop size {} must be a positive multiple of the scale {}", size, s));
  std::vector<CropBox> out;
  if (count <= 0) return out;
  std::vector<size_t> eligible;
  int64_t max_h = 0, max_w = 0;
  for (size_t i = 0; i < ds.size(); ++i) {
    const torch::Tensor hr = ds.get_stored(i).hr;
    max_h = std::max(max_h, hr.size(1));
    max_w = std::max(max_w, hr.size(2));
    if (hr.size(1) >= size && hr.size(2) >= size) eligible.push_back(i);
  }
  if (eligible.empty())
    throw Error(fmt::format("choose_crops: no image is at least {} x {} HR pixels (the largest side lengths are {} x "
                            "{}); use a smaller crops.size",
                            size, size, max_h, max_w));
  for (int k = 0; k < count; ++k) {
    const size_t img = eligible[static_cast<size_t>(k) % eligible.size()];
    // Variance of the channel-mean intensity over every size x size window on the stride-s grid.
    const torch::Tensor g = ds.get(img).hr.to(torch::kFloat64).mean(0, true).unsqueeze(0);  // (1,1,H,W)
    namespace F = torch::nn::functional;
    const auto opts = F::AvgPool2dFuncOptions(size).stride(s);
    const torch::Tensor m = F::avg_pool2d(g, opts), m2 = F::avg_pool2d(g * g, opts);
    const torch::Tensor var = (m2 - m * m).squeeze().reshape({m.size(2), m.size(3)}).contiguous();
    const auto acc = var.accessor<double, 2>();
    CropBox best{img, -1, -1, size}, best_any{img, -1, -1, size};
    double best_v = -1, best_any_v = -1;
    for (int64_t yy = 0; yy < var.size(0); ++yy)
      for (int64_t xx = 0; xx < var.size(1); ++xx) {
        const double v = acc[yy][xx];
        const CropBox cand{img, yy * s, xx * s, size};
        if (v > best_any_v) best_any_v = v, best_any = cand;
        if (v > best_v && std::none_of(out.begin(), out.end(), [&](const CropBox& o) { return overlaps(o, cand); }))
          best_v = v, best = cand;
      }
    out.push_back(best.y >= 0 ? best : best_any);
  }
  return out;
}

namespace {
// The datasets of `cfg` with their crops (explicit crops are checked now, before the evaluation).
std::vector<CompareDataset> open_compare_datasets(const CompareConfig& cfg) {
  std::vector<CompareDataset> datasets;
  for (const std::string& spec : cfg.datasets) {
    const fs::path dir = core::expand_data_path(spec);
    const std::string name = eval::dataset_display_name(dir);
    for (const CompareDataset& o : datasets)
      if (o.file_name == file_part(name))
        throw Error(fmt::format("compare: datasets '{}' and '{}' both have the display name '{}'; their reports would "
                                "overwrite each other",
                                o.path.string(), dir.string(), name));
    CompareDataset d{name, file_part(name), dir, data::open_benchmark(dir, cfg.scale, false), {}};
    auto it = cfg.crops_at.find(name);
    if (it == cfg.crops_at.end()) it = cfg.crops_at.find("");
    if (it != cfg.crops_at.end()) {
      for (const auto& a : it->second) {
        const CropBox c{static_cast<size_t>(a[0]), a[1], a[2], cfg.crop_size};
        check_crop(d.ds, name, c);
        d.crops.push_back(c);
      }
    } else {
      d.crops = choose_crops(d.ds, cfg.crop_count, cfg.crop_size);
    }
    datasets.push_back(std::move(d));
  }
  for (const auto& [ds, list] : cfg.crops_at)
    if (!ds.empty() && std::none_of(datasets.begin(), datasets.end(), [&](const CompareDataset& d) { return d.name == ds; }))
      throw Error(fmt::format("compare: crops.at names dataset '{}', which is not among the datasets of {}", ds,
                              cfg.source));
  return datasets;
}
}  // namespace

CompareRun evaluate_compare(const CompareConfig& cfg, const fs::path& out_dir) {
  const torch::Device device = core::select_device(cfg.device);

  std::vector<CompareDataset> datasets = open_compare_datasets(cfg);

  const models::Lpips lpips = models::load_lpips(models::resolve_lpips_weights(cfg.lpips_weights));

  // Checkpoints (EMA weights when present) and the methods.
  auto load_checked = [&](const std::string& spec, const std::string& role) {
    models::InterpolationEnd e = models::load_interpolation_end(core::expand_data_path(spec));
    if (e.info.scale != cfg.scale)
      throw Error(fmt::format("compare: the {} checkpoint '{}' is a x{} model but {} compares at x{}", role,
                              e.path.string(), e.info.scale, cfg.source, cfg.scale));
    return e;
  };
  const models::InterpolationEnd crisp = load_checked(cfg.crisp, "crisp");
  const models::InterpolationEnd creative = load_checked(cfg.creative, "creative");
  std::vector<std::pair<std::string, models::InterpolationEnd>> extras;
  for (const auto& [name, path] : cfg.extra) extras.emplace_back(name, load_checked(path, "extra '" + name + "'"));
  std::vector<double> alphas = cfg.interpolation_alphas;
  std::sort(alphas.begin(), alphas.end());
  std::vector<models::Generator> blends;
  for (double a : alphas) blends.push_back(models::interpolate_generators(crisp, creative, a));

  std::vector<std::pair<CompareMethod, Method>> methods;
  methods.push_back({{"bicubic", "baseline", -1, "MATLAB imresize bicubic"}, bicubic_method(cfg.scale)});
  const std::string usm = fmt::format("unsharp mask (amount {}, sigma {}, threshold {})", cfg.sharpen.amount,
                                      cfg.sharpen.sigma, cfg.sharpen.threshold);
  methods.push_back({{"sharpened", "baseline", -1, "bicubic + " + usm}, sharpened_method(cfg.scale, cfg.sharpen)});
  auto on_device = [&](const models::Generator& g) {
    g->to(device);
    g->eval();
    return g;
  };
  methods.push_back({{"crisp", "model", 0.0, crisp.path.string()},
                     generator_method(on_device(crisp.generator), "crisp", device)});
  for (size_t i = 0; i < alphas.size(); ++i) {
    const std::string name = "interp_a" + alpha_text(alphas[i]);
    methods.push_back({{name, "interpolation", alphas[i],
                        fmt::format("{:.4g} * crisp + {:.4g} * creative (network interpolation)", 1.0 - alphas[i],
                                    alphas[i])},
                       generator_method(on_device(blends[i]), name, device)});
  }
  const Method creative_m = generator_method(on_device(creative.generator), "creative", device);
  methods.push_back({{"creative", "model", 1.0, creative.path.string()}, creative_m});
  const UnsharpOptions so = cfg.sharpen;
  const UpscaleFn cr = creative_m.upscale;
  methods.push_back({{"creative_then_sharpen", "sharpen_variant", -1, "creative, then " + usm},
                     Method{"creative_then_sharpen", [cr, so](const torch::Tensor& lr) { return unsharp_mask(cr(lr), so); }}});
  methods.push_back({{"sharpen_then_upscale", "sharpen_variant", -1, usm + " of the LR, then creative"},
                     Method{"sharpen_then_upscale", [cr, so](const torch::Tensor& lr) { return cr(unsharp_mask(lr, so)); }}});
  for (const auto& [name, e] : extras)
    methods.push_back({{name, "extra", -1, e.path.string()}, generator_method(on_device(e.generator), name, device)});

  // Evaluation.
  CompareRun run;
  CompareReport& rep = run.report;
  rep.out_dir = out_dir;
  for (const auto& m : methods) rep.methods.push_back(m.first);
  EvalOptions eo;
  eo.crop_border = cfg.scale;
  eo.metrics = MetricSelection{true, true, true, cfg.niqe};
  eo.lpips = lpips;
  if (cfg.niqe) eo.niqe_model = std::make_shared<NiqeModel>(load_niqe_model(resolve_niqe_model(cfg.niqe_model)));
  std::vector<SuiteDataset> suite;
  for (const CompareDataset& d : datasets) {
    rep.datasets.push_back(d.name);
    rep.crops.push_back(d.crops);
    rep.image_dirs.push_back(fs::path("images") / d.file_name);
    suite.push_back({d.name, d.ds, out_dir / rep.image_dirs.back()});  // SR images for report.html
  }
  std::vector<Method> ms;
  for (const auto& m : methods) ms.push_back(m.second);
  rep.results = evaluate_suite(suite, ms, eo, [&](const EvalResult& r, double seconds) {
    core::log("compare {} x{} ({} images) | {:<22} | {} dB | SSIM {:.4f} | LPIPS {:.4f} | NIQE {:.3f} | {:.1f} s", r.dataset,
              cfg.scale, r.images.size(), r.method, psnr_text(r.mean_psnr), r.mean_ssim, r.mean_lpips.value_or(NAN),
              r.mean_niqe.value_or(NAN), seconds);
  });
  run.datasets = std::move(datasets);
  run.methods = std::move(methods);
  run.crisp = crisp;
  run.creative = creative;
  run.extras = std::move(extras);
  run.alphas = std::move(alphas);
  run.usm = usm;
  return run;
}

}  // namespace srlab::eval
