// Built with -DUSE_DISTRIBUTED and -DUSE_C10D_GLOO (when the Gloo headers, Debian's libgloo-dev, are
// found) and -DUSE_C10D_NCCL (CUDA LibTorch); see train/CMakeLists.txt.
#include "train/distributed.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/utils/tensor_flatten.h>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"
#include "core/torch_compat.h"

namespace srlab::train {

namespace {

using BackendBase = torch_compat::C10dBackend;  // c10d::Backend (LibTorch 2) or c10d::ProcessGroup (1.x)

std::atomic<int> g_rank{0};

std::optional<std::string> env_of(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int int_env(const char* name, const std::string& text, int lo, int hi) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < lo || v > hi)
    throw Error(fmt::format("environment variable {}='{}' must be an integer in [{}, {}] (set by torchrun, srun or "
                            "srlab train --nproc)",
                            name, text, lo, hi));
  return static_cast<int>(v);
}

// The first of `names` that is set, parsed as an integer in [lo, hi]; `fallback` when none is.
int first_int_env(std::initializer_list<const char*> names, int lo, int hi, int fallback) {
  for (const char* n : names)
    if (auto v = env_of(n)) return int_env(n, *v, lo, hi);
  return fallback;
}

// Groups consecutive tensors of one dtype/device into buckets of about `cap` bytes.
std::vector<std::vector<torch::Tensor>> buckets_of(const std::vector<torch::Tensor>& ts, size_t cap) {
  std::vector<std::vector<torch::Tensor>> out;
  size_t bytes = 0;
  for (const auto& t : ts) {
    const bool fits = !out.empty() && bytes < cap && out.back().front().scalar_type() == t.scalar_type() &&
                      out.back().front().device() == t.device();
    if (!fits) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += static_cast<size_t>(t.numel()) * t.element_size();
  }
  return out;
}

}  // namespace

struct DataParallel::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<BackendBase> pg;
};

DistEnv dist_env_from_environment() {
  DistEnv e;
  e.world_size = first_int_env({"WORLD_SIZE", "SLURM_NTASKS"}, 1, 1 << 20, 1);
  e.rank = first_int_env({"RANK", "SLURM_PROCID"}, 0, e.world_size - 1, 0);
  e.local_rank = first_int_env({"LOCAL_RANK", "SLURM_LOCALID"}, 0, 1 << 20, 0);
  if (auto a = env_of("MASTER_ADDR")) e.master_addr = *a;
  const auto port = env_of("MASTER_PORT");
  if (port) e.master_port = int_env("MASTER_PORT", *port, 1, 65535);
  else if (e.world_size > 1)
    throw Error(fmt::format("WORLD_SIZE is {} but MASTER_PORT is not set: launch with torchrun (which sets it), set "
                            "MASTER_ADDR and MASTER_PORT for srun, or use srlab train --nproc N",
                            e.world_size));
  return e;
}

torch::Device rank_device(torch::Device configured, const DistEnv& env) {
  if (configured.is_cuda() && env.world_size > 1) return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
  return configured;
}

int process_rank() { return g_rank.load(); }

DataParallel::DataParallel(const DistEnv& env, torch::Device device, DataParallelOptions options)
    : env_(env), device_(device), options_(options), impl_(std::make_unique<Impl>()) {
  if (env.world_size < 2) throw Error("DataParallel needs WORLD_SIZE >= 2 (a single process trains without it)");
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count();
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = options.timeout;
    torch_compat::use_classic_tcp_store(so);
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
#ifdef USE_C10D_NCCL
    if (device.is_cuda()) {
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = options.timeout;
      impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, o);
      backend_ = "nccl";
    }
#endif
#ifdef USE_C10D_GLOO
    if (!impl_->pg) {
      auto o = c10d::ProcessGroupGloo::Options::create(options.timeout);
      const bool loopback = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
      if (auto ifname = env_of("GLOO_SOCKET_IFNAME")) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
      else if (loopback) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, o);
      backend_ = "gloo";
    }
#endif
  } catch (const std::exception& e) {
    throw Error(fmt::format("data-parallel rendezvous failed for rank {} of {} at {}:{} (timeout {} s): {}. Check that all "
                            "{} processes were started with the same MASTER_ADDR/MASTER_PORT and that the port is free.",
                            env.rank, env.world_size, env.master_addr, env.master_port, secs, e.what(), env.world_size));
  }
  if (!impl_->pg)
    throw Error("data-parallel training needs the Gloo backend (CPU) or NCCL (CUDA), but this build has neither: install "
                "libgloo-dev (scripts/setup.sh) and rebuild");
  g_rank = env.rank;
}

DataParallel::~DataParallel() { g_rank = 0; }

namespace {
template <typename F>
void guarded(const DistEnv& env, std::chrono::milliseconds timeout, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    throw Error(fmt::format("data-parallel rank {} of {}: {} failed: {} -- another rank stopped (crashed, was killed or "
                            "interrupted) or did not answer within the {} s timeout (train.dist_timeout_s), so every "
                            "rank stops. Continue with srlab train --resume RUN_DIR and the same number of processes.",
                            env.rank, env.world_size, what, e.what(),
                            std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
  }
}
}  // namespace

void DataParallel::broadcast_module(torch::nn::Module& module) {
  std::vector<torch::Tensor> ts;
  for (const auto& p : module.parameters()) ts.push_back(p);
  for (const auto& b : module.buffers()) ts.push_back(b);
  torch::NoGradGuard no_grad;
  guarded(env_, options_.timeout, "broadcast of the initial weights", [&] {
    for (auto& bucket : buckets_of(ts, options_.bucket_bytes)) {
      std::vector<torch::Tensor> flat{torch::utils::flatten_dense_tensors(bucket)};
      c10d::BroadcastOptions bo;
      bo.rootRank = 0;
      impl_->pg->broadcast(flat, bo)->wait();
      const auto parts = torch::utils::unflatten_dense_tensors(flat[0], bucket);
      for (size_t i = 0; i < bucket.size(); ++i) bucket[i].copy_(parts[i]);
    }
  });
}

void DataParallel::average_gradients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  torch::NoGradGuard no_grad;
  guarded(env_, options_.timeout, "gradient all-reduce", [&] {
    for (auto& bucket : buckets_of(grads, options_.bucket_bytes)) {
      std::vector<torch::Tensor> flat{torch::utils::flatten_dense_tensors(bucket)};
      impl_->pg->allreduce(flat)->wait();
      flat[0].div_(static_cast<double>(env_.world_size));
      const auto parts = torch::utils::unflatten_dense_tensors(flat[0], bucket);
      for (size_t i = 0; i < bucket.size(); ++i) bucket[i].copy_(parts[i]);
    }
  });
}

std::vector<double> DataParallel::sum_scalars(const std::vector<double>& values) {
  const auto dev = backend_ == "nccl" ? device_ : torch::Device(torch::kCPU);
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kFloat64).to(dev)};
  guarded(env_, options_.timeout, "step agreement all-reduce", [&] { impl_->pg->allreduce(t)->wait(); });
  const torch::Tensor cpu = t[0].cpu();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

void DataParallel::barrier() {
  guarded(env_, options_.timeout, "barrier", [&] { impl_->pg->barrier()->wait(); });
}

}  // namespace srlab::train
