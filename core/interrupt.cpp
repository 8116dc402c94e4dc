#include "core/interrupt.h"

#include <atomic>

namespace srlab::core {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C kills immediately
}
}  // namespace

InterruptScope::InterruptScope() : previous_(std::signal(SIGINT, on_sigint)) { g_interrupted = false; }
InterruptScope::~InterruptScope() { std::signal(SIGINT, previous_); }

bool interrupted() { return g_interrupted; }

}  // namespace srlab::core
