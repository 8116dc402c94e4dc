#include "train/final_report.h"

#include <fmt/format.h>

#include "core/fs.h"
#include "core/log.h"
#include "eval/evaluate.h"
#include "eval/methods.h"
#include "eval/suite.h"
#include "models/arch/registry.h"
#include "models/features/lpips.h"

namespace srlab::train {
namespace fs = std::filesystem;

void write_final_report(const TrainConfig& c, const fs::path& run_dir, const fs::path& best, const models::Generator& g,
                        bool ema, const torch::Device& device) {
  nlohmann::json js = nlohmann::json::array();
  const eval::MetricSelection metrics = eval::parse_metrics(c.eval_metrics);
  models::Lpips lpips{nullptr};
  if (metrics.lpips) lpips = models::load_lpips(c.lpips_weights, c.lpips_net);
  std::shared_ptr<const eval::NiqeModel> niqe;
  if (metrics.niqe) niqe = std::make_shared<eval::NiqeModel>(eval::load_niqe_model(c.niqe_model));
  std::vector<eval::Method> methods;
  for (const auto& m : c.eval_methods) methods.push_back(eval::make_method(m, c.scale, device, c.sharpen));
  methods.push_back(eval::make_method(best.string(), c.scale, device, c.sharpen));
  methods.back().name = c.name;
  eval::EvalOptions eo;
  eo.crop_border = c.scale;
  eo.metrics = metrics;
  eo.lpips = lpips;
  eo.niqe_model = niqe;
  std::vector<eval::SuiteDataset> datasets;  // each eval dataset, then its degraded variants
  for (const auto& ds_dir : c.eval_datasets)
    for (auto& d : eval::benchmark_variants(ds_dir, c.scale, c.eval_degradations, true)) datasets.push_back(std::move(d));
  const std::vector<eval::EvalResult> results = eval::evaluate_suite(datasets, methods, eo);
  for (const auto& r : results) js.push_back(eval::to_json(r));
  std::string md = "# " + c.name + " — final evaluation\n\n";
  md += fmt::format("Y-PSNR (dB) / SSIM, border crop = scale ({}), x{}; LPIPS (when listed) on the full RGB image, NIQE (when listed) of the SR image, lower is better. Model: {} ({}), checkpoint {}{}.\n\n", c.scale,
                    c.scale, g->type(), fmt::format("{} parameters", models::count_parameters(*g)), best.string(),
                    ema ? " (EMA weights)" : "");
  md += eval::comparison_table_markdown(results);
  core::write_file_atomic(run_dir / "report.md", md);
  core::write_file_atomic(run_dir / "report.json", js.dump(2) + "\n");
  core::log_line("final evaluation (report.md / report.json in " + run_dir.string() + "):\n" +
                 eval::comparison_table_text(results));
}

}  // namespace srlab::train
