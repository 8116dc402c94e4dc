#include "data/parallel.h"

#include <ATen/Parallel.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <future>
#include <vector>

#include "core/runtime.h"

namespace srlab::data {

namespace {
boost::asio::thread_pool& pool() {
  static boost::asio::thread_pool p(static_cast<size_t>(std::max(1, core::hardware_threads() - 1)));
  return p;
}
}  // namespace

void parallel_rows(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t max_threads = std::min<int64_t>(at::get_num_threads(), core::hardware_threads());
  const int64_t chunks = std::min<int64_t>(max_threads, (n + grain - 1) / grain);
  if (chunks <= 1) {
    f(0, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  std::vector<std::future<void>> pending;
  for (int64_t c = 1; c < chunks; ++c) {
    const int64_t b = c * step, e = std::min(n, b + step);
    if (b >= e) break;
    auto task = std::make_shared<std::packaged_task<void()>>([&f, b, e] { f(b, e); });
    pending.push_back(task->get_future());
    boost::asio::post(pool(), [task] { (*task)(); });
  }
  std::exception_ptr first;
  try {
    f(0, std::min(n, step));
  } catch (...) {
    first = std::current_exception();
  }
  for (auto& p : pending) {
    try {
      p.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace srlab::data
