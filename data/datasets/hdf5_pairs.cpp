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
#include "data/image/image_io.h"

namespace srlab::data {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMakeOne = "make one with `srlab prepare`";
constexpr const char* kMakeAgain = "the file is corrupt or truncated; make it again with `srlab prepare`";

// ---- HDF5 serialisation and error capture --------------------------------------------------------

std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

// Description of the first HDF5 failure since the current H5Guard was taken ("<API-level desc>:
// <innermost desc>"), recorded by the automatic error handler while HDF5's error stack is still intact
// (the C++ wrapper throws later, and unwinding may run other HDF5 calls that clear the stack).
thread_local std::string t_h5_error;

herr_t collect_error(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (err && err->desc) out->emplace_back(err->desc);
  return 0;
}

herr_t record_error(hid_t stack, void* /*client*/) {
  if (!t_h5_error.empty()) return 0;
  std::vector<std::string> descs;
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, collect_error, &descs);  // API level first, innermost last
  std::string s;
  if (!descs.empty()) {
    s = descs.front();
    if (descs.size() > 1) s += ": " + descs.back();
  }
  std::replace(s.begin(), s.end(), '\n', ' ');
  t_h5_error = s.empty() ? "unknown HDF5 error" : s;
  return 0;
}

// Holds the process-wide HDF5 mutex. HDF5's error printing is per thread (thread-safe build), so it is
// switched off (dontPrint) and replaced by the silent recorder above on every acquisition.
class H5Guard {
 public:
  H5Guard() : lock_(h5_mutex()) {
    H5::Exception::dontPrint();
    H5Eset_auto2(H5E_DEFAULT, record_error, nullptr);
    t_h5_error.clear();
  }

 private:
  std::lock_guard<std::mutex> lock_;
};

// "H5Fopen failed (unable to open file: truncated file: eof = ...)". Call with the H5Guard held.
std::string h5_detail(const H5::Exception& e) {
  std::string d = e.getFuncName().empty() ? e.getDetailMsg() : e.getFuncName() + ": " + e.getDetailMsg();
  if (!t_h5_error.empty()) d += " (" + t_h5_error + ")";
  return d;
}

[[noreturn]] void throw_h5(const std::string& func, const std::string& msg) { throw H5::DataSetIException(func, msg); }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string index_name(int64_t i) {
  std::string s = std::to_string(i);
  return s.size() < 6 ? std::string(6 - s.size(), '0') + s : s;
}

std::string shape_str(const std::vector<hsize_t>& d) {
  std::string s;
  for (size_t k = 0; k < d.size(); ++k) s += (k ? "x" : "") + std::to_string(d[k]);
  return s;
}

std::string shape_str(const torch::Tensor& t) { return core::dims_text(t.sizes()); }

// Closes `obj`; when HDF5 fails to close it (after a disk-full write), the C++ object is leaked on
// purpose: its destructor would call H5Fclose again on the half-closed file, which crashes HDF5 1.10
// inside H5F__close. The handle is released by the OS at exit.
template <typename T>
void close_quietly(std::unique_ptr<T>& obj) {
  if (!obj) return;
  try {
    obj->close();
  } catch (...) {
    (void)obj.release();
    return;
  }
  obj.reset();
}

// The HDF5 objects of an open pairs file, shared by the writer and the reader.
struct PairsHandles {
  std::unique_ptr<H5::H5File> file;
  std::unique_ptr<H5::DataSet> hr, lr, meta;      // hr/lr: patches layout only
  std::unique_ptr<H5::Group> hr_group, lr_group;  // images layout only

  // Closes every object, children before the file. Caller holds the H5Guard.
  void close_all() noexcept {
    close_quietly(hr);
    close_quietly(lr);
    close_quietly(meta);
    close_quietly(hr_group);
    close_quietly(lr_group);
    close_quietly(file);
  }
};

H5::FileAccPropList file_access() {
  H5::FileAccPropList fapl;
  // Keep HDF5's file locking, but do not fail on file systems without locks (e.g. some NFS mounts).
  H5Pset_file_locking(fapl.getId(), true, true);
  return fapl;
}

H5::StrType utf8_vlen_type() {
  H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  t.setCset(H5T_CSET_UTF8);
  return t;
}

void write_string_attr(H5::H5Object& loc, const char* name, const std::string& value) {
  H5::StrType type = utf8_vlen_type();
  H5::Attribute a = loc.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  a.write(type, value);
}

template <typename T>
void write_int_attr(H5::H5Object& loc, const char* name, const H5::PredType& file_type, const H5::PredType& mem_type,
                    T value) {
  H5::Attribute a = loc.createAttribute(name, file_type, H5::DataSpace(H5S_SCALAR));
  a.write(mem_type, &value);
}

H5::DSetCreatPropList pixel_plist(const std::vector<hsize_t>& chunk, int deflate) {
  H5::DSetCreatPropList p;
  p.setChunk(static_cast<int>(chunk.size()), chunk.data());
  if (deflate > 0) {
    p.setShuffle();
    p.setDeflate(deflate);
  }
  p.setFletcher32();  // detects silent corruption even without deflate's own checksum
  H5Pset_fill_time(p.getId(), H5D_FILL_TIME_NEVER);  // every element is written
  return p;
}

// A uint8 (C,H,W) CPU contiguous copy of `t`, or srlab::Error saying what is wrong.
torch::Tensor checked_u8(const torch::Tensor& t, const char* side, const fs::path& path) {
  const std::string who = "HDF5 pairs writer " + quoted(path) + ": " + side;
  if (!t.defined()) throw Error(who + " tensor is undefined");
  if (t.scalar_type() != torch::kUInt8)
    throw Error(who + " tensor must be uint8 (0..255), got " + std::string(c10::toString(t.scalar_type())) +
                "; quantise it first (e.g. round(x*255) to uint8)");
  if (t.dim() != 3) throw Error(who + " tensor must be (C,H,W), got shape " + c10::str(t.sizes()));
  if (t.size(0) != 1 && t.size(0) != 3)
    throw Error(who + " tensor must have 1 (gray) or 3 (RGB) channels, got shape " + c10::str(t.sizes()));
  if (t.size(1) < 1 || t.size(2) < 1) throw Error(who + " tensor is empty, shape " + c10::str(t.sizes()));
  return t.to(torch::kCPU).contiguous();
}

// ---- reading helpers (call with the H5Guard held) --------------------------------------------------

struct FileCtx {
  const fs::path& path;
  [[noreturn]] void not_ours(const std::string& what) const {
    throw Error("HDF5 file " + quoted(path) + " is not an SRLab pairs file (" + what + "); " + kMakeOne);
  }
  [[noreturn]] void bad(const std::string& what) const {
    throw Error("HDF5 pairs file " + quoted(path) + ": " + what + "; " + kMakeAgain);
  }
};

H5::Attribute open_scalar_attr(const H5::H5Object& loc, const char* name, H5T_class_t cls, const FileCtx& ctx) {
  if (!loc.attrExists(name)) {
    if (std::string(name) == "format") ctx.not_ours("no 'format' attribute");
    ctx.bad(std::string("root attribute '") + name + "' is missing");
  }
  H5::Attribute a = loc.openAttribute(name);
  if (a.getTypeClass() != cls || a.getSpace().getSimpleExtentNpoints() != 1)
    ctx.bad(std::string("root attribute '") + name + "' is not a single " +
            (cls == H5T_STRING ? "string" : "integer"));
  return a;
}

std::string read_string_attr(const H5::H5Object& loc, const char* name, const FileCtx& ctx) {
  H5::Attribute a = open_scalar_attr(loc, name, H5T_STRING, ctx);
  H5::StrType type = a.getStrType();
  if (type.isVariableStr()) {
    H5::StrType mem(H5::PredType::C_S1, H5T_VARIABLE);
    mem.setCset(type.getCset());
    char* p = nullptr;
    if (H5Aread(a.getId(), mem.getId(), &p) < 0) throw_h5("H5Aread", std::string("reading attribute ") + name);
    std::string s = p ? p : "";
    if (p) H5free_memory(p);
    return s;
  }
  std::string s(type.getSize(), '\0');
  if (H5Aread(a.getId(), type.getId(), s.data()) < 0) throw_h5("H5Aread", std::string("reading attribute ") + name);
  return s.substr(0, s.find('\0'));
}

int64_t read_int_attr(const H5::H5Object& loc, const char* name, const FileCtx& ctx) {
  H5::Attribute a = open_scalar_attr(loc, name, H5T_INTEGER, ctx);
  int64_t v = 0;
  a.read(H5::PredType::NATIVE_INT64, &v);
  return v;
}

bool is_kind(const H5::H5Location& loc, const std::string& name, H5O_type_t kind) {
  return loc.nameExists(name) && loc.childObjType(name) == kind;
}

// Dims of a uint8 dataset of the given rank, or srlab::Error.
std::vector<hsize_t> u8_dims(const H5::DataSet& d, const std::string& what, int rank, const FileCtx& ctx) {
  bool u8 = d.getTypeClass() == H5T_INTEGER;
  if (u8) {
    H5::IntType t = d.getIntType();
    u8 = t.getSize() == 1 && t.getSign() == H5T_SGN_NONE;
  }
  if (!u8) ctx.bad("dataset '" + what + "' is not uint8");
  H5::DataSpace s = d.getSpace();
  if (s.getSimpleExtentType() != H5S_SIMPLE || s.getSimpleExtentNdims() != rank)
    ctx.bad("dataset '" + what + "' has rank " + std::to_string(s.getSimpleExtentNdims()) + ", expected " +
            std::to_string(rank));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  s.getSimpleExtentDims(dims.data());
  return dims;
}

}  // namespace

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
  if (!fs::is_regular_file(path, ec))
    throw Error("HDF5 pairs file " + quoted(path) + " is not a regular file; give the .h5 file itself");

  H5Guard g;
  try {
    const htri_t sig = H5Fis_hdf5(path.c_str());
    if (sig < 0)
      throw Error("cannot read " + quoted(path) + " (" + t_h5_error + "); check that it is readable");
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
