#pragma once
// Saving LibTorch archives through SRLab's one write path (core/fs.h).
#include <torch/torch.h>

#include <filesystem>

#include "core/fs.h"

namespace srlab::core {

/// Saves `archive` (torch::serialize::OutputArchive, e.g. a checkpoint) to `target` atomically: the
/// archive's bytes are streamed through write_atomic_stream's ByteSink (never LibTorch's own file
/// writer, which aborts the process with "unexpected pos" when the disk fills up inside its
/// destructor), fsynced and moved onto `target`.
/// Throws srlab::Error "failed writing 'target' (disk full?): ..." on ENOSPC/EIO (the temporary file is
/// removed, an existing `target` stays intact), or "... exists; pass --overwrite" per `existing`.
void save_archive_atomic(torch::serialize::OutputArchive& archive, const std::filesystem::path& target,
                         Existing existing = Existing::kReplace);

}  // namespace srlab::core
