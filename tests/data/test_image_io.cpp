#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "core/error.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "data/datasets/paired_dataset.h"
#include "tests/data/helpers.h"

namespace fs = std::filesystem;
using namespace srlab::data;
using srlab::data::testing::expect_error_containing;
using srlab::data::testing::TempDir;

namespace test_image_io {
void truncate_file(const fs::path& p, double keep_fraction) {
  std::string bytes;
  {
    std::ifstream in(p, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() * keep_fraction));
}

TEST(ImageIO, Png8RoundTripEqualsQuantize) {
  TempDir tmp;
  torch::manual_seed(1);
  const auto x = torch::rand({3, 17, 23});
  write_image(tmp / "a.png", x);
  const Image img = read_image(tmp / "a.png");
  EXPECT_EQ(img.bit_depth, 8);
  EXPECT_FALSE(img.alpha.defined());
  ASSERT_EQ(img.pixels.sizes(), x.sizes());
  EXPECT_EQ(img.pixels.scalar_type(), torch::kFloat32);
  EXPECT_LT((img.pixels - quantize(x)).abs().max().item<float>(), 1e-6);
  // No temporary files left next to the target.
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1);
}

TEST(ImageIO, Png16RoundTripKeeps16Bits) {
  TempDir tmp;
  torch::manual_seed(2);
  const auto x = torch::rand({3, 9, 11});
  write_image(tmp / "sub" / "dir" / "a16.png", x, 16);  // creates parent folders
  const Image img = read_image(tmp / "sub" / "dir" / "a16.png");
  EXPECT_EQ(img.bit_depth, 16);
  EXPECT_LT((img.pixels - quantize(x, 16)).abs().max().item<float>(), 1e-6);
  // 16-bit precision is really there: finer than the 8-bit grid.
  EXPECT_GT((img.pixels - quantize(x, 8)).abs().max().item<float>(), 1e-4);
}

TEST(ImageIO, GrayAndAlpha) {
  TempDir tmp;
  torch::manual_seed(3);
  const auto g = torch::rand({1, 8, 5});
  write_image(tmp / "g.png", g);
  const Image gi = read_image(tmp / "g.png");
  EXPECT_EQ(gi.pixels.size(0), 1);
  EXPECT_LT((gi.pixels - quantize(g)).abs().max().item<float>(), 1e-6);

  const auto rgb = torch::rand({3, 6, 7});
  const auto a = torch::rand({1, 6, 7});
  write_image(tmp / "rgba.png", rgb, 8, a);
  const Image ri = read_image(tmp / "rgba.png");
  ASSERT_TRUE(ri.alpha.defined());
  EXPECT_EQ(ri.pixels.size(0), 3);
  EXPECT_LT((ri.pixels - quantize(rgb)).abs().max().item<float>(), 1e-6);
  EXPECT_LT((ri.alpha - quantize(a)).abs().max().item<float>(), 1e-6);
}

TEST(ImageIO, ChannelOrderMatchesOpenCvBgr) {
  TempDir tmp;
  // Independent reference: a file written by OpenCV directly, BGR order.
  cv::Mat m(2, 3, CV_8UC3, cv::Scalar(10, 20, 200));  // B=10, G=20, R=200
  ASSERT_TRUE(cv::imwrite((tmp / "cv.png").string(), m));
  const Image img = read_image(tmp / "cv.png");
  EXPECT_NEAR(img.pixels[0][1][2].item<float>(), 200.0f / 255.0f, 1e-7);
  EXPECT_NEAR(img.pixels[1][0][0].item<float>(), 20.0f / 255.0f, 1e-7);
  EXPECT_NEAR(img.pixels[2][1][1].item<float>(), 10.0f / 255.0f, 1e-7);
  // And what we write is read back by OpenCV as BGR.
  auto red = torch::zeros({3, 4, 4});
  red[0].fill_(1.0);
  write_image(tmp / "red.png", red);
  const cv::Mat back = cv::imread((tmp / "red.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(back.type(), CV_8UC3);
  EXPECT_EQ(back.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 255));
}

TEST(ImageIO, WriteClampsAndRoundsToNearest) {
  TempDir tmp;
  auto x = torch::tensor({-0.5f, 0.0f, 0.2f, 100.0f / 255.0f + 0.4f / 255.0f, 100.0f / 255.0f + 0.6f / 255.0f, 1.7f})
               .view({1, 1, 6});
  write_image(tmp / "c.png", x);
  const cv::Mat m = cv::imread((tmp / "c.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(m.type(), CV_8UC1);
  const std::vector<int> expected = {0, 0, 51, 100, 101, 255};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(m.at<uint8_t>(0, i), expected[static_cast<size_t>(i)]) << i;
}

TEST(ImageIO, JpegRoundTripIsClose) {
  TempDir tmp;
  auto x = torch::linspace(0, 1, 32).view({1, 1, 32}).expand({3, 32, 32}).contiguous();
  write_image(tmp / "a.jpg", x);
  const Image img = read_image(tmp / "a.jpg");
  EXPECT_EQ(img.pixels.size(0), 3);
  EXPECT_LT((img.pixels - x).abs().mean().item<float>(), 0.02);
}

TEST(ImageIO, ReadErrorsNameTheFile) {
  TempDir tmp;
  expect_error_containing([&] { read_image(tmp / "missing.png"); }, "missing.png");
  { std::ofstream(tmp / "empty.png"); }
  expect_error_containing([&] { read_image(tmp / "empty.png"); }, "empty.png");
  { std::ofstream(tmp / "garbage.png") << "this is not an image at all"; }
  expect_error_containing([&] { read_image(tmp / "garbage.png"); }, "garbage.png");
  expect_error_containing([&] { read_image(tmp.path()); }, tmp.path().string());
}

TEST(ImageIO, TruncatedFilesAreErrors) {
  TempDir tmp;
  torch::manual_seed(4);
  const auto x = torch::rand({3, 64, 64});
  for (const char* name : {"t.png", "t.jpg", "t.bmp", "t.webp"}) {
    write_image(tmp / name, x);
    ASSERT_NO_THROW(read_image(tmp / name)) << name;
    truncate_file(tmp / name, 0.6);
    expect_error_containing([&] { read_image(tmp / name); }, name);
  }
  // A PNG cut just before its IEND chunk (all pixel data present) is still rejected.
  write_image(tmp / "cut.png", x);
  truncate_file(tmp / "cut.png", 1.0 - 12.0 / static_cast<double>(fs::file_size(tmp / "cut.png")));
  expect_error_containing([&] { read_image(tmp / "cut.png"); }, "cut.png");
}

TEST(ImageIO, WriteErrors) {
  TempDir tmp;
  const auto x = torch::rand({3, 4, 4});
  expect_error_containing([&] { write_image(tmp / "a.jpg", x, 16); }, "a.jpg");
  expect_error_containing([&] { write_image(tmp / "a.xyz", x); }, "a.xyz");
  expect_error_containing([&] { write_image(tmp / "b.png", torch::rand({2, 4, 4})); }, "b.png");
  expect_error_containing([&] { write_image(tmp / "c.png", torch::rand({4, 4})); }, "c.png");
  expect_error_containing([&] { write_image(tmp / "d.png", x, 12); }, "d.png");
  expect_error_containing([&] { write_image(tmp / "e.png", x, 8, torch::rand({1, 3, 4})); }, "e.png");
  expect_error_containing([&] { write_image(tmp / "u8.png", torch::ones({3, 4, 4}, torch::kUInt8)); }, "u8.png");
  auto nan = x.clone();
  nan[0][0][0] = std::numeric_limits<float>::quiet_NaN();
  expect_error_containing([&] { write_image(tmp / "f.png", nan); }, "NaN");
  EXPECT_FALSE(fs::exists(tmp / "f.png"));
}

TEST(ImageIO, QuantizeValues) {
  const auto q = quantize(torch::tensor({-0.2, 0.0, 0.2, 0.999, 1.7}, torch::kFloat64));
  EXPECT_EQ(q.scalar_type(), torch::kFloat64);
  EXPECT_DOUBLE_EQ(q[0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(q[2].item<double>(), 51.0 / 255.0);
  EXPECT_DOUBLE_EQ(q[3].item<double>(), 1.0);  // 254.745 -> 255
  EXPECT_DOUBLE_EQ(q[4].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(quantize(torch::tensor({0.5}, torch::kFloat64), 16)[0].item<double>(), 32768.0 / 65535.0);
  EXPECT_THROW(quantize(torch::tensor({1, 2}), 8), srlab::Error);
  EXPECT_THROW(quantize(torch::rand({2}), 10), srlab::Error);
}

TEST(ImageIO, ToRgb) {
  const auto g = torch::rand({1, 4, 5});
  const auto r = to_rgb(g);
  ASSERT_EQ(r.sizes(), (std::vector<int64_t>{3, 4, 5}));
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(r[c], g[0]));
  const auto b = to_rgb(torch::rand({2, 1, 4, 5}));
  EXPECT_EQ(b.size(1), 3);
  const auto rgb = torch::rand({3, 2, 2});
  EXPECT_TRUE(torch::equal(to_rgb(rgb), rgb));
  EXPECT_THROW(to_rgb(torch::rand({2, 4, 4})), srlab::Error);
  EXPECT_THROW(to_rgb(torch::rand({4, 4})), srlab::Error);
}

TEST(ImageIO, ListImages) {
  TempDir tmp;
  expect_error_containing([&] { list_images(tmp / "nope"); }, "nope");
  expect_error_containing([&] { list_images(tmp.path()); }, "no images");
  const auto x = torch::rand({3, 4, 4});
  write_image(tmp / "b.png", x);
  write_image(tmp / "a.JPG", x);
  write_image(tmp / "c.bmp", x);
  { std::ofstream(tmp / "notes.txt") << "x"; }
  fs::create_directories(tmp / "sub.png");  // a folder, not an image
  const auto files = list_images(tmp.path());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "a.JPG");
  EXPECT_EQ(files[1].filename(), "b.png");
  EXPECT_EQ(files[2].filename(), "c.bmp");
}

TEST(ImageIO, RealBenchmarkFiles) {
  const fs::path data = srlab::core::shared_data_dir();
  const Image rgb = read_image(data / "benchmarks/Set5/x2/HR/img_001.png");
  EXPECT_EQ(rgb.pixels.size(0), 3);
  EXPECT_EQ(rgb.bit_depth, 8);
  EXPECT_GE(rgb.pixels.min().item<float>(), 0.0f);
  EXPECT_LE(rgb.pixels.max().item<float>(), 1.0f);
  const Image gray = read_image(data / "benchmarks/Set14/x2/HR/img_003.png");
  EXPECT_EQ(gray.pixels.size(0), 1);
  // Cross-check against OpenCV's own decode of the same file.
  const cv::Mat m = cv::imread((data / "benchmarks/Set5/x2/HR/img_001.png").string(), cv::IMREAD_COLOR);
  const cv::Vec3b px = m.at<cv::Vec3b>(10, 20);
  EXPECT_NEAR(rgb.pixels[0][10][20].item<float>() * 255.0f, px[2], 1e-3);
  EXPECT_NEAR(rgb.pixels[2][10][20].item<float>() * 255.0f, px[0], 1e-3);
}

TEST(ImageIO, ToUint8MatchesQuantizeLevels) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::rand({3, 9, 11}) * 1.2 - 0.1;  // some values outside [0,1]
  const torch::Tensor u = to_uint8(x);
  EXPECT_EQ(u.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(stored_to_float(u), quantize(x, 8)));
  // Ties round up, as quantize() and MATLAB's uint8(): 0.5/255 -> 1, 254.5/255 -> 255; clamped.
  const torch::Tensor t = torch::tensor({0.5 / 255.0, 254.5 / 255.0, -0.3, 1.7}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(to_uint8(t), torch::tensor({1, 255, 0, 255}, torch::kUInt8)));
  expect_error_containing([] { to_uint8(torch::zeros({2}, torch::kInt32)); }, "floating");
}

}  // namespace test_image_io
