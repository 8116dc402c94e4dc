#pragma once
// Graceful Ctrl-C for long jobs (training, dataset preparation): while an InterruptScope is alive, the
// first SIGINT only sets a flag that the job polls at a safe point (to save a checkpoint or delete a
// temporary file); a second SIGINT kills the process as usual.
#include <csignal>

namespace srlab::core {

/// Installs the handler on construction (clearing the flag) and restores the previous one on destruction.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  void (*previous_)(int);
};

/// True once SIGINT arrived inside an InterruptScope (until the next scope starts).
bool interrupted();

}  // namespace srlab::core
