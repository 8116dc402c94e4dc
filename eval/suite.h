#pragma once
// The evaluation suite: every method on every benchmark dataset (and its degraded variants), in one
// place for `srlab eval`, the trainer's final report and `srlab compare`.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/datasets/paired_dataset.h"
#include "data/degrade/degradation.h"
#include "eval/evaluate.h"
#include "eval/methods.h"

namespace srlab::eval {

/// One dataset of a suite: its display name (row label of the tables), the LR/HR pairs, and the folder
/// its SR images are saved to (EvalOptions::save_images_dir; empty: not saved).
struct SuiteDataset {
  std::string name;
  data::PairedImageDataset ds;
  std::filesystem::path save_images_dir;
};

/// The benchmark `dir` (data::open_benchmark at `scale`, display name dataset_display_name(dir)) as suite
/// datasets: the clean one when `include_clean`, then one per (label, pipeline) of `degradations`, named
/// "<display name>_<label>", whose LR is re-made from the HR by the pipeline (data::degrade_dataset with
/// `seed`; image i uses index i). @throws srlab::Error when the folder cannot be opened (naming it).
std::vector<SuiteDataset> benchmark_variants(const std::filesystem::path& dir, int scale,
                                             const std::vector<std::pair<std::string, data::Degradation>>& degradations,
                                             bool include_clean, uint64_t seed = 0);

/// Called after each evaluation with its result and its wall time in seconds.
using SuiteProgress = std::function<void(const EvalResult&, double seconds)>;

/// Scores every method on every dataset with evaluate() and `options` (whose save_images_dir is replaced
/// by each dataset's), dataset-major: result k is dataset k / methods.size(), method k % methods.size().
/// @throws srlab::Error as evaluate().
std::vector<EvalResult> evaluate_suite(const std::vector<SuiteDataset>& datasets, const std::vector<Method>& methods,
                                       const EvalOptions& options, const SuiteProgress& progress = {});

}  // namespace srlab::eval
