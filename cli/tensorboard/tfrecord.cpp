#include "cli/tensorboard/tfrecord.h"

#include <boost/crc.hpp>
#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "core/error.h"

namespace srlab::cli {

namespace {

// CRC-32C as Boost.CRC parameters: width 32, polynomial, initial remainder, final XOR, reflect in/out.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  Crc32c crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint32_t masked_crc32c(std::string_view data) { return mask_crc(crc32c(data)); }

std::string tfrecord_frame(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(out), 4);
  out.append(data);
  put_le(out, masked_crc32c(data), 4);
  return out;
}

std::vector<TfRecord> read_tfrecords(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open TFRecord file '{}'", file.string()));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(fmt::format("cannot read TFRecord file '{}'", file.string()));
  const std::string_view all(bytes);
  auto fail = [&](uint64_t offset, const std::string& what) {
    throw Error(fmt::format("TFRecord file '{}': {} in the record at byte offset {} (file size {} bytes)",
                            file.string(), what, offset, all.size()));
  };
  std::vector<TfRecord> records;
  uint64_t pos = 0;
  while (pos < all.size()) {
    if (all.size() - pos < 12) fail(pos, "truncated header (length + length CRC)");
    const std::string_view header = all.substr(pos, 8);
    const uint64_t length = get_le(header, 8);
    if (get_le(all.substr(pos + 8, 4), 4) != masked_crc32c(header)) fail(pos, "length CRC mismatch (corrupt length)");
    const uint64_t after_header = all.size() - pos - 12;
    if (after_header < 4 || length > after_header - 4)
      fail(pos, fmt::format("truncated data ({} bytes announced, {} left after the header)", length, after_header));
    const std::string_view data = all.substr(pos + 12, length);
    if (get_le(all.substr(pos + 12 + length, 4), 4) != masked_crc32c(data))
      fail(pos, "data CRC mismatch (corrupt data)");
    records.push_back({std::string(data), pos});
    pos += 12 + length + 4;
  }
  return records;
}

}  // namespace srlab::cli
