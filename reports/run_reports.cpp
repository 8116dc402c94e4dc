#include "reports/run_reports.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"

namespace srlab::reports {
namespace fs = std::filesystem;

nlohmann::json checkpoint_provenance(const fs::path& checkpoint, const std::string& run_id, int64_t iteration) {
  nlohmann::json j = {{"path", checkpoint.string()}, {"run_id", run_id}, {"iteration", iteration}};
  const fs::path meta = checkpoint.parent_path().parent_path() / "meta.json";
  if (!fs::is_regular_file(meta)) return j;
  try {
    const nlohmann::json m = nlohmann::json::parse(core::read_file(meta));
    for (const char* k : {"seed", "git_revision"})
      if (m.contains(k)) j[k] = m[k];
  } catch (const std::exception& e) {
    j["meta_error"] = fmt::format("{}: {}", meta.string(), e.what());
  }
  return j;
}

fs::path write_compare_html(const eval::CompareConfig& cfg, const eval::CompareReport& rep, const std::string& git_revision,
                            const std::string& command) {
  HtmlReport h;
  h.title = fmt::format("{}: crisp vs creative, x{}", cfg.name, cfg.scale);
  for (const eval::CompareMethod& m : rep.methods) h.methods.push_back(m.name);
  h.results = rep.results;
  if (rep.image_dirs.size() != rep.datasets.size() || rep.crops.size() != rep.datasets.size() ||
      cfg.datasets.size() != rep.datasets.size())
    throw Error("HTML report: the compare report does not list images and crops for every dataset (run run_compare)");
  for (size_t i = 0; i < rep.datasets.size(); ++i) {
    const data::PairedImageDataset ds = data::open_benchmark(core::expand_data_path(cfg.datasets[i]), cfg.scale, false);
    h.datasets.push_back(collect_dataset(ds, rep.datasets[i], h.methods, rep.out_dir, rep.image_dirs[i]));
    h.datasets.back().crops = rep.crops[i];
  }
  for (const char* m : {"bicubic", "sharpened", "crisp", "creative"})
    if (std::find(h.methods.begin(), h.methods.end(), m) != h.methods.end()) h.crop_methods.push_back(m);
  // Checkpoints as run_compare recorded them in compare.json.
  nlohmann::json ckpts = nlohmann::json::object(), seeds = nlohmann::json::object();
  const nlohmann::json cj = nlohmann::json::parse(core::read_file(rep.out_dir / "compare.json"));
  auto add = [&](const std::string& role, const nlohmann::json& c) {
    ckpts[role] = checkpoint_provenance(c.at("path").get<std::string>(), c.value("run_id", ""), c.value("iteration", 0));
    ckpts[role]["weights"] = c.value("weights", "");
    if (ckpts[role].contains("seed")) seeds[role] = ckpts[role]["seed"];
  };
  add("crisp", cj.at("checkpoints").at("crisp"));
  add("creative", cj.at("checkpoints").at("creative"));
  for (const auto& [name, c] : cj.at("checkpoints").at("extra").items()) add(name, c);
  h.provenance = {{"git_revision", git_revision}, {"command", command}, {"checkpoints", ckpts}, {"seeds", seeds},
                  {"config", cfg.yaml}};
  const fs::path file = rep.out_dir / "report.html";
  write_html(file, h);
  return file;
}

void write_eval_html(const fs::path& html_file, const std::vector<eval::EvalResult>& results,
                     const std::vector<std::pair<std::string, data::PairedImageDataset>>& datasets, const fs::path& sr_dir,
                     const std::string& git_revision, const std::string& command) {
  HtmlReport h;
  h.title = "srlab eval";
  for (const eval::EvalResult& r : results)
    if (std::find(h.methods.begin(), h.methods.end(), r.method) == h.methods.end()) h.methods.push_back(r.method);
  h.results = results;
  const fs::path dir = html_file.parent_path().empty() ? fs::path(".") : html_file.parent_path();
  for (const auto& [name, ds] : datasets) h.datasets.push_back(collect_dataset(ds, name, h.methods, dir, sr_dir / name));
  // The zoom starts where the first slider pair (bicubic | the best learned method) differs most.
  const auto pairs = default_slider_pairs(h.methods, h.results);
  if (!pairs.empty())
    for (ReportDataset& d : h.datasets)
      for (ReportImage& im : d.images) {
        const auto a_it = im.sr.find(pairs[0].first), b_it = im.sr.find(pairs[0].second);
        if (a_it == im.sr.end() || b_it == im.sr.end()) continue;
        const cv::Mat a = cv::imread((dir / a_it->second).string(), cv::IMREAD_COLOR);
        const cv::Mat b = cv::imread((dir / b_it->second).string(), cv::IMREAD_COLOR);
        if (!a.empty() && a.size() == b.size()) im.focus = largest_difference_centre(a, b, 64);
      }
  h.provenance = {{"git_revision", git_revision}, {"command", command}};
  write_html(html_file, h);
}

}  // namespace srlab::reports
