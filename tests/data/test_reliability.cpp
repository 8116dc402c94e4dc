// Issue 16 regressions in data/: HDF5 writes on a full disk (no crash in ~Hdf5PairsWriter, no temp
// left), the keep-existing policy of prepare, tiny images skipped by prepare, huge declared image sizes.
#include <gtest/gtest.h>

#include <boost/crc.hpp>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "data/datasets/hdf5_pairs.h"
#include "data/datasets/prepare.h"
#include "data/image/image_io.h"
#include "tests/data/helpers.h"
#include "tests/tmpfs.h"

namespace fs = std::filesystem;
using namespace srlab::data;
using srlab::data::testing::expect_error_containing;
using srlab::data::testing::TempDir;

namespace test_reliability {
size_t count_files(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

PrepareOptions images_options(const fs::path& in, const fs::path& out) {
  PrepareOptions o;
  o.inputs = {in};
  o.output = out;
  o.scale = 4;
  o.layout = "images";
  o.threads = 1;
  return o;
}

TEST(Hdf5Reliability, FullDiskFailsWithAClearErrorAndCleansUp) {
  srlab::testing::SmallTmpfs disk("1m");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a 1 MiB tmpfs";
  const fs::path f = disk.path() / "pairs.h5";
  torch::manual_seed(1);
  std::string msg;
  {
    Hdf5PairsWriter w(f, 4, "patches", "", /*deflate=*/0);  // random pixels: incompressible anyway
    try {
      for (int i = 0; i < 200; ++i)  // 200 x 48 KiB >> 1 MiB
        w.append(torch::randint(0, 256, {3, 128, 128}, torch::kUInt8), torch::randint(0, 256, {3, 32, 32}, torch::kUInt8),
                 "{}");
      w.commit();
    } catch (const srlab::Error& e) {
      msg = e.what();
    }
  }  // ~Hdf5PairsWriter after a failed write: must neither throw nor crash
  EXPECT_NE(msg.find("failed writing '" + f.string() + "' (disk full?)"), std::string::npos) << msg;
  EXPECT_EQ(count_files(disk.path()), 0u) << "the temporary file must be removed";
}

TEST(PrepareReliability, KeepsAnExistingOutputAndSkipsTinyImages) {
  TempDir t;
  fs::create_directories(t / "hr");
  write_image(t / "hr/big.png", torch::rand({3, 16, 16}));
  write_image(t / "hr/tiny.png", torch::rand({3, 2, 3}));  // smaller than the scale: no LR pixel
  PrepareOptions o = images_options(t / "hr", t / "out.h5");
  const PrepareStats s = prepare_pairs(o);
  EXPECT_EQ(s.images, 1);
  EXPECT_EQ(s.skipped, 1);
  EXPECT_EQ(Hdf5PairsReader(o.output).size(), 1);
  o.existing = srlab::core::Existing::kKeep;
  expect_error_containing([&] { prepare_pairs(o); }, "'" + o.output.string() + "' already exists; pass --overwrite");
  o.existing = srlab::core::Existing::kReplace;
  EXPECT_NO_THROW(prepare_pairs(o));
}

TEST(ImageReliability, HugeDeclaredSizeSaysTooLargeAndHowToRaiseTheLimit) {
  TempDir t;
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", cv::Mat(1, 1, CV_8UC1, cv::Scalar(7)), png));
  // IHDR data starts at byte 16: width, height (big-endian), then the chunk CRC over type + data.
  auto put32 = [&](size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) png[at + k] = static_cast<uchar>(v >> (24 - 8 * k));
  };
  put32(16, 100000);
  put32(20, 100000);
  boost::crc_32_type crc;
  crc.process_bytes(png.data() + 12, 17);
  put32(29, crc.checksum());
  const fs::path f = t / "huge.png";
  srlab::core::write_file_atomic(f, std::string(png.begin(), png.end()));
  expect_error_containing([&] { read_image(f); },
                          "'" + f.string() + "' is too large to decode: 100000x100000 = 10000000000 pixels exceeds "
                          "OpenCV's limit");
  expect_error_containing([&] { read_image(f); }, "OPENCV_IO_MAX_IMAGE_PIXELS");
}

TEST(ImageReliability, GrayAlphaPngStaysGrayAlpha) {
  TempDir t;
  torch::manual_seed(2);
  for (const int depth : {8, 16}) {
    const fs::path f = t / ("ga" + std::to_string(depth) + ".png");
    const torch::Tensor gray = torch::rand({1, 5, 7}), alpha = torch::rand({1, 5, 7});
    write_image(f, gray, depth, alpha);
    // The file itself is colour type 4 (gray + alpha), as libpng/any viewer reads it.
    const std::string bytes = srlab::core::read_file(f);
    ASSERT_GT(bytes.size(), 25u);
    EXPECT_EQ(static_cast<int>(static_cast<uint8_t>(bytes[25])), 4) << "colour type of " << f;
    EXPECT_EQ(static_cast<int>(static_cast<uint8_t>(bytes[24])), depth);
    const Image img = read_image(f);
    ASSERT_EQ(img.pixels.size(0), 1) << "gray+alpha must read back as 1 channel + alpha";
    ASSERT_TRUE(img.alpha.defined());
    EXPECT_EQ(img.bit_depth, depth);
    EXPECT_TRUE(torch::allclose(img.pixels, quantize(gray, depth), 0, 1e-6));
    EXPECT_TRUE(torch::allclose(img.alpha, quantize(alpha, depth), 0, 1e-6));
  }
}

}  // namespace test_reliability
