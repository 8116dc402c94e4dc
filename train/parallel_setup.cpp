#include "train/parallel_setup.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"

namespace srlab::train {

void check_data_parallel_config(const TrainConfig& c, int world_size) {
  const int per_step = world_size * c.accum_steps;
  if (c.batch_size % per_step != 0)
    throw Error(fmt::format("data.train.batch_size {} (samples per optimizer step over all ranks) must be divisible by "
                            "the number of processes ({}) x train.accum_steps ({}) = {}",
                            c.batch_size, world_size, c.accum_steps, per_step));
}

std::unique_ptr<DataParallel> join_data_parallel(const TrainConfig& c, torch::Device& device) {
  const DistEnv env = dist_env_from_environment();
  if (env.world_size == 1) return nullptr;
  check_data_parallel_config(c, env.world_size);
  device = rank_device(device, env);
  DataParallelOptions o;
  o.timeout = std::chrono::seconds(c.dist_timeout_s);
  auto dp = std::make_unique<DataParallel>(env, device, o);
  if (!dp->is_main()) core::set_log_stderr(false);
  core::log("data-parallel: {} processes ({} backend, rendezvous {}:{}), {} samples per rank per step{}", env.world_size,
            dp->backend(), env.master_addr, env.master_port, c.batch_size / env.world_size,
            c.accum_steps > 1 ? fmt::format(" in {} micro-batches", c.accum_steps) : "");
  return dp;
}

void announce_precision(const TrainConfig& c, torch::Device device) {
  if (c.accum_steps > 1)
    core::log("gradient accumulation: {} micro-batches of {} samples per optimizer step (batch_size {})", c.accum_steps,
              c.batch_size / c.accum_steps, c.batch_size);
  if (c.amp == AmpMode::off) return;
  core::log("mixed precision: {} autocast on {}{}", amp_mode_name(c.amp), device.str(),
            c.amp == AmpMode::fp16 ? " with dynamic loss scaling" : "");
  if (c.amp == AmpMode::bf16 && !device.is_cuda())
    core::log("warning: train.amp bf16 on the CPU is accepted but slower than fp32 in Debian's LibTorch 1.13 "
              "(EDSR-baseline training about 3x slower); use amp: off on the CPU");
}

void shard_loader(data::LoaderOptions& o, const DataParallel* dp) {
  if (!dp) return;
  o.global_batch_size = o.batch_size;
  o.batch_size /= dp->world_size();
  o.sample_offset = static_cast<int64_t>(dp->rank()) * o.batch_size;
}

void write_parallel_state(torch::serialize::OutputArchive& ar, int world_size, const LossScaler* scaler) {
  ar.write("world_size", c10::IValue(static_cast<int64_t>(world_size)));
  if (scaler) ar.write("amp_scaler", torch::tensor(scaler->state(), torch::kFloat64));
}

void read_parallel_state(torch::serialize::InputArchive& ar, const std::filesystem::path& path, int world_size,
                         LossScaler* scaler) {
  c10::IValue v;
  const int64_t saved = ar.try_read("world_size", v) ? v.toInt() : 1;
  if (saved != world_size)
    throw Error(fmt::format("cannot resume '{}' with {} process(es): it was written by a run with {}. Resume with the "
                            "same number (srlab train --nproc {} --resume ..., or torchrun --nproc_per_node {}) so that "
                            "every rank continues its own share of the data exactly",
                            path.string(), world_size, saved, saved, saved));
  torch::Tensor s;
  if (scaler && ar.try_read("amp_scaler", s)) {
    s = s.to(torch::kFloat64).contiguous();
    try {
      scaler->load_state(std::vector<double>(s.data_ptr<double>(), s.data_ptr<double>() + s.numel()));
    } catch (const Error& e) {
      throw Error("checkpoint '" + path.string() + "': amp_scaler: " + e.what());
    }
  }
}

}  // namespace srlab::train
