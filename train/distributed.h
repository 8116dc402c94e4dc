#pragma once
// Data-parallel training on LibTorch's c10d (the layer under torch.distributed / DDP): one process per
// rank, rendezvous through c10d::TCPStore, collectives through c10d::ProcessGroupGloo (CPU) or
// c10d::ProcessGroupNCCL (CUDA builds that provide it). No transport of our own.
//
// Semantics (what PyTorch's DistributedDataParallel does, made explicit for the SRLab trainer):
//   - the environment of torchrun / SLURM names the rank (DistEnv);
//   - rank 0 broadcasts parameters and buffers once after construction/resume (broadcast_module), so
//     every rank starts from identical weights;
//   - after the local backward pass(es) gradients are summed over ranks in buckets of flattened
//     tensors (torch::utils::flatten_dense_tensors, 25 MiB per bucket like DDP's bucket_cap_mb) and
//     divided by the world size (average_gradients), so clipping, the optimizer, EMA and schedules
//     compute the same numbers on every rank;
//   - a few scalars per step (stop request, non-finite flag, loss terms) are summed with
//     sum_scalars, so that every rank takes the same decision (skip, stop) at the same iteration.
// Every collective has the process-group timeout (DataParallelOptions::timeout); a dead or hung rank
// makes the others throw srlab::Error (never hang). References: Li et al., "PyTorch Distributed:
// Experiences on Accelerating Data Parallel Training", VLDB 2020 (gradient bucketing, Sec. 3.2);
// PyTorch torch/nn/parallel/distributed.py and torch/csrc/distributed/c10d/reducer.cpp.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace srlab::train {

/// The launch environment: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torchrun, or
/// `srlab train --nproc N`), else SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID (srun).
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;  ///< TCPStore port on master_addr (rank 0 listens)
};

/// Reads the environment above; no variable set gives world_size 1. Throws srlab::Error naming the
/// variable when one is not an integer or out of range (rank not in [0, WORLD_SIZE), port not in
/// 1..65535), or when WORLD_SIZE > 1 and MASTER_PORT is missing.
DistEnv dist_env_from_environment();

struct DataParallelOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};  ///< every rendezvous and collective
  size_t bucket_bytes = 25u << 20;                               ///< gradient bucket size (DDP default)
};

/// One process's membership in a data-parallel group.
class DataParallel {
 public:
  /// Joins the group described by `env` (world_size >= 2): rank 0 starts the TCPStore server on
  /// env.master_port, all ranks connect and build the process group for `device` (Gloo for CPU
  /// tensors; NCCL for CUDA when LibTorch was built with it, else Gloo, which also handles CUDA
  /// tensors). Throws srlab::Error when the rendezvous fails within the timeout (a rank missing, the
  /// port taken) or the backend is unavailable.
  DataParallel(const DistEnv& env, torch::Device device, DataParallelOptions options = {});
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }
  /// "gloo" or "nccl".
  const std::string& backend() const { return backend_; }

  /// Overwrites every parameter and buffer of `module` with rank 0's (in place, bucketed).
  void broadcast_module(torch::nn::Module& module);
  /// Replaces each defined .grad() of `params` by its mean over the ranks (sum, then / world size).
  /// All ranks must pass the same parameter list; undefined grads are treated as zeros on that rank.
  void average_gradients(const std::vector<torch::Tensor>& params);
  /// Element-wise sum over ranks of a few float64 scalars (NaN/inf propagate).
  std::vector<double> sum_scalars(const std::vector<double>& values);
  /// Blocks until every rank arrives (or throws after the timeout).
  void barrier();

  struct Impl;

 private:
  DistEnv env_;
  torch::Device device_;
  DataParallelOptions options_;
  std::string backend_;
  std::unique_ptr<Impl> impl_;
};

/// This process's rank in its data-parallel group (0 when there is none): the rank of the most
/// recently constructed, still alive DataParallel. Only rank 0 writes run files.
int process_rank();

/// The device of a rank: cuda:LOCAL_RANK when `configured` is CUDA and world_size > 1 (one GPU per
/// local rank, as torchrun expects), else `configured`.
torch::Device rank_device(torch::Device configured, const DistEnv& env);

}  // namespace srlab::train
