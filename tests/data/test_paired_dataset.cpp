#include <gtest/gtest.h>

#include "core/error.h"
#include "core/paths.h"
#include "data/image/image_io.h"
#include "data/image/imresize.h"
#include "data/datasets/paired_dataset.h"
#include "tests/data/helpers.h"

namespace fs = std::filesystem;
using namespace srlab::data;
using srlab::data::testing::expect_error_containing;
using srlab::data::testing::psnr01;
using srlab::data::testing::TempDir;

TEST(PairedDataset, OpenBenchmarkWithLrFiles) {
  const fs::path dir = srlab::core::shared_data_dir() / "benchmarks/Set14/x3";
  const PairedImageDataset ds = open_benchmark(dir, 3);
  ASSERT_EQ(ds.size(), 14u);
  EXPECT_EQ(ds.scale(), 3);
  EXPECT_FALSE(ds.lr_generated());
  EXPECT_EQ(ds.name(0), "img_001");
  EXPECT_EQ(ds.name(13), "img_014");
  for (size_t i = 0; i < ds.size(); ++i) {
    const Pair p = ds.get(i);
    EXPECT_EQ(p.name, ds.name(i));
    EXPECT_EQ(p.hr.size(1), 3 * p.lr.size(1));
    EXPECT_EQ(p.hr.size(2), 3 * p.lr.size(2));
    EXPECT_EQ(p.lr.scalar_type(), torch::kFloat32);
    EXPECT_EQ(p.hr.size(0), i == 2 ? 1 : 3) << ds.name(i);  // img_003 is gray, kept gray for evaluation
  }
  // get() matches reading the files directly.
  const Pair p0 = ds.get(0);
  EXPECT_TRUE(torch::allclose(p0.lr, read_image(dir / "LR/img_001.png").pixels, 0, 1e-7));
  EXPECT_TRUE(torch::allclose(p0.hr, read_image(dir / "HR/img_001.png").pixels, 0, 1e-7));
  // Training view replicates gray to RGB.
  const PairedImageDataset rgb = open_benchmark(dir, 3, /*to_rgb=*/true);
  EXPECT_EQ(rgb.get(2).hr.size(0), 3);
  EXPECT_EQ(rgb.get_stored(0).hr.scalar_type(), torch::kUInt8);  // compact storage
  EXPECT_THROW(ds.get(14), srlab::Error);
}

TEST(PairedDataset, GeneratedLrIsModCropThenMatlabBicubic) {
  TempDir tmp;
  torch::manual_seed(11);
  write_image(tmp / "hr/b.png", torch::rand({3, 37, 50}));
  write_image(tmp / "hr/a.png", torch::rand({1, 41, 29}));
  PairedFolderOptions o;
  o.hr_dirs = {tmp / "hr"};
  o.scale = 4;
  o.to_rgb = false;
  const PairedImageDataset ds(o);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_TRUE(ds.lr_generated());
  EXPECT_EQ(ds.name(0), "a");  // sorted by file name
  const Pair a = ds.get(0), b = ds.get(1);
  EXPECT_EQ(a.hr.sizes(), (std::vector<int64_t>{1, 40, 28}));
  EXPECT_EQ(a.lr.sizes(), (std::vector<int64_t>{1, 10, 7}));
  EXPECT_EQ(b.hr.sizes(), (std::vector<int64_t>{3, 36, 48}));
  const auto hr_b = read_image(tmp / "hr/b.png").pixels.slice(1, 0, 36).slice(2, 0, 48);
  EXPECT_TRUE(torch::equal(b.hr, hr_b));
  // MATLAB on uint8: round after each pass. Plain float imresize + one final rounding is close.
  EXPECT_TRUE(torch::equal(b.lr, imresize_integer(hr_b, 0.25)));
  EXPECT_LE((b.lr - quantize(imresize(hr_b, 0.25))).abs().max().item<float>(), 1.0f / 255.0f + 1e-6f);
}

TEST(PairedDataset, SixteenBitFilesKeepPrecision) {
  TempDir tmp;
  torch::manual_seed(12);
  const auto x = torch::rand({3, 8, 8});
  write_image(tmp / "hr/x.png", x, 16);
  PairedFolderOptions o;
  o.hr_dirs = {tmp / "hr"};
  o.scale = 2;
  const PairedImageDataset ds(o);
  const Pair p = ds.get(0);
  EXPECT_TRUE(torch::equal(p.hr, quantize(x, 16)));
  EXPECT_TRUE(torch::equal(p.lr, imresize_integer(quantize(x, 16), 0.5, 16)));
  // The 8-bit grid would be 256x coarser.
  EXPECT_GT((p.lr - quantize(p.lr, 8)).abs().max().item<float>(), 1e-4);
}

TEST(PairedDataset, AlphaIsDroppedAndMultipleFolders) {
  TempDir tmp;
  write_image(tmp / "h1/x.png", torch::rand({3, 8, 8}), 8, torch::rand({1, 8, 8}));
  write_image(tmp / "h2/y.png", torch::rand({3, 12, 8}));
  write_image(tmp / "l1/x.png", torch::rand({3, 4, 4}));
  write_image(tmp / "l2/y.jpg", torch::rand({3, 6, 4}));  // same stem, other extension
  PairedFolderOptions o;
  o.hr_dirs = {tmp / "h1", tmp / "h2"};
  o.lr_dirs = {tmp / "l1", tmp / "l2"};
  o.scale = 2;
  const PairedImageDataset ds(o);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.get(0).hr.size(0), 3);
  EXPECT_EQ(ds.name(1), "y");
}

TEST(PairedDataset, ErrorsNameTheFiles) {
  TempDir tmp;
  write_image(tmp / "hr/x.png", torch::rand({3, 16, 16}));
  write_image(tmp / "lr/x.png", torch::rand({3, 5, 4}));
  write_image(tmp / "hr2/z.png", torch::rand({3, 16, 16}));
  PairedFolderOptions o;
  o.hr_dirs = {tmp / "hr"};
  o.lr_dirs = {tmp / "lr"};
  o.scale = 4;
  try {
    PairedImageDataset ds(o);
    ADD_FAILURE() << "size mismatch not detected";
  } catch (const srlab::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find((tmp / "hr/x.png").string()), std::string::npos) << m;
    EXPECT_NE(m.find((tmp / "lr/x.png").string()), std::string::npos) << m;
  }
  o.hr_dirs = {tmp / "hr2"};
  expect_error_containing([&] { PairedImageDataset ds(o); }, "z.png");  // no LR for z
  o.lr_dirs = {tmp / "lr", tmp / "lr"};
  expect_error_containing([&] { PairedImageDataset ds(o); }, "LR folders");
  o.lr_dirs.clear();
  o.hr_dirs = {tmp / "missing"};
  expect_error_containing([&] { PairedImageDataset ds(o); }, "missing");
  o.hr_dirs.clear();
  EXPECT_THROW(PairedImageDataset ds(o), srlab::Error);
  expect_error_containing([&] { open_benchmark(tmp / "nothing", 4); }, "nothing");
  fs::create_directories(tmp / "emptyset");
  expect_error_containing([&] { open_benchmark(tmp / "emptyset", 4); }, "emptyset");
}

TEST(PairedDataset, OpenBenchmarkHrOnlyFolderGeneratesMatlabLikeLr) {
  const fs::path dir = srlab::core::shared_data_dir() / "benchmarks/Set5/x4";
  const PairedImageDataset gen = open_benchmark(dir / "HR", 4);
  const PairedImageDataset files = open_benchmark(dir, 4);
  ASSERT_EQ(gen.size(), files.size());
  EXPECT_TRUE(gen.lr_generated());
  for (size_t i = 0; i < gen.size(); ++i) {
    ASSERT_EQ(gen.get(i).lr.sizes(), files.get(i).lr.sizes());
    EXPECT_GT(psnr01(gen.get(i).lr, files.get(i).lr), 55.0) << gen.name(i);
  }
}
