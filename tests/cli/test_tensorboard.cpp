// TensorBoard event files (cli/tensorboard/): CRC-32C test vectors and TFRecord masking, the
// writer -> reader round trip, the errors for a corrupt byte and a truncated file, and the trainer's
// warn-once handling of a failing sink (train::ScalarLog).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "cli/tensorboard/event_file.h"
#include "cli/tensorboard/tensorboard_sink.h"
#include "cli/tensorboard/tfrecord.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"
#include "train/scalar_sink.h"

namespace test_tensorboard {
using namespace srlab;
namespace fs = std::filesystem;
using srlab::testing::error_of;
using srlab::testing::TempDir;

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

fs::path only_event_file(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) found.push_back(e.path());
  EXPECT_EQ(found.size(), 1u);
  return found.empty() ? fs::path() : found.front();
}

TEST(TensorBoardCrc, Crc32cTestVectors) {
  EXPECT_EQ(cli::crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check value
  // RFC 3720 (iSCSI), B.4: 32 bytes of zeros, of 0xFF, ascending 0..31, descending 31..0.
  EXPECT_EQ(cli::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(cli::crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string up, down;
  for (int i = 0; i < 32; ++i) {
    up.push_back(static_cast<char>(i));
    down.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(cli::crc32c(up), 0x46DD794Eu);
  EXPECT_EQ(cli::crc32c(down), 0x113FDB5Cu);
}

TEST(TensorBoardCrc, Masking) {
  EXPECT_EQ(cli::mask_crc(0), 0xA282EAD8u);
  EXPECT_EQ(cli::mask_crc(0xFFFFFFFFu), 0xA282EAD7u);  // the 32-bit sum wraps
  EXPECT_EQ(cli::mask_crc(0xE3069283u), 0xC78AB0E5u);  // rotate right 15: 0x2507C60D, + 0xa282ead8
  // Every TensorFlow event file starts with 18 00 00 00 00 00 00 00 a3 7f 4b 22: the length 24 of its
  // file_version record and that length's masked CRC.
  const std::string rec = cli::tfrecord_frame(std::string(24, 'x'));
  EXPECT_EQ(rec.substr(0, 12), std::string("\x18\0\0\0\0\0\0\0\xa3\x7f\x4b\x22", 12));
  EXPECT_EQ(rec.size(), 24u + 16u);
}

TEST(TensorBoardEventFile, WriterReaderRoundTrip) {
  TempDir dir("tb_roundtrip");
  fs::path file;
  {
    cli::EventFileWriter w(dir.path, 5);
    file = w.path();
    w.add_scalars(5, {{"train/loss", 0.125}, {"train/lr", 2.5e-4}}, 1000.5);
    w.add_scalars(6, {});  // nothing written
    w.add_scalars(7, {{"val/psnr", 31.25}}, 1001.0);
    w.flush();
  }
  EXPECT_EQ(file.parent_path(), dir.path);
  EXPECT_EQ(file.filename().string().rfind("events.out.tfevents.", 0), 0u);
  const auto events = cli::read_tensorboard_events(file);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].what, cli::TensorBoardEvent::What::file_version);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.7e9);  // seconds since the epoch, not milliseconds
  EXPECT_LT(events[0].wall_time, 1e10);
  EXPECT_EQ(events[1].what, cli::TensorBoardEvent::What::session_log);
  EXPECT_EQ(events[1].session_status, 1);  // START
  EXPECT_EQ(events[1].step, 5);
  const auto points = cli::read_tensorboard_scalars(file);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].tag, "train/loss");
  EXPECT_EQ(points[0].step, 5);
  EXPECT_EQ(points[0].value, 0.125);
  EXPECT_EQ(points[0].wall_time, 1000.5);
  EXPECT_EQ(points[1].tag, "train/lr");
  EXPECT_EQ(points[1].value, static_cast<double>(2.5e-4f));  // stored as float (simple_value)
  EXPECT_EQ(points[2].tag, "val/psnr");
  EXPECT_EQ(points[2].step, 7);
  EXPECT_EQ(points[2].value, 31.25);
}

TEST(TensorBoardEventFile, SecondFileInTheSameSecondGetsASuffix) {
  TempDir dir("tb_suffix");
  cli::EventFileWriter a(dir.path, 1), b(dir.path, 1);
  EXPECT_NE(a.path(), b.path());
  EXPECT_LT(a.path().string(), b.path().string());  // TensorBoard reads the files in name order
}

TEST(TensorBoardEventFile, CorruptByteAndTruncationNameFileAndOffset) {
  TempDir dir("tb_corrupt");
  fs::path file;
  {
    cli::EventFileWriter w(dir.path, 1);
    file = w.path();
    w.add_scalars(2, {{"train/loss", 0.5}}, 1.0);
  }
  const std::string good = file_bytes(file);
  const auto records = cli::read_tfrecords(file);
  ASSERT_EQ(records.size(), 3u);
  const uint64_t third = records[2].offset;

  std::string bad = good;
  bad[third + 12 + 3] ^= 0x01;  // a data byte of the third record
  write_bytes(file, bad);
  std::string msg = error_of([&] { cli::read_tensorboard_scalars(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("data CRC mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset " + std::to_string(third)), std::string::npos) << msg;

  bad = good;
  bad[third + 2] ^= 0x40;  // its length
  write_bytes(file, bad);
  msg = error_of([&] { cli::read_tensorboard_events(file); });
  EXPECT_NE(msg.find("length CRC mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset " + std::to_string(third)), std::string::npos) << msg;

  for (const size_t cut : {good.size() - 1, static_cast<size_t>(third) + 14, static_cast<size_t>(third) + 5}) {
    write_bytes(file, good.substr(0, cut));
    msg = error_of([&] { cli::read_tensorboard_scalars(file); });
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte offset " + std::to_string(third)), std::string::npos) << msg;
  }
  write_bytes(file, good.substr(0, third));  // whole records only: fine
  EXPECT_EQ(cli::read_tensorboard_events(file).size(), 2u);
  msg = error_of([&] { cli::read_tensorboard_events(dir.path / "missing"); });
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(TensorBoardSink, FactoryWritesTheStartOfTheSession) {
  TempDir dir("tb_sink");
  auto sink = cli::tensorboard_sink_factory()(dir.path, 4, true);
  sink->scalars(6, {{"train/loss", 1.5}});
  sink->flush();  // readable while the sink lives
  const auto events = cli::read_tensorboard_events(only_event_file(dir.path));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].session_status, 1);
  EXPECT_EQ(events[1].step, 5);  // checkpoint iteration 4: points <= 4 of earlier files are kept
  EXPECT_EQ(events[2].step, 6);
  EXPECT_EQ(events[2].values.at(0).first, "train/loss");
}

namespace {
// A sink that fails on its second write, counting the calls that reached it.
struct FailingSink : train::ScalarSink {
  int* calls;
  explicit FailingSink(int* c) : calls(c) {}
  void scalars(int64_t, const std::vector<std::pair<std::string, double>>& values) override {
    if (++*calls == 2) throw Error("disk full");
    for (const auto& v : values) EXPECT_FALSE(std::isnan(v.second)) << v.first;
  }
};
}  // namespace

TEST(TensorBoardSink, ScalarLogDropsNaNAndAFailingSinkOnce) {
  int calls = 0;
  train::ScalarLog log([&](const fs::path&, int64_t, bool) { return std::make_unique<FailingSink>(&calls); }, "/tmp", 0,
                       false, "test scalars");
  ASSERT_TRUE(log.active());
  log.write(1, {{"a", 1.0}, {"b", NAN}});
  log.write(2, {{"a", 2.0}});  // throws inside: logged, sink dropped
  EXPECT_FALSE(log.active());
  log.write(3, {{"a", 3.0}});  // not passed on
  EXPECT_EQ(calls, 2);
  train::ScalarLog broken([](const fs::path&, int64_t, bool) -> std::unique_ptr<train::ScalarSink> {
    throw Error("cannot create");
  }, "/tmp", 0, false, "test scalars");
  EXPECT_FALSE(broken.active());
  train::ScalarLog none(train::ScalarSinkFactory{}, "/tmp", 0, false, "test scalars");
  EXPECT_FALSE(none.active());
  // A folder that does not exist: the factory's error names the event file.
  const std::string msg = error_of([] { cli::tensorboard_sink_factory()("/no/such/run", 0, false); });
  EXPECT_NE(msg.find("/no/such/run/events.out.tfevents."), std::string::npos) << msg;
}

}  // namespace test_tensorboard
