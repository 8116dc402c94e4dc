#pragma once
// A small intra-op parallel loop for hand-written kernels in data/.
//
// Why not at::parallel_for: with Debian's libtorch (OpenMP backend) at::parallel_for is a header
// template whose parallel branch is compiled only when the *calling* translation unit is built with
// -fopenmp; SRLab's targets are not, so it would silently run serially. This helper instead splits the
// range over a process-wide boost::asio::thread_pool sized to the hardware and honours
// at::get_num_threads() (so core::configure_threads(1) gives serial execution).
#include <cstdint>
#include <functional>

namespace srlab::data {

/// Calls f(begin, end) over disjoint chunks covering [0, n), in parallel when n > grain and
/// at::get_num_threads() > 1 (at most that many chunks, each at least `grain` items, one of them
/// run on the calling thread). Blocks until all chunks are done; rethrows the first exception.
/// f must not itself call parallel_rows (no nesting).
void parallel_rows(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f);

}  // namespace srlab::data
