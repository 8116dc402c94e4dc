// The HDF5 pairs reader and helpers (data/datasets/hdf5_pairs.h); the writer is hdf5_pairs_writer.cpp.
#include "data/datasets/hdf5_pairs.h"

#include <H5Cpp.h>
#include <fmt/format.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/shape.h"
#include "core/fs.h"
#include "data/datasets/hdf5_common.h"
#include "data/image/image_io.h"

namespace srlab::data {
namespace fs = std::filesystem;
using namespace hdf5_detail;

// ==== reader =========================================================================================

struct Hdf5PairsReader::Impl : PairsHandles {
  fs::path path;
  Hdf5PairsInfo info;
  bool patches = true;
  std::vector<hsize_t> hr_dims, lr_dims;  // patches: (N,C,H,W) / (N,C,h,w)

  ~Impl() {
    H5Guard g;
    close_all();
  }

  // Caller holds the H5Guard.
  std::string read_meta(int64_t i) const {
    const H5::StrType ftype = meta->getStrType();
    H5::StrType mtype(H5::PredType::C_S1, H5T_VARIABLE);
    mtype.setCset(ftype.getCset());
    H5::DataSpace file_space = meta->getSpace();
    const hsize_t start[1] = {static_cast<hsize_t>(i)}, one[1] = {1};
    file_space.selectHyperslab(H5S_SELECT_SET, one, start);
    H5::DataSpace mem_space(1, one);
    char* p = nullptr;
    if (H5Dread(meta->getId(), mtype.getId(), mem_space.getId(), file_space.getId(), H5P_DEFAULT, &p) < 0)
      throw_h5("H5Dread", "reading meta " + std::to_string(i));
    std::string s = p ? p : "";
    if (p) H5free_memory(p);
    return s;
  }

  std::string sample_name(int64_t i) const {
    const std::string fallback = "sample_" + std::to_string(i);
    const nlohmann::json j = nlohmann::json::parse(read_meta(i), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return fallback;
    const auto it = j.find("source");
    if (it == j.end() || !it->is_string()) return fallback;
    const std::string stem = fs::path(it->get<std::string>()).stem().string();
    if (stem.empty()) return fallback;
    return patches ? stem + "_" + std::to_string(i) : stem;
  }

  void check_index(int64_t i) const {
    if (i < 0 || i >= info.count)
      throw Error("HDF5 pairs file " + quoted(path) + ": index " + std::to_string(i) + " out of range (size " +
                  std::to_string(info.count) + ")");
  }
};

Hdf5PairsReader::Hdf5PairsReader(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  const FileCtx ctx{m.path};
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error("HDF5 pairs file " + quoted(path) + " does not exist; check the path, or " + kMakeOne);
  core::require_path_kind(path, core::PathKind::kFile, "HDF5 pairs file", true, "give the .h5 file itself");

  H5Guard g;
  try {
    const htri_t sig = H5Fis_hdf5(path.c_str());
    if (sig < 0)
      throw Error("cannot read " + quoted(path) + " (" + last_h5_error() + "); check that it is readable");
    if (sig == 0)
      throw Error(quoted(path) + " is not an HDF5 file (no HDF5 signature; corrupt or another format); " +
                  kMakeOne);
    try {
      m.file = std::make_unique<H5::H5File>(path.string(), H5F_ACC_RDONLY, H5::FileCreatPropList::DEFAULT,
                                            file_access());
    } catch (const H5::Exception& e) {
      throw Error("cannot open HDF5 file " + quoted(path) + ": " + h5_detail(e) + "; " + kMakeAgain);
    }
    H5::H5File& f = *m.file;
    const std::string format = read_string_attr(f, "format", ctx);
    if (format != kHdf5PairsFormat)
      ctx.not_ours("its format attribute is '" + format + "', expected '" + kHdf5PairsFormat + "'");
    const int64_t scale = read_int_attr(f, "scale", ctx);
    if (scale < 1 || scale > 1024) ctx.bad("scale attribute is " + std::to_string(scale) + ", expected >= 1");
    m.info.scale = static_cast<int>(scale);
    m.info.layout = read_string_attr(f, "layout", ctx);
    if (m.info.layout != "patches" && m.info.layout != "images")
      ctx.bad("layout attribute is '" + m.info.layout + "', expected 'patches' or 'images'");
    m.patches = m.info.layout == "patches";
    m.info.config = read_string_attr(f, "config", ctx);
    if (!f.attrExists("count")) ctx.bad("no 'count' attribute: the file was never completed");
    m.info.count = read_int_attr(f, "count", ctx);
    if (m.info.count < 0) ctx.bad("count attribute is negative");
    const hsize_t n = static_cast<hsize_t>(m.info.count);

    if (!is_kind(f, "meta", H5O_TYPE_DATASET)) ctx.not_ours("no 'meta' dataset");
    m.meta = std::make_unique<H5::DataSet>(f.openDataSet("meta"));
    {
      H5::DataSpace s = m.meta->getSpace();
      if (m.meta->getTypeClass() != H5T_STRING || !m.meta->getStrType().isVariableStr())
        ctx.bad("dataset 'meta' is not variable-length strings");
      if (s.getSimpleExtentType() != H5S_SIMPLE || s.getSimpleExtentNdims() != 1) ctx.bad("dataset 'meta' is not 1-D");
      hsize_t len = 0;
      s.getSimpleExtentDims(&len);
      if (len != n)
        ctx.bad("dataset 'meta' has " + std::to_string(len) + " entries but count is " + std::to_string(n));
    }

    const H5O_type_t kind = m.patches ? H5O_TYPE_DATASET : H5O_TYPE_GROUP;
    const std::string kind_name = m.patches ? "dataset" : "group";
    for (const char* name : {"hr", "lr"}) {
      if (!f.nameExists(name)) ctx.not_ours(std::string("no '") + name + "' " + kind_name);
      if (f.childObjType(name) != kind)
        ctx.bad(std::string("'") + name + "' is not a " + kind_name + " as layout '" + m.info.layout + "' needs");
    }
    if (m.patches) {
      m.hr = std::make_unique<H5::DataSet>(f.openDataSet("hr"));
      m.lr = std::make_unique<H5::DataSet>(f.openDataSet("lr"));
      m.hr_dims = u8_dims(*m.hr, "hr", 4, ctx);
      m.lr_dims = u8_dims(*m.lr, "lr", 4, ctx);
      const auto& H = m.hr_dims;
      const auto& L = m.lr_dims;
      const hsize_t s = static_cast<hsize_t>(m.info.scale);
      if (H[0] != n || L[0] != n)
        ctx.bad("datasets 'hr'/'lr' hold " + std::to_string(H[0]) + "/" + std::to_string(L[0]) +
                " samples but count is " + std::to_string(n));
      if ((H[1] != 1 && H[1] != 3) || L[1] != H[1])
        ctx.bad("channel counts of 'hr' (" + std::to_string(H[1]) + ") and 'lr' (" + std::to_string(L[1]) +
                ") must be equal and 1 or 3");
      if (L[2] < 1 || L[3] < 1 || L[2] * s != H[2] || L[3] * s != H[3])
        ctx.bad("'lr' samples are " + std::to_string(L[2]) + "x" + std::to_string(L[3]) + " but 'hr' samples " +
                std::to_string(H[2]) + "x" + std::to_string(H[3]) + "; LR x scale " + std::to_string(s) +
                " must equal the HR size");
    } else {
      m.hr_group = std::make_unique<H5::Group>(f.openGroup("hr"));
      m.lr_group = std::make_unique<H5::Group>(f.openGroup("lr"));
      const hsize_t nh = m.hr_group->getNumObjs(), nl = m.lr_group->getNumObjs();
      if (nh != n || nl != n)
        ctx.bad("groups 'hr'/'lr' hold " + std::to_string(nh) + "/" + std::to_string(nl) +
                " samples but count is " + std::to_string(n));
    }
  } catch (const H5::Exception& e) {
    throw Error("cannot read HDF5 pairs file " + quoted(path) + ": " + h5_detail(e) + "; " + kMakeAgain);
  }
}

Hdf5PairsReader::~Hdf5PairsReader() = default;
Hdf5PairsReader::Hdf5PairsReader(Hdf5PairsReader&&) noexcept = default;
Hdf5PairsReader& Hdf5PairsReader::operator=(Hdf5PairsReader&&) noexcept = default;

const Hdf5PairsInfo& Hdf5PairsReader::info() const {
  if (!impl_) throw Error("HDF5 pairs reader: used after being moved from");
  return impl_->info;
}

int64_t Hdf5PairsReader::size() const { return impl_ ? impl_->info.count : 0; }

const fs::path& Hdf5PairsReader::path() const {
  if (!impl_) throw Error("HDF5 pairs reader: used after being moved from");
  return impl_->path;
}

std::string Hdf5PairsReader::meta(int64_t i) const {
  if (!impl_) throw Error("HDF5 pairs reader: used after being moved from");
  const Impl& m = *impl_;
  m.check_index(i);
  H5Guard g;
  try {
    return m.read_meta(i);
  } catch (const H5::Exception& e) {
    throw Error("HDF5 pairs file " + quoted(m.path) + ": cannot read the metadata of sample " + std::to_string(i) +
                ": " + h5_detail(e) + "; " + kMakeAgain);
  }
}

Pair Hdf5PairsReader::read(int64_t i) const {
  if (!impl_) throw Error("HDF5 pairs reader: used after being moved from");
  const Impl& m = *impl_;
  m.check_index(i);
  const FileCtx ctx{m.path};
  H5Guard g;
  try {
    Pair p;
    if (m.patches) {
      for (const bool is_hr : {true, false}) {
        const auto& d = is_hr ? m.hr_dims : m.lr_dims;
        const H5::DataSet& ds = is_hr ? *m.hr : *m.lr;
        torch::Tensor t = torch::empty({static_cast<int64_t>(d[1]), static_cast<int64_t>(d[2]),
                                        static_cast<int64_t>(d[3])}, torch::kUInt8);
        const hsize_t start[4] = {static_cast<hsize_t>(i), 0, 0, 0}, count[4] = {1, d[1], d[2], d[3]};
        H5::DataSpace file_space = ds.getSpace();
        file_space.selectHyperslab(H5S_SELECT_SET, count, start);
        ds.read(t.data_ptr<uint8_t>(), H5::PredType::NATIVE_UINT8, H5::DataSpace(4, count), file_space);
        (is_hr ? p.hr : p.lr) = t;
      }
    } else {
      const std::string name = index_name(i);
      std::vector<hsize_t> dims[2];
      for (const bool is_hr : {true, false}) {
        const H5::Group& grp = is_hr ? *m.hr_group : *m.lr_group;
        const std::string what = std::string(is_hr ? "hr/" : "lr/") + name;
        if (!is_kind(grp, name, H5O_TYPE_DATASET)) ctx.bad("dataset '" + what + "' is missing");
        H5::DataSet ds = grp.openDataSet(name);
        auto& d = dims[is_hr ? 0 : 1];
        d = u8_dims(ds, what, 3, ctx);
        if (d[0] != 1 && d[0] != 3) ctx.bad("dataset '" + what + "' has " + std::to_string(d[0]) + " channels, expected 1 or 3");
        if (d[1] < 1 || d[2] < 1) ctx.bad("dataset '" + what + "' is empty");
        torch::Tensor t = torch::empty({static_cast<int64_t>(d[0]), static_cast<int64_t>(d[1]),
                                        static_cast<int64_t>(d[2])}, torch::kUInt8);
        ds.read(t.data_ptr<uint8_t>(), H5::PredType::NATIVE_UINT8);
        (is_hr ? p.hr : p.lr) = t;
      }
      const hsize_t s = static_cast<hsize_t>(m.info.scale);
      if (dims[0][0] != dims[1][0] || dims[1][1] * s != dims[0][1] || dims[1][2] * s != dims[0][2])
        ctx.bad("sample " + std::to_string(i) + ": 'lr/" + name + "' is " + shape_str(dims[1]) + " but 'hr/" + name +
                "' is " + shape_str(dims[0]) + "; expected the same channels and LR x " + std::to_string(s) +
                " = HR size");
    }
    p.name = m.sample_name(i);
    return p;
  } catch (const H5::Exception& e) {
    throw Error("HDF5 pairs file " + quoted(m.path) + ": cannot read sample " + std::to_string(i) + ": " +
                h5_detail(e) + "; " + kMakeAgain);
  }
}

// ==== helpers =========================================================================================

bool is_hdf5_file(const fs::path& path) {
  try {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".h5" || ext == ".hdf5") return true;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return false;
    const auto size = fs::file_size(path, ec);
    if (ec) return false;
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    static const char kSig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    for (std::uintmax_t off = 0; off + 8 <= size; off = off == 0 ? 512 : off * 2) {
      char buf[8];
      in.seekg(static_cast<std::streamoff>(off));
      if (!in.read(buf, 8)) return false;
      if (std::equal(buf, buf + 8, kSig)) return true;
    }
    return false;
  } catch (...) {
    return false;
  }
}

PairedImageDataset open_hdf5_pairs(const fs::path& path, bool to_rgb_opt) {
  const Hdf5PairsReader reader(path);
  if (reader.size() == 0)
    throw Error("HDF5 pairs file " + quoted(path) + " holds no sample; " + kMakeOne);
  std::vector<StoredPair> pairs;
  pairs.reserve(static_cast<size_t>(reader.size()));
  for (int64_t i = 0; i < reader.size(); ++i) {
    Pair p = reader.read(i);
    StoredPair s;
    s.lr = to_rgb_opt ? to_rgb(p.lr).contiguous() : p.lr;
    s.hr = to_rgb_opt ? to_rgb(p.hr).contiguous() : p.hr;
    s.name = std::move(p.name);
    s.hr_path = fs::path(path.string() + "#" + std::to_string(i));
    pairs.push_back(std::move(s));
  }
  return PairedImageDataset(reader.info().scale, std::move(pairs), /*lr_generated=*/false);
}

}  // namespace srlab::data
