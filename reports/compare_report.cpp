// `srlab compare`'s report files: compare.md, compare.json, per dataset the perception-distortion plot
// (gnuplot) and the crop grid; see compare_report.h.
#include "reports/compare_report.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/fs.h"
#include "data/image/image_io.h"
#include "eval/gnuplot.h"

namespace srlab::reports {
namespace fs = std::filesystem;
using eval::CompareConfig;
using eval::CompareDataset;
using eval::CompareMethod;
using eval::CompareReport;
using eval::CompareRun;
using eval::CropBox;
using eval::EvalResult;
using eval::Gnuplot;
using eval::psnr_text;

namespace {

// A gnuplot-safe double-quoted string (no quotes or backslashes inside).
std::string gp_string(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '"' || c == '\\') ? '\'' : c;
  return "\"" + out + "\"";
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
    const eval::SweepTrend t = eval::sweep_trend(v);
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
void write_pd_plot(const Gnuplot& gp, const CompareConfig& cfg, const CompareDataset& d,
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
  eval::run_gnuplot_script(gp, script, png, "compare");
  files.push_back(png);
}

// The crop grid of one dataset.
void write_crops(const CompareDataset& d, const std::vector<std::pair<CompareMethod, eval::Method>>& methods, int scale,
                 const fs::path& out_dir, std::vector<fs::path>& files) {
  if (d.crops.empty()) return;
  const std::vector<std::string> shown{"bicubic", "sharpened", "crisp", "creative"};
  std::vector<const eval::Method*> ms;
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

// compare.json and compare.md, the plots and crop grids of a finished evaluation (run_compare's doc).
void write_compare_files(const Gnuplot& gp, const CompareConfig& cfg, CompareRun& run, const fs::path& out_dir) {
  CompareReport& rep = run.report;
  const auto& datasets = run.datasets;
  const auto& methods = run.methods;
  const auto& crisp = run.crisp;
  const auto& creative = run.creative;
  const auto& extras = run.extras;
  const auto& alphas = run.alphas;
  const std::string& usm = run.usm;
  core::create_output_folder(out_dir, "compare output folder");
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
  for (const EvalResult& r : rep.results) js["results"].push_back(eval::to_json(r));

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
    const eval::CompareDataset& d = datasets[di];
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
}

}  // namespace

CompareReport run_compare(const CompareConfig& cfg, const fs::path& out_dir) {
  const Gnuplot gp = eval::find_gnuplot("compare");  // fail before any work
  CompareRun run = eval::evaluate_compare(cfg, out_dir);
  write_compare_files(gp, cfg, run, out_dir);
  return std::move(run.report);
}

}  // namespace srlab::reports
