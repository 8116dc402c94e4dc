#include "core/torch_io.h"

namespace srlab::core {

void save_archive_atomic(torch::serialize::OutputArchive& archive, const std::filesystem::path& target,
                         Existing existing) {
  write_atomic_stream(
      target,
      [&](const ByteSink& sink) {
        archive.save_to([&sink](const void* data, size_t n) -> size_t { return sink(data, n); });
      },
      existing);
}

}  // namespace srlab::core
