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

#include "core/folder_lock.h"

namespace srlab::train {

/// `git rev-parse HEAD` of the current directory's repository ("unknown" outside git), with "-dirty"
/// appended when tracked files are modified.
std::string git_revision();

/// A run folder held exclusively by this process (core::FolderLock on "<path>/.srlab.lock").
struct LockedRunDir {
  std::filesystem::path path;
  core::FolderLock lock;
};

/// Creates a fresh run directory <runs_dir>/<name> (with checkpoints/) and locks it. If it already
/// exists, the old one is renamed to <name>_archived_<YYYYmmdd_HHMMSS> first (nothing is deleted) and a
/// note is logged. Creation, archiving and locking happen under a FolderMutex on <runs_dir>, so two
/// runs of one name started at once never share or archive each other's folder.
/// Throws srlab::Error "run folder '...' is in use by another srlab process (PID n) ..." when a live run
/// holds <runs_dir>/<name>, or when folders cannot be created/renamed.
LockedRunDir create_run_dir(const std::filesystem::path& runs_dir, const std::string& name);

/// Locks an existing run folder for `srlab train --resume`; throws srlab::Error naming the PID of the
/// process that holds it (as create_run_dir). Stale temporary files of dead runs in checkpoints/ are
/// removed (core::remove_stale_temps).
LockedRunDir lock_run_dir(const std::filesystem::path& run_dir);

}  // namespace srlab::train
