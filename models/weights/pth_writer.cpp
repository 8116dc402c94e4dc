#include "models/weights/pth_writer.h"

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "models/weights/pickle_writer.h"

namespace srlab::models {
namespace fs = std::filesystem;
namespace {

torch::Tensor as_float_storage(const torch::Tensor& t, const std::string& where) {
  if (!t.defined()) throw Error(fmt::format("{}: the tensor is undefined", where));
  if (t.is_complex()) throw Error(fmt::format("{}: complex tensors cannot be written as float32", where));
  return t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
}

// Storages of every tensor (deduplicated by data pointer and size) and the pickle that references them.
struct Layout {
  std::vector<torch::Tensor> storages;  // index = storage key
  std::vector<PickledStateDict> pickled;
};

Layout layout_of(const std::vector<NamedStateDict>& entries, const fs::path& file) {
  Layout l;
  std::map<std::pair<const void*, int64_t>, size_t> seen;
  std::set<std::string> names;
  for (const auto& [name, sd] : entries) {
    if (!names.insert(name).second)
      throw Error(fmt::format("cannot write '{}': the entry '{}' is given twice", file.string(), name));
    std::vector<PickledTensor> tensors;
    for (const auto& [key, value] : sd) {
      const torch::Tensor t = as_float_storage(value, fmt::format("cannot write '{}': '{}' of '{}'", file.string(), key, name));
      const auto id = std::make_pair(static_cast<const void*>(t.data_ptr()), t.numel());
      auto it = seen.find(id);
      if (it == seen.end() || t.numel() == 0) {
        it = seen.insert_or_assign(id, l.storages.size()).first;
        l.storages.push_back(t);
      }
      tensors.push_back({key, std::to_string(it->second), t.sizes().vec(), t.numel()});
    }
    l.pickled.emplace_back(name, std::move(tensors));
  }
  return l;
}

}  // namespace

void write_pth(const fs::path& file, const std::vector<NamedStateDict>& entries) {
  if (entries.empty()) throw Error(fmt::format("cannot write '{}': no state dict given", file.string()));
  const Layout l = layout_of(entries, file);
  const std::string pickle = torch_save_pickle(l.pickled);
  core::write_atomic_with(file, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("cannot write '{}': cannot create '{}'", file.string(), tmp.string()));
    try {
      caffe2::serialize::PyTorchStreamWriter writer([&out](const void* data, size_t n) -> size_t {
        out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
        return out ? n : 0;
      });
      writer.writeRecord("data.pkl", pickle.data(), pickle.size());
      static const std::string kByteOrder = "little";
      writer.writeRecord("byteorder", kByteOrder.data(), kByteOrder.size());
      for (size_t k = 0; k < l.storages.size(); ++k)
        writer.writeRecord("data/" + std::to_string(k), l.storages[k].data_ptr(), l.storages[k].nbytes());
      writer.writeEndOfFile();
    } catch (const c10::Error& e) {
      throw Error(fmt::format("cannot write '{}': {}", file.string(), e.what_without_backtrace()));
    }
    out.close();
    if (!out) throw Error(fmt::format("cannot write '{}': write error (disk full?)", file.string()));
  });
}

}  // namespace srlab::models
