#include "eval/suite.h"

#include <chrono>

#include "data/datasets/degraded_dataset.h"
#include "eval/naming.h"

namespace srlab::eval {

std::vector<SuiteDataset> benchmark_variants(const std::filesystem::path& dir, int scale,
                                             const std::vector<std::pair<std::string, data::Degradation>>& degradations,
                                             bool include_clean, uint64_t seed) {
  const data::PairedImageDataset clean = data::open_benchmark(dir, scale, false);
  const std::string name = dataset_display_name(dir);
  std::vector<SuiteDataset> out;
  if (include_clean) out.push_back({name, clean, {}});
  for (const auto& [label, pipeline] : degradations)
    out.push_back({name + "_" + label, data::degrade_dataset(clean, pipeline, seed), {}});
  return out;
}

std::vector<EvalResult> evaluate_suite(const std::vector<SuiteDataset>& datasets, const std::vector<Method>& methods,
                                       const EvalOptions& options, const SuiteProgress& progress) {
  std::vector<EvalResult> results;
  results.reserve(datasets.size() * methods.size());
  for (const SuiteDataset& d : datasets) {
    EvalOptions eo = options;
    eo.save_images_dir = d.save_images_dir;
    for (const Method& m : methods) {
      const auto t0 = std::chrono::steady_clock::now();
      results.push_back(evaluate(d.ds, d.name, m, eo));
      if (progress) progress(results.back(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  return results;
}

}  // namespace srlab::eval
