#pragma once
// The trainer's glue for data-parallel runs, accumulation and AMP (train/distributed.h,
// train/generator_update.h, train/amp.h): joining the group from the launch environment, sharding
// the loader, and the checkpoint entries that make resume exact (world size, loss-scaler state).
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "data/datasets/loader.h"
#include "train/amp.h"
#include "train/distributed.h"
#include "train/train_config.h"

namespace srlab::train {

/// Checks what every data-parallel worker checks of the config for `world_size` processes:
/// data.train.batch_size divisible by world_size x train.accum_steps. Called by join_data_parallel and,
/// before forking any worker, by `srlab train --nproc` (a config error then appears once, not per rank).
/// @throws srlab::Error naming the keys and the numbers.
void check_data_parallel_config(const TrainConfig& c, int world_size);

/// Reads the launch environment (dist_env_from_environment). WORLD_SIZE 1 or unset: returns null
/// and leaves `device` alone. Else joins the group with c.dist_timeout_s, moves `device` to this
/// rank's GPU (rank_device), turns stderr logging off on ranks other than 0 and logs the setup on
/// rank 0. Throws srlab::Error when data.train.batch_size is not divisible by world size x
/// train.accum_steps (every rank and micro-batch gets the same number of samples) or the rendezvous
/// fails.
std::unique_ptr<DataParallel> join_data_parallel(const TrainConfig& c, torch::Device& device);

/// Logs the accumulation/AMP setup; warns for bf16 autocast on the CPU (slower than fp32 in Debian's
/// LibTorch 1.13: EDSR-baseline training measured about 3x slower in PyTorch 1.13 on the dev machine).
void announce_precision(const TrainConfig& c, torch::Device device);

/// This rank's share of every global batch: batch_size / world samples starting at rank *
/// batch_size / world (LoaderOptions::global_batch_size / sample_offset). Null dp: unchanged.
void shard_loader(data::LoaderOptions& options, const DataParallel* dp);

/// Checkpoint entries: "world_size" (int) and, for fp16 runs, "amp_scaler" ({scale, growth tracker}).
void write_parallel_state(torch::serialize::OutputArchive& ar, int world_size, const LossScaler* scaler);
/// Reads them back. Throws srlab::Error naming `path` when the checkpoint was written by a run with
/// another number of processes (absent entry = 1): the run continues only with the same world size.
/// A missing "amp_scaler" leaves `scaler` at its initial scale.
void read_parallel_state(torch::serialize::InputArchive& ar, const std::filesystem::path& path, int world_size,
                         LossScaler* scaler);

}  // namespace srlab::train
