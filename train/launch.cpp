#include "train/launch.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <thread>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"

extern char** environ;

namespace srlab::train {

namespace {
const char* const kLaunchVars[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"};

// The parent's environment without the launch variables, plus this rank's.
std::vector<std::string> worker_environment(int rank, int nproc, int port) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    bool ours = false;
    for (const char* v : kLaunchVars) ours = ours || kv.rfind(std::string(v) + "=", 0) == 0;
    if (!ours) env.push_back(kv);
  }
  for (const auto& [k, v] : {std::pair<std::string, std::string>{"RANK", std::to_string(rank)},
                             {"WORLD_SIZE", std::to_string(nproc)},
                             {"LOCAL_RANK", std::to_string(rank)},
                             {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
                             {"MASTER_ADDR", "127.0.0.1"},
                             {"MASTER_PORT", std::to_string(port)}})
    env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
}  // namespace

int free_tcp_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::filesystem::path current_executable() { return std::filesystem::read_symlink("/proc/self/exe"); }

int max_local_workers() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max({2 * cores, static_cast<int>(torch::cuda::device_count()), 2});
}

void check_worker_count(int nproc) {
  if (nproc < 1) throw Error("--nproc must be >= 1, got " + std::to_string(nproc));
  if (nproc > max_local_workers())
    throw Error(fmt::format("--nproc {} is more than this machine can run: at most {} local workers (2 per CPU core "
                            "of {}, or one per visible GPU: {}); use torchrun or srun to train across machines",
                            nproc, max_local_workers(), std::thread::hardware_concurrency(),
                            torch::cuda::device_count()));
}

namespace {
void kill_all(const WorkerGroup& g, int sig) {
  for (const pid_t pid : g.pids) ::kill(pid, sig);
}
}  // namespace

WorkerGroup start_workers(const std::filesystem::path& program, const std::vector<std::string>& args, int nproc, int port,
                          const std::filesystem::path& log_dir) {
  check_worker_count(nproc);
  if (port == 0) port = free_tcp_port();
  if (!log_dir.empty()) std::filesystem::create_directories(log_dir);
  WorkerGroup g;
  const pid_t parent = ::getpid();
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> argv_s{program.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s = worker_environment(r, nproc, port);
    std::vector<char*> argv = c_strings(argv_s), envp = c_strings(env_s);
    int log_fd = -1;
    if (!log_dir.empty()) {
      const std::string f = (log_dir / ("rank_" + std::to_string(r) + ".log")).string();
      log_fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (log_fd < 0) {
        kill_all(g, SIGKILL);  // no half-started group left behind
        throw Error("cannot write the worker log '" + f + "': " + std::strerror(errno));
      }
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      const std::string why = std::strerror(errno);
      kill_all(g, SIGKILL);
      for (const pid_t p : g.pids) ::waitpid(p, nullptr, 0);
      throw Error("cannot start a training worker (fork): " + why);
    }
    if (pid == 0) {  // child: only async-signal-safe calls until exec
      ::setpgid(0, 0);                    // the launcher forwards Ctrl-C exactly once
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphaned workers if the launcher dies
      if (::getppid() != parent) ::_exit(1);
      if (log_fd >= 0) {
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    if (log_fd >= 0) ::close(log_fd);
    g.pids.push_back(pid);
  }
  core::log("started {} workers on 127.0.0.1:{} (pids {}){}", nproc, port, fmt::join(g.pids, " "),
            log_dir.empty() ? "" : ", logs in " + log_dir.string());
  return g;
}

int supervise_workers(WorkerGroup& g, const std::function<void(int, int)>& on_failure) {
  using clock = std::chrono::steady_clock;
  core::InterruptScope sigint;
  std::vector<bool> done(g.pids.size(), false);
  size_t left = g.pids.size();
  std::optional<int> failure;
  bool forwarded = false, termed = false;
  clock::time_point failed_at;
  while (left > 0) {
    for (size_t r = 0; r < g.pids.size(); ++r) {
      int status = 0;
      if (done[r] || ::waitpid(g.pids[r], &status, WNOHANG) != g.pids[r]) continue;
      done[r] = true;
      --left;
      const int code = status_code(status);
      if (code != 0 && !failure) {
        failure = code;
        failed_at = clock::now();
        if (on_failure) on_failure(static_cast<int>(r), code);
      }
    }
    if (core::interrupted() && !forwarded) {
      forwarded = true;
      for (size_t r = 0; r < g.pids.size(); ++r)
        if (!done[r]) ::kill(g.pids[r], SIGINT);
    }
    if (failure && left > 0) {  // a failed rank stops its siblings at once (they cannot go on without it)
      const auto waited = clock::now() - failed_at;
      const int sig = waited > std::chrono::seconds(10) ? SIGKILL : SIGTERM;
      if (sig == SIGKILL || !termed) {
        termed = true;
        for (size_t r = 0; r < g.pids.size(); ++r)
          if (!done[r]) ::kill(g.pids[r], sig);
      }
    }
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return failure.value_or(0);
}

}  // namespace srlab::train
