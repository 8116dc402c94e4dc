#pragma once
// `srlab train --nproc N`: a local launcher for data-parallel training, for users without torchrun.
// It starts N copies of a program with the environment torchrun gives its workers (RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT = a free port), each in its own
// process group and killed (SIGTERM) when the launcher dies (Linux PR_SET_PDEATHSIG), then supervises
// them like torchrun's elastic agent without restarts: when one worker fails, the others get SIGTERM at
// once and, 10 s later, SIGKILL; a Ctrl-C (SIGINT) of the launcher is forwarded once to every worker (they
// checkpoint and stop together, train/generator_update.h). The number of workers is bounded
// (max_local_workers), and `srlab train --nproc` validates the config before it forks any.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace srlab::train {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_tcp_port();

struct WorkerGroup {
  std::vector<pid_t> pids;  ///< rank r is pids[r]
};

/// The most local workers start_workers accepts: max(2 x CPU cores, visible CUDA devices, 2).
int max_local_workers();

/// Throws srlab::Error "--nproc N is more than this machine can run: at most M ..." unless
/// 1 <= nproc <= max_local_workers().
void check_worker_count(int nproc);

/// Starts `nproc` (1 .. max_local_workers()) workers `program args...` with the environment above on `port` (0: a free
/// one). `log_dir` non-empty: worker r's stdout and stderr go to log_dir/rank_<r>.log (like
/// torchrun --log-dir), else they are inherited. Throws srlab::Error (check_worker_count) or when a
/// process cannot be started (the workers already started are killed).
WorkerGroup start_workers(const std::filesystem::path& program, const std::vector<std::string>& args, int nproc,
                          int port = 0, const std::filesystem::path& log_dir = {});

/// Waits for the workers as described in the file comment. Returns 0 when all succeeded, else the exit
/// status of the first worker that failed (128 + signal number for a signal; 130 for Ctrl-C).
/// `on_failure` (optional) is called with (rank, status) of the first failure before the others are
/// stopped.
int supervise_workers(WorkerGroup& group, const std::function<void(int rank, int status)>& on_failure = {});

/// The path of the running executable (/proc/self/exe).
std::filesystem::path current_executable();

}  // namespace srlab::train
