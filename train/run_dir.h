#pragma once
// Experiment run directories: <runs_dir>/<name>/ holding
//   config.yaml      the resolved config (after --set overrides)
//   meta.json        git hash (+ dirty flag), seed, SRLab version, device, threads, command line, start time
//   train.log        everything the run logged
//   metrics.csv      iteration, lr, losses, samples/s, validation PSNR/SSIM
//   checkpoints/     latest.pt and best.pt (written atomically)
//   report.md/.json  the final evaluation
#include <filesystem>
#include <string>

namespace srlab::train {

/// `git rev-parse HEAD` of the current directory's repository ("unknown" outside git), with "-dirty"
/// appended when tracked files are modified.
std::string git_revision();

/// Creates a fresh run directory <runs_dir>/<name>. If it already exists, the old one is renamed to
/// <name>_archived_<YYYYmmdd_HHMMSS> first (nothing is deleted) and a note is logged.
std::filesystem::path create_run_dir(const std::filesystem::path& runs_dir, const std::string& name);

}  // namespace srlab::train
