#pragma once
// report.html for the two commands that write one: `srlab compare` (from its CompareReport) and
// `srlab eval --html FILE` (from its results and datasets). Page layout: reports/html_report.h.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/datasets/paired_dataset.h"
#include "eval/compare.h"
#include "eval/evaluate.h"
#include "reports/html_report.h"

namespace srlab::reports {

/// Provenance of a checkpoint for the report: {"path", "run_id", "iteration"} plus "seed" and
/// "git_revision" from the meta.json of its run folder (<run>/checkpoints/x.pt -> <run>/meta.json) when
/// that file exists and holds them; a meta.json that cannot be parsed is reported as "meta_error".
nlohmann::json checkpoint_provenance(const std::filesystem::path& checkpoint, const std::string& run_id,
                                     int64_t iteration);

/// Writes <rep.out_dir>/report.html for a finished run_compare(): the methods and results of `rep`,
/// per dataset its LR/HR images copied next to the SR images run_compare saved (collect_dataset), the
/// crop boxes, slider defaults bicubic | crisp and crisp | creative, crop columns bicubic, sharpened,
/// crisp, creative, and the provenance {"git_revision" (`git_revision`), "command", "checkpoints"
/// (checkpoint_provenance of crisp, creative and the extras), "seeds" {role: seed} (those found),
/// "config" (the YAML)}.
/// @return the file written. @throws srlab::Error when a dataset cannot be reopened, an image is
///         missing or a file cannot be written (naming it).
std::filesystem::path write_compare_html(const eval::CompareConfig& cfg, const eval::CompareReport& rep,
                                         const std::string& git_revision, const std::string& command);

/// Writes the report.html of `srlab eval --html FILE`: `datasets` (display name, dataset) scored in
/// `results` with their SR images saved by evaluate() under `html_file.parent_path() / sr_dir / <display
/// name>` (eval::saved_image_path); methods in order of first appearance; default slider pairs; no crop
/// grid; provenance {"git_revision", "command"}.
/// @throws srlab::Error as collect_dataset() and write_html().
void write_eval_html(const std::filesystem::path& html_file, const std::vector<eval::EvalResult>& results,
                     const std::vector<std::pair<std::string, data::PairedImageDataset>>& datasets,
                     const std::filesystem::path& sr_dir, const std::string& git_revision, const std::string& command);

}  // namespace srlab::reports
