#include "eval/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/shape.h"
#include "data/image/image_io.h"
#include "eval/metrics.h"

namespace srlab::eval {
namespace fs = std::filesystem;
namespace {

// A folder/file-name-safe version of `s` that keeps different names different: [A-Za-z0-9._-] are kept,
// every other byte (and '~' itself) becomes "~XX" (two lower-case hex digits), so "a<b" -> "a~3cb" and
// "a>b" -> "a~3eb" (a plain '_' substitution saved both as "a_b"); "." and ".." are escaped whole.
std::string safe_name(const std::string& s) {
  if (s.empty()) return "~";
  const bool dots = s == "." || s == "..";
  std::string out;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || (c == '.' && !dots);
    out += ok ? std::string(1, c) : fmt::format("~{:02x}", static_cast<unsigned char>(c));
  }
  return out;
}

// Image name without a trailing image-file extension ("img_001.png" -> "img_001").
std::string strip_image_ext(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kExts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
  for (const char* e : kExts)
    if (ext == e) return fs::path(name).stem().string();
  return name;
}

nlohmann::json number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// Table layout shared by the markdown and text renderers.
struct Table {
  std::vector<std::string> methods;
  std::vector<std::pair<std::string, int>> columns;  // (dataset, scale)
  std::map<std::pair<std::string, std::pair<std::string, int>>, const EvalResult*> cells;
};

Table build_table(const std::vector<EvalResult>& results) {
  Table t;
  for (const EvalResult& r : results) {
    if (std::find(t.methods.begin(), t.methods.end(), r.method) == t.methods.end()) t.methods.push_back(r.method);
    const auto col = std::make_pair(r.dataset, r.scale);
    if (std::find(t.columns.begin(), t.columns.end(), col) == t.columns.end()) t.columns.push_back(col);
    if (!t.cells.emplace(std::make_pair(r.method, col), &r).second)
      throw Error(fmt::format("comparison table: method '{}' appears twice for {} x{}; give the runs distinct "
                              "method names",
                              r.method, r.dataset, r.scale));
  }
  return t;
}

std::string cell_text(const Table& t, const std::string& method, const std::pair<std::string, int>& col,
                      const std::string& missing) {
  auto it = t.cells.find({method, col});
  if (it == t.cells.end()) return missing;
  const EvalResult& r = *it->second;
  std::vector<std::string> parts;
  if (r.metrics.psnr) parts.push_back(fmt::format("{:.2f}", r.mean_psnr));
  if (r.metrics.ssim) parts.push_back(fmt::format("{:.4f}", r.mean_ssim));
  if (parts.empty()) return missing;
  return parts.size() == 1 ? parts[0] : parts[0] + " / " + parts[1];
}

// The cell of an optional mean (EvalResult::mean_lpips, mean_niqe), 4 decimals.
std::string optional_cell_text(const Table& t, const std::string& method, const std::pair<std::string, int>& col,
                               std::optional<double> EvalResult::*mean, const std::string& missing) {
  auto it = t.cells.find({method, col});
  if (it == t.cells.end() || !(it->second->*mean)) return missing;
  return fmt::format("{:.4f}", *(it->second->*mean));
}

// Which column groups a table shows.
struct Columns {
  bool fidelity = false;  // PSNR/SSIM cell
  bool lpips = false;
  bool niqe = false;
};

Columns columns_of(const std::vector<EvalResult>& results) {
  Columns c;
  for (const EvalResult& r : results) {
    c.fidelity = c.fidelity || r.metrics.psnr || r.metrics.ssim;
    c.lpips = c.lpips || r.mean_lpips.has_value();
    c.niqe = c.niqe || r.mean_niqe.has_value();
  }
  if (!c.fidelity && !c.lpips && !c.niqe) c.fidelity = true;
  return c;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

torch::Tensor to_rgb_batch(const torch::Tensor& img) {
  torch::Tensor x = img.to(torch::kCPU, torch::kFloat32);
  if (x.size(0) == 1) x = x.expand({3, x.size(1), x.size(2)});
  return x.unsqueeze(0).contiguous();
}

}  // namespace

MetricSelection parse_metrics(const std::string& list) {
  MetricSelection sel{false, false, false, false};
  if (trim(list).empty())
    throw Error("metrics: the list is empty; give a comma-separated list of psnr, ssim, lpips, niqe (e.g. psnr,ssim,lpips)");
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string item = trim(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item == "psnr") {
      sel.psnr = true;
    } else if (item == "ssim") {
      sel.ssim = true;
    } else if (item == "lpips") {
      sel.lpips = true;
    } else if (item == "niqe") {
      sel.niqe = true;
    } else {
      throw Error(fmt::format("metrics: unknown metric '{}' in '{}'; valid names are psnr, ssim, lpips, niqe "
                              "(comma-separated)",
                              item, list));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sel;
}

EvalResult evaluate(const data::PairedImageDataset& dataset, const std::string& dataset_name, const Method& method,
                    const EvalOptions& opts) {
  if (!method.upscale && !method.upscale_image) throw Error(fmt::format("evaluate: method '{}' has no upscale function", method.name));
  if (dataset.size() == 0)
    throw Error(fmt::format("evaluate: dataset '{}' has no images; check its HR/LR folders", dataset_name));
  if (opts.crop_border < -1)
    throw Error(fmt::format("evaluate: crop_border is {}; use -1 (= scale) or a number of pixels >= 0",
                            opts.crop_border));
  if (!opts.metrics.psnr && !opts.metrics.ssim && !opts.metrics.lpips && !opts.metrics.niqe)
    throw Error("evaluate: no metric selected; select at least one of psnr, ssim, lpips, niqe");
  models::Lpips lpips = opts.lpips;
  if (opts.metrics.lpips && lpips.is_empty()) lpips = models::load_lpips(models::resolve_lpips_weights(""));
  std::shared_ptr<const NiqeModel> niqe_model = opts.niqe_model;
  if (opts.metrics.niqe && !niqe_model) niqe_model = std::make_shared<NiqeModel>(load_niqe_model(resolve_niqe_model("")));
  EvalResult res;
  res.metrics = opts.metrics;
  res.dataset = dataset_name;
  res.scale = dataset.scale();
  res.method = method.name;
  MetricOptions mo;
  mo.crop_border = opts.crop_border < 0 ? dataset.scale() : opts.crop_border;
  mo.y_channel = opts.y_channel;

  const double nan = std::numeric_limits<double>::quiet_NaN();
  double sum_psnr = 0.0, sum_ssim = 0.0, sum_lpips = 0.0, sum_niqe = 0.0;
  for (size_t i = 0; i < dataset.size(); ++i) {
    const data::Pair pair = dataset.get(i);
    const std::string name = pair.name.empty() ? dataset.name(i) : pair.name;
    torch::Tensor sr = method.upscale_image ? method.upscale_image(name, pair.lr) : method.upscale(pair.lr);
    if (!sr.defined() || sr.sizes() != pair.hr.sizes())
      throw Error(fmt::format("evaluate: method '{}' produced {} for image '{}' of {} x{}, but the HR image is {}; "
                              "the output must be exactly scale x the LR size",
                              method.name, sr.defined() ? core::shape_text(sr) : std::string("<undefined>"), name,
                              dataset_name, dataset.scale(), core::shape_text(pair.hr)));
    if (!sr.is_floating_point())
      throw Error(fmt::format("evaluate: method '{}' returned a {} tensor for image '{}'; methods must return float "
                              "images in [0,1]",
                              method.name, std::string(c10::toString(sr.scalar_type())), name));
    sr = data::quantize(sr.to(torch::kCPU, torch::kFloat32), 8);
    ImageScore s{name, opts.metrics.psnr ? psnr(sr, pair.hr, mo) : nan, opts.metrics.ssim ? ssim(sr, pair.hr, mo) : nan};
    if (opts.metrics.lpips) {
      torch::NoGradGuard no_grad;
      try {
        s.lpips = lpips->forward(to_rgb_batch(sr), to_rgb_batch(pair.hr)).item<double>();
      } catch (const Error& e) {
        throw Error(fmt::format("evaluate: LPIPS of image '{}' of {} x{} (method '{}'): {}", name, dataset_name,
                                dataset.scale(), method.name, e.what()));
      }
      sum_lpips += *s.lpips;
    }
    if (opts.metrics.niqe) {
      try {
        s.niqe = niqe(sr, *niqe_model, mo.crop_border);
      } catch (const Error& e) {
        throw Error(fmt::format("evaluate: NIQE of image '{}' of {} x{} (method '{}'): {}", name, dataset_name,
                                dataset.scale(), method.name, e.what()));
      }
      sum_niqe += *s.niqe;
    }
    sum_psnr += s.psnr;
    sum_ssim += s.ssim;
    res.images.push_back(s);
    if (!opts.save_images_dir.empty()) data::write_image(opts.save_images_dir / saved_image_path(method.name, name), sr, 8);
  }
  const double n = static_cast<double>(res.images.size());
  res.mean_psnr = sum_psnr / n;
  res.mean_ssim = sum_ssim / n;
  if (opts.metrics.lpips) res.mean_lpips = sum_lpips / n;
  if (opts.metrics.niqe) res.mean_niqe = sum_niqe / n;
  return res;
}

fs::path saved_image_path(const std::string& method, const std::string& image_name) {
  return fs::path(safe_name(method)) / (safe_name(strip_image_ext(image_name)) + ".png");
}

nlohmann::json to_json(const EvalResult& r) {
  nlohmann::json images = nlohmann::json::array();
  for (const ImageScore& s : r.images) {
    nlohmann::json im = {{"name", s.name}};
    if (r.metrics.psnr) im["psnr"] = number(s.psnr);
    if (r.metrics.ssim) im["ssim"] = number(s.ssim);
    if (r.metrics.lpips && s.lpips) im["lpips"] = *s.lpips;
    if (r.metrics.niqe && s.niqe) im["niqe"] = *s.niqe;
    images.push_back(im);
  }
  nlohmann::json mean = nlohmann::json::object();
  if (r.metrics.psnr) mean["psnr"] = number(r.mean_psnr);
  if (r.metrics.ssim) mean["ssim"] = number(r.mean_ssim);
  if (r.metrics.lpips && r.mean_lpips) mean["lpips"] = *r.mean_lpips;
  if (r.metrics.niqe && r.mean_niqe) mean["niqe"] = *r.mean_niqe;
  return {{"dataset", r.dataset}, {"scale", r.scale}, {"method", r.method}, {"mean", mean}, {"images", images}};
}

std::string comparison_table_markdown(const std::vector<EvalResult>& results) {
  const Table t = build_table(results);
  const Columns cols = columns_of(results);
  std::string out = "| method |";
  size_t ncol = 0;
  for (const auto& c : t.columns) {
    if (cols.fidelity) out += fmt::format(" {} ×{} |", c.first, c.second), ++ncol;
    if (cols.lpips) out += fmt::format(" {} ×{} LPIPS↓ |", c.first, c.second), ++ncol;
    if (cols.niqe) out += fmt::format(" {} ×{} NIQE↓ |", c.first, c.second), ++ncol;
  }
  out += "\n|---|";
  for (size_t i = 0; i < ncol; ++i) out += "---|";
  out += "\n";
  for (const std::string& m : t.methods) {
    out += "| " + m + " |";
    for (const auto& c : t.columns) {
      if (cols.fidelity) out += " " + cell_text(t, m, c, "–") + " |";
      if (cols.lpips) out += " " + optional_cell_text(t, m, c, &EvalResult::mean_lpips, "–") + " |";
      if (cols.niqe) out += " " + optional_cell_text(t, m, c, &EvalResult::mean_niqe, "–") + " |";
    }
    out += "\n";
  }
  return out;
}

std::string comparison_table_text(const std::vector<EvalResult>& results) {
  const Table t = build_table(results);
  const Columns cols = columns_of(results);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"method"};
  for (const auto& c : t.columns) {
    if (cols.fidelity) header.push_back(fmt::format("{} x{}", c.first, c.second));
    if (cols.lpips) header.push_back(fmt::format("{} x{} LPIPS(lower=better)", c.first, c.second));
    if (cols.niqe) header.push_back(fmt::format("{} x{} NIQE(lower=better)", c.first, c.second));
  }
  rows.push_back(header);
  for (const std::string& m : t.methods) {
    std::vector<std::string> row{m};
    for (const auto& c : t.columns) {
      if (cols.fidelity) row.push_back(cell_text(t, m, c, "-"));
      if (cols.lpips) row.push_back(optional_cell_text(t, m, c, &EvalResult::mean_lpips, "-"));
      if (cols.niqe) row.push_back(optional_cell_text(t, m, c, &EvalResult::mean_niqe, "-"));
    }
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (size_t j = 0; j < row.size(); ++j) width[j] = std::max(width[j], row[j].size());
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string line;
    for (size_t j = 0; j < rows[i].size(); ++j) {
      if (j > 0) line += "  ";
      // Method names left-aligned, numbers right-aligned.
      line += j == 0 ? fmt::format("{:<{}}", rows[i][j], width[j]) : fmt::format("{:>{}}", rows[i][j], width[j]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (i == 0) {
      size_t total = 0;
      for (size_t j = 0; j < width.size(); ++j) total += width[j] + (j > 0 ? 2 : 0);
      out += std::string(total, '-') + "\n";
    }
  }
  return out;
}

}  // namespace srlab::eval
