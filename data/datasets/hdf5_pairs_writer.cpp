// The HDF5 pairs writer (data/datasets/hdf5_pairs.h).
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

// ==== writer =========================================================================================

struct Hdf5PairsWriter::Impl : PairsHandles {
  fs::path path, tmp;
  int scale = 1;
  bool patches = true;
  int deflate = 3;
  int64_t count = 0;
  std::vector<hsize_t> patch_chw;                     // HR (C,H,W) fixed by the first patch
  bool committed = false, broken = false;
  bool refused = false;  // an append was refused for lack of disk space: nothing more is written
  core::Existing existing = core::Existing::kReplace;

  ~Impl() {
    if (committed) return;
    try {
      discard();
    } catch (...) {  // never throw from a destructor (it may run while an exception unwinds)
    }
  }

  // Closes and deletes the temporary file. After a write failure (disk full) HDF5's close would flush
  // its caches into the full disk again and may crash inside H5F__close; emptying the file first gives
  // those last writes room (and they are garbage anyway).
  void discard() noexcept {
    if (broken && !tmp.empty()) (void)::truncate(tmp.c_str(), 0);
    {
      H5Guard g;
      close_all();
    }
    if (!tmp.empty()) {
      std::error_code ec;
      fs::remove(tmp, ec);
    }
  }
};

namespace {
// Room HDF5 needs beyond the sample itself: its chunk caches (1 MiB per open dataset by default) and
// metadata, which are written later (at the next chunk or at close).
constexpr uint64_t kHdf5WriteReserve = 4ull << 20;

// Refuses an append that could fill the disk, before HDF5 writes anything: HDF5 1.10 cannot close a file
// cleanly after a failed write (it crashes in H5F__close, also at process exit), so a full disk must be
// seen here. The writer is then unusable, as after a write failure, but its file closes normally.
// Throws srlab::Error "failed writing '<path>' (disk full?): ..." (and sets `refused`) when the folder of
// `tmp` has less than twice `sample_bytes` plus the reserve available.
void check_free_space(const fs::path& tmp, const fs::path& path, int64_t index, uint64_t sample_bytes, bool& refused) {
  std::error_code ec;
  const fs::space_info sp = fs::space(tmp.has_parent_path() ? tmp.parent_path() : fs::path("."), ec);
  if (ec) return;  // unknown: let HDF5 report any failure
  const uint64_t need = 2 * sample_bytes + kHdf5WriteReserve;
  if (sp.available >= need) return;
  refused = true;
  throw Error(core::write_failure_message(
                  path, fmt::format("sample {} needs about {:.1f} MiB free (with HDF5's caches), {:.1f} MiB left", index,
                                      need / 1048576.0, sp.available / 1048576.0)) +
              "; free some space, then run again");
}
}  // namespace

Hdf5PairsWriter::Hdf5PairsWriter(fs::path path, int scale, std::string layout, std::string config_yaml, int deflate,
                                 core::Existing existing)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = std::move(path);
  const std::string who = "HDF5 pairs writer " + quoted(m.path);
  if (scale < 1) throw Error(who + ": scale must be an integer >= 1, got " + std::to_string(scale));
  if (layout != "patches" && layout != "images")
    throw Error(who + ": layout must be 'patches' (all samples the same size) or 'images', got '" + layout + "'");
  if (deflate < 0 || deflate > 9)
    throw Error(who + ": deflate level must be 0..9 (0 = uncompressed), got " + std::to_string(deflate));
  m.scale = scale;
  m.patches = layout == "patches";
  m.deflate = deflate;
  m.existing = existing;
  core::check_output_free(m.path, existing);
  if (m.path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(m.path.parent_path(), ec);
    if (ec) throw Error(who + ": cannot create folder " + quoted(m.path.parent_path()) + ": " + ec.message());
  }
  core::remove_stale_temps(m.path.has_parent_path() ? m.path.parent_path() : fs::path("."));
  m.tmp = core::temp_path_for(m.path);

  H5Guard g;
  try {
    m.file = std::make_unique<H5::H5File>(m.tmp.string(), H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT,
                                          file_access());
    write_string_attr(*m.file, "format", kHdf5PairsFormat);
    write_int_attr<int32_t>(*m.file, "scale", H5::PredType::STD_I32LE, H5::PredType::NATIVE_INT32, scale);
    write_string_attr(*m.file, "layout", layout);
    write_string_attr(*m.file, "config", config_yaml);
    const hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {256};
    H5::DSetCreatPropList p;
    p.setChunk(1, chunk);
    m.meta = std::make_unique<H5::DataSet>(
        m.file->createDataSet("meta", utf8_vlen_type(), H5::DataSpace(1, dims, maxdims), p));
    if (!m.patches) {
      m.hr_group = std::make_unique<H5::Group>(m.file->createGroup("hr"));
      m.lr_group = std::make_unique<H5::Group>(m.file->createGroup("lr"));
    }
  } catch (const H5::Exception& e) {
    m.broken = true;
    throw Error(who + ": cannot create " + quoted(m.tmp) + ": " + h5_detail(e) +
                "; check that the folder is writable and the disk not full");
  }
}

Hdf5PairsWriter::~Hdf5PairsWriter() = default;
Hdf5PairsWriter::Hdf5PairsWriter(Hdf5PairsWriter&&) noexcept = default;
Hdf5PairsWriter& Hdf5PairsWriter::operator=(Hdf5PairsWriter&&) noexcept = default;

int64_t Hdf5PairsWriter::size() const { return impl_ ? impl_->count : 0; }

const fs::path& Hdf5PairsWriter::path() const {
  if (!impl_) throw Error("HDF5 pairs writer: used after being moved from");
  return impl_->path;
}

void Hdf5PairsWriter::append(const torch::Tensor& hr_u8, const torch::Tensor& lr_u8, const std::string& meta_json) {
  if (!impl_) throw Error("HDF5 pairs writer: used after being moved from");
  Impl& m = *impl_;
  const std::string who = "HDF5 pairs writer " + quoted(m.path);
  if (m.committed) throw Error(who + ": append() after commit(); the file is already complete");
  if (m.broken || m.refused) throw Error(who + ": append() after an earlier write failure; nothing will be kept");
  const torch::Tensor hr = checked_u8(hr_u8, "HR", m.path);
  const torch::Tensor lr = checked_u8(lr_u8, "LR", m.path);
  const std::string sample = " (sample " + std::to_string(m.count) + ")";
  if (hr.size(0) != lr.size(0))
    throw Error(who + ": HR has " + std::to_string(hr.size(0)) + " channel(s) but LR has " +
                std::to_string(lr.size(0)) + sample + "; both must be gray or both RGB");
  if (lr.size(1) * m.scale != hr.size(1) || lr.size(2) * m.scale != hr.size(2))
    throw Error(who + ": LR is " + shape_str(lr) + " but HR is " + shape_str(hr) + sample + "; LR x " +
                std::to_string(m.scale) + " must equal the HR size exactly (crop HR to a multiple of the scale)");
  const std::vector<hsize_t> chw = {static_cast<hsize_t>(hr.size(0)), static_cast<hsize_t>(hr.size(1)),
                                    static_cast<hsize_t>(hr.size(2))};
  if (m.patches && !m.patch_chw.empty() && chw != m.patch_chw)
    throw Error(who + ": layout 'patches' needs every sample the same size; the first HR was " +
                shape_str(m.patch_chw) + ", this one is " + shape_str(hr) + sample +
                "; use layout 'images' for images of different sizes");
  if (!meta_json.empty() && !nlohmann::json::accept(meta_json))
    throw Error(who + ": the metadata of sample " + std::to_string(m.count) +
                " is not valid JSON; pass one JSON document (e.g. {\"source\": \"...\"})");
  const std::string meta_text = meta_json.empty() ? std::string("{}") : meta_json;
  const hsize_t n = static_cast<hsize_t>(m.count);
  const std::vector<hsize_t> lr_chw = {chw[0], chw[1] / static_cast<hsize_t>(m.scale),
                                       chw[2] / static_cast<hsize_t>(m.scale)};

  check_free_space(m.tmp, m.path, m.count, static_cast<uint64_t>(hr.numel() + lr.numel()) + meta_text.size(), m.refused);
  H5Guard g;
  try {
    if (m.patches) {
      if (!m.hr) {
        for (const bool is_hr : {true, false}) {
          const auto& d = is_hr ? chw : lr_chw;
          const hsize_t dims[4] = {0, d[0], d[1], d[2]}, maxdims[4] = {H5S_UNLIMITED, d[0], d[1], d[2]};
          auto ds = std::make_unique<H5::DataSet>(m.file->createDataSet(
              is_hr ? "hr" : "lr", H5::PredType::STD_U8LE, H5::DataSpace(4, dims, maxdims),
              pixel_plist({1, d[0], d[1], d[2]}, m.deflate)));
          (is_hr ? m.hr : m.lr) = std::move(ds);
        }
        m.patch_chw = chw;
      }
      for (const bool is_hr : {true, false}) {
        const auto& d = is_hr ? chw : lr_chw;
        H5::DataSet& ds = is_hr ? *m.hr : *m.lr;
        const hsize_t newdims[4] = {n + 1, d[0], d[1], d[2]}, start[4] = {n, 0, 0, 0},
                      count[4] = {1, d[0], d[1], d[2]};
        ds.extend(newdims);
        H5::DataSpace file_space = ds.getSpace();
        file_space.selectHyperslab(H5S_SELECT_SET, count, start);
        ds.write((is_hr ? hr : lr).data_ptr<uint8_t>(), H5::PredType::NATIVE_UINT8, H5::DataSpace(4, count),
                 file_space);
      }
    } else {
      const std::string name = index_name(m.count);
      for (const bool is_hr : {true, false}) {
        const auto& d = is_hr ? chw : lr_chw;
        H5::Group& grp = is_hr ? *m.hr_group : *m.lr_group;
        const hsize_t dims[3] = {d[0], d[1], d[2]};
        H5::DataSet ds = grp.createDataSet(
            name, H5::PredType::STD_U8LE, H5::DataSpace(3, dims),
            pixel_plist({d[0], std::min<hsize_t>(d[1], 128), std::min<hsize_t>(d[2], 128)}, m.deflate));
        ds.write((is_hr ? hr : lr).data_ptr<uint8_t>(), H5::PredType::NATIVE_UINT8);
        ds.close();
      }
    }
    const hsize_t newdims[1] = {n + 1}, start[1] = {n}, one[1] = {1};
    m.meta->extend(newdims);
    H5::DataSpace file_space = m.meta->getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, one, start);
    H5::DataSpace mem_space(1, one);
    H5::StrType type = utf8_vlen_type();
    const char* text = meta_text.c_str();
    if (H5Dwrite(m.meta->getId(), type.getId(), mem_space.getId(), file_space.getId(), H5P_DEFAULT, &text) < 0)
      throw_h5("H5Dwrite", "writing meta");
  } catch (const H5::Exception& e) {
    m.broken = true;
    throw Error(core::write_failure_message(m.path, "sample " + std::to_string(m.count) + ": " + h5_detail(e)) +
                "; free some space, then run again");
  }
  ++m.count;
}

void Hdf5PairsWriter::commit() {
  if (!impl_) throw Error("HDF5 pairs writer: used after being moved from");
  Impl& m = *impl_;
  const std::string who = "HDF5 pairs writer " + quoted(m.path);
  if (m.committed) throw Error(who + ": commit() called twice; the file is already complete");
  if (m.broken || m.refused) throw Error(who + ": commit() after a write failure; nothing is kept — run again");
  if (m.count == 0) throw Error(who + ": commit() with no sample appended; an empty pairs file is not useful");
  {
    H5Guard g;
    try {
      write_int_attr<int64_t>(*m.file, "count", H5::PredType::STD_I64LE, H5::PredType::NATIVE_INT64, m.count);
      m.file->flush(H5F_SCOPE_GLOBAL);
      m.hr.reset();  // close children explicitly so that the file really closes below
      m.lr.reset();
      m.meta->close();
      m.meta.reset();
      if (m.hr_group) m.hr_group->close();
      if (m.lr_group) m.lr_group->close();
      m.hr_group.reset();
      m.lr_group.reset();
      m.file->close();
      m.file.reset();
    } catch (const H5::Exception& e) {
      m.broken = true;
      throw Error(core::write_failure_message(m.path, "closing the file: " + h5_detail(e)) +
                  "; free some space, then run again");
    }
  }
  try {
    core::publish_temp(m.tmp, m.path, m.existing);  // fsync + rename (or link when keeping outputs)
  } catch (const Error&) {
    m.broken = true;
    throw;  // ~Impl removes the temporary file
  }
  m.committed = true;
}

// ==== reader =========================================================================================

}  // namespace srlab::data
