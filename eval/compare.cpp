#include "eval/compare.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/process.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "data/image/image_io.h"
#include "eval/generator_method.h"
#include "eval/gnuplot.h"
#include "eval/methods.h"
#include "eval/naming.h"
#include "models/weights/interpolate.h"
#include "models/features/lpips.h"

namespace srlab::eval {
namespace fs = std::filesystem;
using core::run_command;
using core::shell_quote;

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

// A gnuplot-safe double-quoted string (no quotes or backslashes inside).
std::string gp_string(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '"' || c == '\\') ? '\'' : c;
  return "\"" + out + "\"";
}

std::string alpha_text(double a) { return fmt::format("{}", a); }

std::string psnr_text(double v) { return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : fmt::format("{:.2f}", v); }

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

// Tile layout of the crop grid (see run_compare in the header).
constexpr int kGap = 4;
constexpr int kCaption = 18;
constexpr int kTileTarget = 128;

void put_caption(cv::Mat& img, const std::string& text, int x, int y, int width) {
  double scale = 0.45;
  int base = 0;
  cv::Size sz = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
  while (sz.width > width - 4 && scale > 0.26) {
    scale -= 0.03;
    sz = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
  }
  cv::putText(img, text, cv::Point(x + 2, y + kCaption - 5), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
}

// (C,h,w) float [0,1] -> BGR CV_8UC3 enlarged by nearest neighbour z times.
cv::Mat tile_mat(const torch::Tensor& chw, int z) {
  const cv::Mat m = data::tensor_to_mat(data::to_rgb(chw.contiguous()), 8);
  cv::Mat big;
  cv::resize(m, big, cv::Size(), z, z, cv::INTER_NEAREST);
  return big;
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

// ---- report writers ---------------------------------------------------------------------------------------

struct DatasetRun {
  std::string name;       // display name
  std::string file_name;  // file_part(name)
  fs::path path;          // expanded
  data::PairedImageDataset ds;
  std::vector<CropBox> crops;
};

// The metric `col` (0 PSNR, 1 SSIM, 2 LPIPS, 3 NIQE; NaN when missing) of a result.
double metric_value(const EvalResult& r, int col) {
  if (col == 0) return r.mean_psnr;
  if (col == 1) return r.mean_ssim;
  const std::optional<double>& v = col == 2 ? r.mean_lpips : r.mean_niqe;
  return v ? *v : std::numeric_limits<double>::quiet_NaN();
}

// Metric columns of the compare tables: PSNR, SSIM, LPIPS, and NIQE when computed.
int metric_count(const std::vector<const EvalResult*>& rows) {
  return !rows.empty() && rows[0]->mean_niqe ? 4 : 3;
}

// The crisp -> interp -> creative sweep of one dataset: Markdown lines and the JSON object.
std::pair<std::string, nlohmann::json> sweep_report(const std::vector<CompareMethod>& methods,
                                                    const std::vector<const EvalResult*>& rows) {
  std::vector<size_t> order;
  std::vector<double> alphas;
  for (size_t i = 0; i < methods.size(); ++i)
    if (methods[i].name == "crisp" || methods[i].kind == "interpolation" || methods[i].name == "creative") {
      order.push_back(i);
      alphas.push_back(methods[i].name == "crisp" ? 0.0 : methods[i].name == "creative" ? 1.0 : methods[i].alpha);
    }
  nlohmann::json js = {{"alphas", alphas}};
  std::string md = "\nSweep crisp → creative (α = ";
  for (size_t k = 0; k < alphas.size(); ++k) md += fmt::format("{}{:g}", k ? ", " : "", alphas[k]);
  md += "):\n";
  const char* names[4] = {"psnr", "ssim", "lpips", "niqe"};
  const char* labels[4] = {"PSNR (dB)", "SSIM", "LPIPS", "NIQE"};
  for (int col = 0; col < metric_count(rows); ++col) {
    std::vector<double> v;
    std::string text;
    for (size_t i : order) {
      v.push_back(metric_value(*rows[i], col));
      text += fmt::format("{}{:.4f}", text.empty() ? "" : " → ", v.back());
    }
    const SweepTrend t = sweep_trend(v);
    js[names[col]] = {{"values", v}, {"direction", t.direction}, {"monotone", t.monotone}};
    md += fmt::format("- {}: {} ({}, {})\n", labels[col], text, t.direction, t.monotone ? "monotone" : "NOT monotone");
  }
  return {md, js};
}

std::string markdown_table(const std::vector<const EvalResult*>& rows) {
  auto display = [](const EvalResult& r, int col) -> std::string {
    if (col == 0) return psnr_text(r.mean_psnr);
    if (col == 1) return fmt::format("{:.4f}", r.mean_ssim);
    const double v = metric_value(r, col);
    return std::isnan(v) ? "–" : fmt::format("{:.4f}", v);
  };
  const auto& value = metric_value;
  const int ncol = metric_count(rows);
  std::string best[4];
  for (int col = 0; col < ncol; ++col) {
    double b = std::numeric_limits<double>::quiet_NaN();
    for (const EvalResult* r : rows) {
      const double v = value(*r, col);
      if (std::isnan(v)) continue;
      if (std::isnan(b) || (col >= 2 ? v < b : v > b)) b = v;
    }
    for (const EvalResult* r : rows)
      if (!std::isnan(b) && value(*r, col) == b) best[col] = display(*r, col);
  }
  std::string out = ncol == 4 ? "| method | PSNR (dB) ↑ | SSIM ↑ | LPIPS ↓ | NIQE ↓ |\n|---|---|---|---|---|\n"
                               : "| method | PSNR (dB) ↑ | SSIM ↑ | LPIPS ↓ |\n|---|---|---|---|\n";
  for (const EvalResult* r : rows) {
    out += "| " + r->method + " |";
    for (int col = 0; col < ncol; ++col) {
      const std::string d = display(*r, col);
      out += " " + (d == best[col] && d != "–" ? "**" + d + "**" : d) + " |";
    }
    out += "\n";
  }
  return out;
}

nlohmann::json checkpoint_json(const models::InterpolationEnd& e) {
  return {{"path", e.path.string()},
          {"run_id", e.info.run_id},
          {"iteration", e.info.iteration},
          {"weights", e.used_ema ? "ema" : "raw"}};
}

std::string checkpoint_md(const std::string& label, const models::InterpolationEnd& e) {
  return fmt::format("- {}: `{}` (run `{}`, iteration {}, {} weights)\n", label, e.path.string(),
                     e.info.run_id.empty() ? "?" : e.info.run_id, e.info.iteration, e.used_ema ? "EMA" : "raw");
}

// The perception-distortion plot of one dataset: data file + script written to out_dir, gnuplot run there
// (writing a temporary PNG that is then renamed onto pd_plot_<d>.png).
void write_pd_plot(const Gnuplot& gp, const CompareConfig& cfg, const DatasetRun& d,
                   const std::vector<CompareMethod>& methods, const std::vector<const EvalResult*>& rows,
                   const fs::path& out_dir, std::vector<fs::path>& files) {
  const std::string stem = "pd_plot_" + d.file_name;
  const fs::path dat = out_dir / (stem + ".dat"), script = out_dir / (stem + ".gp"), png = out_dir / (stem + ".png");
  auto point = [&](size_t i) {
    const EvalResult& r = *rows[i];
    if (!r.mean_lpips || !std::isfinite(*r.mean_lpips) || !std::isfinite(r.mean_psnr))
      return fmt::format("# {}: no finite LPIPS/PSNR, left out\n", methods[i].name);
    return fmt::format("{:.6f} {:.6f} {}\n", *r.mean_lpips, r.mean_psnr, gp_string(methods[i].name));
  };
  // Point classes, one data block (and legend entry) each; empty classes are left out.
  const std::vector<std::pair<std::string, std::string>> classes{{"baseline", "baselines"},
                                                                  {"model", "crisp / creative"},
                                                                  {"interpolation", "interpolations"},
                                                                  {"sharpen_variant", "creative + unsharp mask"},
                                                                  {"extra", "extra models"}};
  const char* colours[] = {"#7f7f7f", "#d62728", "#1f77b4", "#ff7f0e", "#2ca02c"};
  std::string data = fmt::format("# perception-distortion data of srlab compare '{}' on {} x{}\n"
                                 "# columns: LPIPS (lower is better), Y-PSNR (dB), method; blocks as in {}.gp\n",
                                 cfg.name, d.name, cfg.scale, stem);
  std::string plots;
  int block = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    std::string body;
    for (size_t i = 0; i < methods.size(); ++i)
      if (methods[i].kind == classes[c].first) body += point(i);
    if (body.empty()) continue;
    data += fmt::format("# block {}: {}\n", block, classes[c].second) + body + "\n\n";
    plots += fmt::format("{}'{}' index {} using 1:2 with points pt 7 ps 1.4 lc rgb '{}' title '{}'", plots.empty() ? "" : ", \\\n     ",
                         dat.filename().string(), block, colours[c], classes[c].second);
    ++block;
  }
  // The interpolation path crisp -> interp_a... -> creative (methods are in alpha order already).
  std::string path_body;
  for (size_t i = 0; i < methods.size(); ++i)
    if (methods[i].alpha >= 0) path_body += point(i);
  data += fmt::format("# block {}: interpolation path crisp -> creative (increasing alpha)\n", block) + path_body + "\n\n";
  plots += fmt::format(", \\\n     '{}' index {} using 1:2 with lines lw 1.5 dt 2 lc rgb '#1f77b4' title 'crisp -> creative "
                       "(network interpolation)'",
                       dat.filename().string(), block);
  ++block;
  std::string labels;
  for (size_t i = 0; i < methods.size(); ++i) labels += point(i);
  data += fmt::format("# block {}: labels\n", block) + labels;
  plots += fmt::format(", \\\n     '{}' index {} using 1:2:3 with labels left offset char 0.8,0.5 font ',8' notitle",
                       dat.filename().string(), block);

  const std::string term = gp.terminal == "pngcairo" ? "pngcairo size 900,650 noenhanced font 'sans,10'"
                                                     : "png size 900,650 noenhanced";
  const std::string gps = fmt::format(
      "# Perception-distortion plot (Blau & Michaeli, CVPR 2018) of srlab compare '{name}' on {ds} x{scale}.\n"
      "# Reproduce: cd <this folder> && gnuplot {stem}.gp   (data: {stem}.dat)\n"
      "if (!exists(\"outfile\")) outfile = '{stem}.png'\n"
      "set terminal {term}\n"
      "set output outfile\n"
      "set title {title}\n"
      "set xlabel 'LPIPS v0.1 SqueezeNet (lower is better)'\n"
      "set ylabel 'Y-PSNR (dB, higher is better)'\n"
      "set grid\n"
      "set key outside bottom center horizontal\n"
      "set offsets graph 0.05, graph 0.25, graph 0.08, graph 0.08\n"
      "plot {plots}\n",
      fmt::arg("name", cfg.name), fmt::arg("ds", d.name), fmt::arg("scale", cfg.scale), fmt::arg("stem", stem),
      fmt::arg("term", term),
      fmt::arg("title", gp_string(fmt::format("{} x{}: perception-distortion ({})", d.name, cfg.scale, cfg.name))),
      fmt::arg("plots", plots));
  core::write_file_atomic(dat, data);
  core::write_file_atomic(script, gps);
  files.push_back(dat);
  files.push_back(script);
  run_gnuplot_script(gp, script, png, "compare");
  files.push_back(png);
}

// The crop grid of one dataset.
void write_crops(const DatasetRun& d, const std::vector<std::pair<CompareMethod, Method>>& methods, int scale,
                 const fs::path& out_dir, std::vector<fs::path>& files) {
  if (d.crops.empty()) return;
  const std::vector<std::string> shown{"bicubic", "sharpened", "crisp", "creative"};
  std::vector<const Method*> ms;
  for (const std::string& n : shown)
    for (const auto& m : methods)
      if (m.first.name == n) ms.push_back(&m.second);
  const int64_t size = d.crops.front().size;
  const int z = static_cast<int>(std::max<int64_t>(1, (kTileTarget + size - 1) / size));
  const int T = static_cast<int>(size) * z;
  const int rows = static_cast<int>(d.crops.size());
  cv::Mat grid(kGap + rows * (T + kCaption + kGap), 6 * T + 7 * kGap, CV_8UC3, cv::Scalar(255, 255, 255));
  std::map<std::pair<size_t, size_t>, torch::Tensor> cache;  // (method, image) -> SR image
  for (int r = 0; r < rows; ++r) {
    const CropBox& c = d.crops[r];
    const data::Pair p = d.ds.get(c.image);
    const std::string name = p.name.empty() ? d.ds.name(c.image) : p.name;
    const int64_t s = scale;
    std::vector<std::pair<std::string, torch::Tensor>> tiles;
    const torch::Tensor lr = p.lr.slice(1, c.y / s, (c.y + c.size) / s).slice(2, c.x / s, (c.x + c.size) / s);
    tiles.emplace_back(fmt::format("LR x{} (nearest)", scale), lr.repeat_interleave(s, 1).repeat_interleave(s, 2));
    for (size_t k = 0; k < ms.size(); ++k) {
      auto key = std::make_pair(k, c.image);
      if (!cache.count(key)) cache[key] = data::quantize(ms[k]->upscale(p.lr).to(torch::kCPU, torch::kFloat32), 8);
      tiles.emplace_back(shown[k], cache[key].slice(1, c.y, c.y + c.size).slice(2, c.x, c.x + c.size));
    }
    tiles.emplace_back(fmt::format("HR {} ({},{})", name, c.y, c.x),
                       p.hr.slice(1, c.y, c.y + c.size).slice(2, c.x, c.x + c.size));
    const int top = kGap + r * (T + kCaption + kGap);
    for (size_t t = 0; t < tiles.size(); ++t) {
      const int left = kGap + static_cast<int>(t) * (T + kGap);
      put_caption(grid, tiles[t].first, left, top, T);
      tile_mat(tiles[t].second, z).copyTo(grid(cv::Rect(left, top + kCaption, T, T)));
    }
  }
  const fs::path png = out_dir / ("crops_" + d.file_name + ".png");
  data::write_image(png, data::mat_to_tensor(grid), 8);
  files.push_back(png);
}

}  // namespace

// ---- public API -----------------------------------------------------------------------------------------

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

CompareReport run_compare(const CompareConfig& cfg, const fs::path& out_dir) {
  using clock = std::chrono::steady_clock;
  const Gnuplot gp = find_gnuplot("compare");  // fail before any work
  const torch::Device device = core::select_device(cfg.device);

  // Datasets and their crops (explicit crops are checked now, before the evaluation).
  std::vector<DatasetRun> datasets;
  for (const std::string& spec : cfg.datasets) {
    const fs::path dir = core::expand_data_path(spec);
    const std::string name = eval::dataset_display_name(dir);
    for (const DatasetRun& o : datasets)
      if (o.file_name == file_part(name))
        throw Error(fmt::format("compare: datasets '{}' and '{}' both have the display name '{}'; their reports would "
                                "overwrite each other",
                                o.path.string(), dir.string(), name));
    DatasetRun d{name, file_part(name), dir, data::open_benchmark(dir, cfg.scale, false), {}};
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
    if (!ds.empty() && std::none_of(datasets.begin(), datasets.end(), [&](const DatasetRun& d) { return d.name == ds; }))
      throw Error(fmt::format("compare: crops.at names dataset '{}', which is not among the datasets of {}", ds,
                              cfg.source));

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
  CompareReport rep;
  rep.out_dir = out_dir;
  for (const auto& m : methods) rep.methods.push_back(m.first);
  EvalOptions eo;
  eo.crop_border = cfg.scale;
  eo.metrics = MetricSelection{true, true, true, cfg.niqe};
  eo.lpips = lpips;
  if (cfg.niqe) eo.niqe_model = std::make_shared<NiqeModel>(load_niqe_model(resolve_niqe_model(cfg.niqe_model)));
  for (const DatasetRun& d : datasets) {
    rep.datasets.push_back(d.name);
    rep.crops.push_back(d.crops);
    rep.image_dirs.push_back(fs::path("images") / d.file_name);
    eo.save_images_dir = out_dir / rep.image_dirs.back();  // SR images for report.html
    for (const auto& [info, method] : methods) {
      const auto t0 = clock::now();
      rep.results.push_back(evaluate(d.ds, d.name, method, eo));
      const EvalResult& r = rep.results.back();
      core::log("compare {} x{} ({} images) | {:<22} | {} dB | SSIM {:.4f} | LPIPS {:.4f} | NIQE {:.3f} | {:.1f} s", d.name,
                cfg.scale, d.ds.size(), info.name, psnr_text(r.mean_psnr), r.mean_ssim, r.mean_lpips.value_or(NAN),
                r.mean_niqe.value_or(NAN),
                std::chrono::duration<double>(clock::now() - t0).count());
    }
  }

  // Reports.
  {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw Error(fmt::format("compare: cannot create the output folder '{}': {}", out_dir.string(), ec.message()));
  }
  const size_t nm = methods.size();
  nlohmann::json js;
  js["name"] = cfg.name;
  js["scale"] = cfg.scale;
  js["config"] = cfg.yaml;
  js["checkpoints"] = {{"crisp", checkpoint_json(crisp)}, {"creative", checkpoint_json(creative)},
                       {"extra", nlohmann::json::object()}};
  for (const auto& [name, e] : extras) js["checkpoints"]["extra"][name] = checkpoint_json(e);
  js["sharpen"] = {{"amount", cfg.sharpen.amount}, {"sigma", cfg.sharpen.sigma}, {"threshold", cfg.sharpen.threshold}};
  js["interpolation_alphas"] = alphas;
  js["methods"] = nlohmann::json::array();
  for (const CompareMethod& m : rep.methods) {
    nlohmann::json o = {{"name", m.name}, {"kind", m.kind}, {"source", m.source}};
    if (m.alpha >= 0) o["alpha"] = m.alpha;
    js["methods"].push_back(o);
  }
  js["datasets"] = nlohmann::json::array();
  js["results"] = nlohmann::json::array();
  for (const EvalResult& r : rep.results) js["results"].push_back(to_json(r));

  std::string md = fmt::format("# {}: crisp vs creative, x{}\n\n", cfg.name, cfg.scale);
  md += checkpoint_md("crisp", crisp) + checkpoint_md("creative", creative);
  for (const auto& [name, e] : extras) md += checkpoint_md("extra `" + name + "`", e);
  md += fmt::format(
      "\nMethods: bicubic = MATLAB imresize; sharpened = bicubic + {usm}; interp_aα = network interpolation "
      "(1 - α) crisp + α creative of every weight (Wang et al., CVPR 2019, Eq. 1); creative_then_sharpen = "
      "the same unsharp mask on the creative output; sharpen_then_upscale = the unsharp mask on the LR input, then "
      "creative.\nMetrics: Y-PSNR and SSIM on the BT.601 luma with {s} pixels cropped from every border (higher is "
      "better), LPIPS v0.1 SqueezeNet on the full RGB image and NIQE (no-reference, Mittal et al. 2013; same crop) "
      "(lower is better); means over the images; the best value of "
      "each column is bold.\n\n"
      "Note: SRLab's perceptual loss (`type: perceptual`) and the LPIPS metric share the SqueezeNet-1.1 backbone and "
      "weights, so a model trained with that loss is optimised toward this very metric: its LPIPS gains are partly by "
      "construction; read them together with PSNR/SSIM and the crops.\n",
      fmt::arg("usm", usm), fmt::arg("s", cfg.scale));

  for (size_t di = 0; di < datasets.size(); ++di) {
    const DatasetRun& d = datasets[di];
    std::vector<const EvalResult*> rows;
    for (size_t mi = 0; mi < nm; ++mi) rows.push_back(&rep.results[di * nm + mi]);
    write_pd_plot(gp, cfg, d, rep.methods, rows, out_dir, rep.files);
    write_crops(d, methods, cfg.scale, out_dir, rep.files);
    nlohmann::json dj = {{"name", d.name},
                         {"path", d.path.string()},
                         {"images", d.ds.size()},
                         {"plot", "pd_plot_" + d.file_name + ".png"},
                         {"crops", d.crops.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json("crops_" + d.file_name + ".png")},
                         {"crop_boxes", nlohmann::json::array()}};
    std::string boxes;
    for (const CropBox& c : d.crops) {
      dj["crop_boxes"].push_back(
          {{"image", c.image}, {"name", d.ds.name(c.image)}, {"y", c.y}, {"x", c.x}, {"size", c.size}});
      boxes += fmt::format("{}{} at (y {}, x {})", boxes.empty() ? "" : ", ", d.ds.name(c.image), c.y, c.x);
    }
    js["datasets"].push_back(dj);
    md += fmt::format("\n## {} x{} ({} images)\n\n", d.name, cfg.scale, d.ds.size());
    md += markdown_table(rows);
    const auto [sweep_md, sweep_js] = sweep_report(rep.methods, rows);
    md += sweep_md;
    js["datasets"].back()["sweep"] = sweep_js;
    md += fmt::format("\n![perception-distortion plot, {}](pd_plot_{}.png)\n", d.name, d.file_name);
    if (!d.crops.empty())
      md += fmt::format("\n![crops, {}](crops_{}.png)\n\nCrops ({} x {} HR pixels; columns LR (nearest) | bicubic | "
                        "sharpened | crisp | creative | HR): {}.\n",
                        d.name, d.file_name, cfg.crop_size, cfg.crop_size, boxes);
  }
  core::write_file_atomic(out_dir / "compare.json", js.dump(2) + "\n");
  core::write_file_atomic(out_dir / "compare.md", md);
  rep.files.push_back(out_dir / "compare.json");
  rep.files.push_back(out_dir / "compare.md");
  return rep;
}

}  // namespace srlab::eval
