#include "data/datasets/degraded_dataset.h"

#include "core/error.h"
#include "core/runtime.h"
#include "data/image/image_io.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace srlab::data {

PairedImageDataset degrade_dataset(const PairedImageDataset& source, const Degradation& degradation, uint64_t seed) {
  std::vector<StoredPair> pairs(source.size());
  std::vector<std::string> errors(source.size());
  // Own pool (not parallel_rows: the degradations' resizes use parallel_rows themselves).
  boost::asio::thread_pool pool(static_cast<size_t>(std::max(1, core::hardware_threads())));
  for (size_t k = 0; k < source.size(); ++k) {
    boost::asio::post(pool, [&, k] {
      torch::NoGradGuard no_grad;
      const int64_t i = static_cast<int64_t>(k);
      try {
        const Pair p = source.get_stored(k);
        const torch::Tensor hr = stored_to_float(p.hr);
        const torch::Tensor lr = degradation.apply(hr, source.scale(), seed, i).lr;
        const torch::Tensor hr_u8 = p.hr.scalar_type() == torch::kUInt8 ? p.hr : to_uint8(hr);
        pairs[k] = StoredPair{to_uint8(lr), hr_u8, p.name, source.hr_path(k)};
      } catch (const std::exception& e) {
        errors[k] = "degrading '" + source.hr_path(k).string() + "': " + e.what();
      }
    });
  }
  pool.join();
  for (const auto& e : errors)
    if (!e.empty()) throw Error(e);
  return PairedImageDataset(source.scale(), std::move(pairs), false);
}

}  // namespace srlab::data
