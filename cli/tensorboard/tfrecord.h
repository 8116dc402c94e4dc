#pragma once
// TFRecord framing, the container of TensorBoard event files. Each record is
//   uint64 length (little endian) | uint32 masked CRC32C of those 8 bytes | data | uint32 masked CRC32C of data
// with mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (32-bit arithmetic). Source: TensorFlow's
// tensorflow/core/lib/io/record_writer.h ("Format of a single record") and tensorflow/core/lib/hash/crc32c.h
// (Mask), the TFRecord format reference (tensorflow.org/tutorials/load_data/tfrecord).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace srlab::cli {

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected, init and final XOR 0xFFFFFFFF; Boost.CRC) of
/// `data`. crc32c("123456789") = 0xE3069283 (RFC 3720, B.4).
uint32_t crc32c(std::string_view data);

/// TFRecord's masked CRC: the rotation and offset above applied to `crc`, so that the CRC of data that
/// holds CRCs stays well distributed.
uint32_t mask_crc(uint32_t crc);

/// mask_crc(crc32c(data)).
uint32_t masked_crc32c(std::string_view data);

/// One framed record holding `data` (the bytes to append to a TFRecord file).
std::string tfrecord_frame(std::string_view data);

/// One record read back: its data and the byte offset of its header in the file.
struct TfRecord {
  std::string data;
  uint64_t offset = 0;
};

/// Reads every record of the TFRecord file `file`, checking both CRCs of each.
/// @throws srlab::Error naming the file and the byte offset of the record when the file cannot be read,
///         a record is truncated (the file ends inside its header, data or data CRC) or a CRC does not
///         match (a corrupt byte).
std::vector<TfRecord> read_tfrecords(const std::filesystem::path& file);

}  // namespace srlab::cli
