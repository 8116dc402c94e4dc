// The shared HDF5 helpers of data/datasets/hdf5_common.h.
#include "data/datasets/hdf5_common.h"

#include <algorithm>

#include "core/error.h"
#include "core/shape.h"

namespace srlab::data::hdf5_detail {
namespace fs = std::filesystem;


// ---- HDF5 serialisation and error capture --------------------------------------------------------

std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

// Description of the first HDF5 failure since the current H5Guard was taken ("<API-level desc>:
// <innermost desc>"), recorded by the automatic error handler while HDF5's error stack is still intact
// (the C++ wrapper throws later, and unwinding may run other HDF5 calls that clear the stack).
namespace {
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

}  // namespace

const std::string& last_h5_error() { return t_h5_error; }

void reset_error_capture() {
  H5::Exception::dontPrint();
  H5Eset_auto2(H5E_DEFAULT, record_error, nullptr);
  t_h5_error.clear();
}


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

}  // namespace srlab::data::hdf5_detail
