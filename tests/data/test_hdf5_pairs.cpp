#include <gtest/gtest.h>

#include <fstream>
#include <atomic>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/error.h"
#include "data/datasets/hdf5_pairs.h"
#include "data/image/image_io.h"
#include "data/datasets/paired_dataset.h"
#include "tests/data/helpers.h"

namespace fs = std::filesystem;
using namespace srlab::data;
using srlab::data::testing::expect_error_containing;
using srlab::data::testing::TempDir;

namespace test_hdf5_pairs {

struct Sample {
  torch::Tensor hr, lr;
  std::string meta;
};

torch::Tensor random_u8(int64_t c, int64_t h, int64_t w) { return torch::randint(0, 256, {c, h, w}, torch::kUInt8); }

Sample make_sample(int64_t c, int64_t lr_h, int64_t lr_w, int scale, const std::string& source) {
  Sample s;
  s.hr = random_u8(c, lr_h * scale, lr_w * scale);
  s.lr = random_u8(c, lr_h, lr_w);
  nlohmann::json j = {{"source", source}, {"crop", {0, 0, lr_h * scale, lr_w * scale}}, {"sigma", 1.5}};
  s.meta = j.dump();
  return s;
}

void write_file(const fs::path& path, int scale, const std::string& layout, const std::vector<Sample>& samples,
                const std::string& config = "model: edsr\n", int deflate = 3) {
  Hdf5PairsWriter w(path, scale, layout, config, deflate);
  for (const auto& s : samples) w.append(s.hr, s.lr, s.meta);
  EXPECT_EQ(w.size(), static_cast<int64_t>(samples.size()));
  w.commit();
}

void expect_round_trip(const fs::path& path, int scale, const std::string& layout, const std::vector<Sample>& samples) {
  const Hdf5PairsReader r(path);
  EXPECT_EQ(r.info().scale, scale);
  EXPECT_EQ(r.info().layout, layout);
  ASSERT_EQ(r.size(), static_cast<int64_t>(samples.size()));
  EXPECT_EQ(r.info().count, r.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const Pair p = r.read(static_cast<int64_t>(i));
    ASSERT_EQ(p.hr.scalar_type(), torch::kUInt8);
    ASSERT_EQ(p.lr.scalar_type(), torch::kUInt8);
    ASSERT_EQ(p.hr.sizes(), samples[i].hr.sizes()) << i;
    ASSERT_EQ(p.lr.sizes(), samples[i].lr.sizes()) << i;
    EXPECT_TRUE(torch::equal(p.hr, samples[i].hr)) << "HR of sample " << i;
    EXPECT_TRUE(torch::equal(p.lr, samples[i].lr)) << "LR of sample " << i;
    EXPECT_EQ(r.meta(static_cast<int64_t>(i)), samples[i].meta);
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Replaces the only occurrence of `from` in the file by `to` (same length); fails the test otherwise.
void patch_unique(const fs::path& p, const std::string& from, const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  std::string bytes = slurp(p);
  const size_t at = bytes.find(from);
  ASSERT_NE(at, std::string::npos) << "'" << from << "' not found in " << p;
  ASSERT_EQ(bytes.find(from, at + 1), std::string::npos) << "'" << from << "' occurs twice in " << p;
  bytes.replace(at, from.size(), to);
  spit(p, bytes);
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  return out;
}

TEST(Hdf5Pairs, PatchesRoundTripBitExact) {
  torch::manual_seed(1);
  TempDir tmp;
  struct Case { int64_t c, h, w; int scale, n; };
  for (const Case& k : {Case{3, 24, 24, 2, 5}, Case{1, 16, 32, 4, 3}, Case{3, 7, 5, 3, 1}, Case{1, 1, 1, 1, 4}}) {
    std::vector<Sample> samples;
    for (int i = 0; i < k.n; ++i) samples.push_back(make_sample(k.c, k.h, k.w, k.scale, "img_" + std::to_string(i) + ".png"));
    const fs::path f = tmp / ("p_" + std::to_string(k.c) + "_" + std::to_string(k.scale) + ".h5");
    write_file(f, k.scale, "patches", samples);
    expect_round_trip(f, k.scale, "patches", samples);
    // Patch names carry the source stem and the index (many patches share a source).
    EXPECT_EQ(Hdf5PairsReader(f).read(0).name, "img_0_0");
  }
}

TEST(Hdf5Pairs, ImagesRoundTripBitExactMixedSizesAndChannels) {
  torch::manual_seed(2);
  TempDir tmp;
  for (const int scale : {2, 4}) {
    std::vector<Sample> samples = {
        make_sample(3, 40, 60, scale, "/data/DIV2K/0001.png"), make_sample(1, 12, 8, scale, "gray.png"),
        make_sample(3, 75, 66, scale, "big.png"),  // HR > 128: several chunks per dataset
        make_sample(1, 1, 1, scale, "tiny.png")};
    samples[1].meta = "";  // stored as {}
    const fs::path f = tmp / ("images_x" + std::to_string(scale) + ".h5");
    write_file(f, scale, "images", samples, "", /*deflate=*/scale == 2 ? 0 : 9);
    samples[1].meta = "{}";
    expect_round_trip(f, scale, "images", samples);
    const Hdf5PairsReader r(f);
    EXPECT_EQ(r.read(0).name, "0001");
    EXPECT_EQ(r.read(1).name, "sample_1");
    EXPECT_EQ(r.read(2).name, "big");
    EXPECT_EQ(r.info().config, "");
  }
}

TEST(Hdf5Pairs, MetadataAndAttributesSurvive) {
  torch::manual_seed(3);
  TempDir tmp;
  std::string config = "# résumé ✓\nscale: 3\n";
  while (config.size() < 200000) config += "key_" + std::to_string(config.size()) + ": [1, 2, 3]\n";  // > 64 KiB
  Sample s = make_sample(3, 8, 8, 3, "x.png");
  s.meta = R"({"source": "ünïcode/файл.png", "crop": [1, 2, 3, 4], "degradation": {"blur": 0.8, "noise": 5, "jpeg": 75}})";
  const fs::path f = tmp / "meta.hdf5";
  write_file(f, 3, "patches", {s, s}, config);
  const Hdf5PairsReader r(f);
  EXPECT_EQ(r.info().config, config);
  EXPECT_EQ(r.info().scale, 3);
  EXPECT_EQ(r.info().count, 2);
  EXPECT_EQ(r.path(), f);
  EXPECT_EQ(r.meta(1), s.meta);
  EXPECT_EQ(nlohmann::json::parse(r.meta(0))["degradation"]["jpeg"], 75);
  EXPECT_EQ(r.read(1).name, "файл_1");
}

TEST(Hdf5Pairs, UncommittedWriterLeavesNothing) {
  torch::manual_seed(4);
  TempDir tmp;
  const fs::path f = tmp / "sub/never.h5";
  {
    Hdf5PairsWriter w(f, 2, "patches", "");
    const Sample s = make_sample(3, 4, 4, 2, "a.png");
    w.append(s.hr, s.lr, s.meta);
    EXPECT_EQ(files_in(tmp / "sub").size(), 1u);  // the temporary file
    EXPECT_NE(files_in(tmp / "sub")[0].string().find("never.h5.tmp."), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(f));
  EXPECT_TRUE(files_in(tmp / "sub").empty());
  {  // images layout, and a writer whose append failed (moved-from / broken) is cleaned up too
    Hdf5PairsWriter w(f, 2, "images", "");
    const Sample s = make_sample(1, 4, 4, 2, "a.png");
    w.append(s.hr, s.lr, s.meta);
    Hdf5PairsWriter moved = std::move(w);
    EXPECT_EQ(moved.size(), 1);
  }
  EXPECT_TRUE(files_in(tmp / "sub").empty());
  // Invalid arguments create nothing.
  EXPECT_THROW(Hdf5PairsWriter(f, 0, "patches", ""), srlab::Error);
  EXPECT_THROW(Hdf5PairsWriter(f, 2, "tiles", ""), srlab::Error);
  EXPECT_THROW(Hdf5PairsWriter(f, 2, "images", "", 10), srlab::Error);
  EXPECT_TRUE(files_in(tmp / "sub").empty());
}

TEST(Hdf5Pairs, CommitReplacesAtomically) {
  torch::manual_seed(5);
  TempDir tmp;
  const fs::path f = tmp / "pairs.h5";
  const std::vector<Sample> a = {make_sample(3, 6, 6, 2, "a.png")};
  const std::vector<Sample> b = {make_sample(1, 5, 7, 2, "b.png"), make_sample(1, 5, 7, 2, "c.png")};
  write_file(f, 2, "patches", a);
  {
    Hdf5PairsWriter w(f, 2, "images", "second");
    for (const auto& s : b) w.append(s.hr, s.lr, s.meta);
    expect_round_trip(f, 2, "patches", a);  // the old file is untouched until commit
    EXPECT_EQ(files_in(tmp.path()).size(), 2u);
    w.commit();
    EXPECT_THROW(w.commit(), srlab::Error);
    EXPECT_THROW(w.append(b[0].hr, b[0].lr, b[0].meta), srlab::Error);
  }
  expect_round_trip(f, 2, "images", b);
  EXPECT_EQ(Hdf5PairsReader(f).info().config, "second");
  ASSERT_EQ(files_in(tmp.path()).size(), 1u);
  EXPECT_EQ(files_in(tmp.path())[0], "pairs.h5");
}

TEST(Hdf5Pairs, AppendRejectsBadInputAndStaysUsable) {
  torch::manual_seed(6);
  TempDir tmp;
  const fs::path f = tmp / "bad.h5";
  Hdf5PairsWriter w(f, 2, "patches", "");
  const Sample good = make_sample(3, 8, 8, 2, "g.png");
  expect_error_containing([&] { w.append(good.hr, random_u8(3, 8, 7), "{}"); }, "LR x 2 must equal the HR size");
  expect_error_containing([&] { w.append(good.hr, random_u8(3, 4, 4), "{}"); }, f.string());
  expect_error_containing([&] { w.append(good.hr.to(torch::kFloat32), good.lr, "{}"); }, "must be uint8");
  expect_error_containing([&] { w.append(good.hr, good.lr.to(torch::kInt32), "{}"); }, "must be uint8");
  expect_error_containing([&] { w.append(good.hr.unsqueeze(0), good.lr, "{}"); }, "(C,H,W)");
  expect_error_containing([&] { w.append(random_u8(4, 16, 16), random_u8(4, 8, 8), "{}"); }, "1 (gray) or 3 (RGB)");
  expect_error_containing([&] { w.append(good.hr, good.lr.narrow(0, 0, 1), "{}"); }, "channel");
  expect_error_containing([&] { w.append(torch::Tensor(), good.lr, "{}"); }, "undefined");
  expect_error_containing([&] { w.append(good.hr, good.lr, "{not json"); }, "not valid JSON");
  EXPECT_EQ(w.size(), 0);
  EXPECT_THROW(w.commit(), srlab::Error);  // nothing appended yet
  w.append(good.hr, good.lr, good.meta);
  // patches: every sample the same size as the first
  const Sample other = make_sample(3, 10, 8, 2, "o.png");
  expect_error_containing([&] { w.append(other.hr, other.lr, "{}"); }, "use layout 'images'");
  // Non-contiguous input is fine.
  const torch::Tensor hr_t = random_u8(3, 16, 16).transpose(1, 2);
  const torch::Tensor lr_t = random_u8(3, 8, 8).transpose(1, 2);
  w.append(hr_t, lr_t, "{}");
  EXPECT_EQ(w.size(), 2);
  w.commit();
  const Hdf5PairsReader r(f);
  ASSERT_EQ(r.size(), 2);
  EXPECT_TRUE(torch::equal(r.read(0).hr, good.hr));
  EXPECT_TRUE(torch::equal(r.read(1).hr, hr_t));
  EXPECT_TRUE(torch::equal(r.read(1).lr, lr_t));
}

TEST(Hdf5Pairs, MissingFileAndIndexOutOfRange) {
  torch::manual_seed(7);
  TempDir tmp;
  const fs::path missing = tmp / "nope.h5";
  expect_error_containing([&] { Hdf5PairsReader r(missing); }, missing.string());
  expect_error_containing([&] { Hdf5PairsReader r(missing); }, "does not exist");
  expect_error_containing([&] { Hdf5PairsReader r(tmp.path()); }, "is a folder; expected a file");
  const fs::path f = tmp / "ok.h5";
  write_file(f, 2, "images", {make_sample(3, 3, 3, 2, "a.png")});
  const Hdf5PairsReader r(f);
  expect_error_containing([&] { r.read(1); }, "out of range");
  expect_error_containing([&] { r.read(-1); }, f.string());
  expect_error_containing([&] { r.meta(1); }, "out of range");
}

TEST(Hdf5Pairs, CorruptFileGivesClearError) {
  torch::manual_seed(8);
  TempDir tmp;
  const fs::path f = tmp / "random.h5";
  const torch::Tensor bytes = random_u8(1, 1, 4096).contiguous();
  spit(f, std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), 4096));
  expect_error_containing([&] { Hdf5PairsReader r(f); }, f.string());
  expect_error_containing([&] { Hdf5PairsReader r(f); }, "not an HDF5 file");
  expect_error_containing([&] { open_hdf5_pairs(f); }, f.string());
  const fs::path empty = tmp / "empty.h5";
  spit(empty, "");
  expect_error_containing([&] { Hdf5PairsReader r(empty); }, empty.string());
}

TEST(Hdf5Pairs, TruncatedFileGivesClearError) {
  torch::manual_seed(9);
  TempDir tmp;
  for (const std::string layout : {"patches", "images"}) {
    const fs::path f = tmp / (layout + ".h5");
    write_file(f, 2, layout, {make_sample(3, 32, 32, 2, "a.png"), make_sample(3, 32, 32, 2, "b.png")});
    const std::string bytes = slurp(f);
    spit(f, bytes.substr(0, bytes.size() / 2));
    const std::string msg = srlab::testing::error_of([&] { Hdf5PairsReader r(f); });
    EXPECT_NE(msg.find(f.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  }
}

TEST(Hdf5Pairs, CorruptedPixelDataIsDetected) {
  torch::manual_seed(10);
  TempDir tmp;
  const fs::path f = tmp / "flip.h5";
  const Sample s = make_sample(3, 16, 16, 2, "a.png");
  write_file(f, 2, "patches", {s}, "", /*deflate=*/0);  // raw bytes in the file; Fletcher-32 still on
  const std::string hr_bytes(reinterpret_cast<const char*>(s.hr.data_ptr<uint8_t>()), 64);
  std::string bytes = slurp(f);
  const size_t at = bytes.find(hr_bytes);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 10] = static_cast<char>(bytes[at + 10] ^ 0x5a);
  spit(f, bytes);
  const Hdf5PairsReader r(f);
  expect_error_containing([&] { r.read(0); }, f.string());
  expect_error_containing([&] { open_hdf5_pairs(f); }, "cannot read sample 0");
}

TEST(Hdf5Pairs, ForeignHdf5FileIsRejected) {
  torch::manual_seed(11);
  TempDir tmp;
  const std::vector<Sample> samples = {make_sample(3, 4, 4, 2, "a.png")};
  // A valid HDF5 file without our `format` attribute (the attribute renamed in place).
  const fs::path no_format = tmp / "no_format.h5";
  write_file(no_format, 2, "patches", samples, "");
  patch_unique(no_format, std::string("format\0", 7), std::string("fxrmat\0", 7));
  expect_error_containing([&] { Hdf5PairsReader r(no_format); }, no_format.string());
  expect_error_containing([&] { Hdf5PairsReader r(no_format); }, "not an SRLab pairs file");
  expect_error_containing([&] { Hdf5PairsReader r(no_format); }, "srlab prepare");
  // Wrong format value.
  const fs::path wrong = tmp / "wrong_format.h5";
  write_file(wrong, 2, "patches", samples, "");
  patch_unique(wrong, "srlab-pairs-1", "srlab-pairs-9");
  expect_error_containing([&] { Hdf5PairsReader r(wrong); }, "srlab-pairs-9");
  // Missing dataset (`meta` renamed).
  const fs::path no_meta = tmp / "no_meta.h5";
  write_file(no_meta, 2, "patches", samples, "");
  patch_unique(no_meta, std::string("meta\0", 5), std::string("mxta\0", 5));
  expect_error_containing([&] { Hdf5PairsReader r(no_meta); }, "not an SRLab pairs file");
}

TEST(Hdf5Pairs, OpenAsPairedDataset) {
  torch::manual_seed(12);
  TempDir tmp;
  const std::vector<Sample> samples = {make_sample(3, 10, 12, 3, "rgb.png"), make_sample(1, 9, 5, 3, "gray.png")};
  const fs::path f = tmp / "ds.h5";
  write_file(f, 3, "images", samples);
  for (const bool rgb : {true, false}) {
    const PairedImageDataset ds = open_hdf5_pairs(f, rgb);
    ASSERT_EQ(ds.size(), 2u);
    EXPECT_EQ(ds.scale(), 3);
    EXPECT_FALSE(ds.lr_generated());
    for (size_t i = 0; i < 2; ++i) {
      torch::Tensor hr = samples[i].hr, lr = samples[i].lr;
      if (rgb) {
        hr = to_rgb(hr);
        lr = to_rgb(lr);
      }
      const Pair p = ds.get(i);
      EXPECT_EQ(p.hr.scalar_type(), torch::kFloat32);
      EXPECT_TRUE(torch::equal(p.hr, hr.to(torch::kFloat64).div(255.0).to(torch::kFloat32))) << i;
      EXPECT_TRUE(torch::equal(p.lr, lr.to(torch::kFloat64).div(255.0).to(torch::kFloat32))) << i;
      EXPECT_TRUE(torch::equal(ds.get_stored(i).hr, hr));
      EXPECT_EQ(ds.get_stored(i).lr.scalar_type(), torch::kUInt8);
      EXPECT_EQ(ds.hr_path(i), fs::path(f.string() + "#" + std::to_string(i)));
      EXPECT_EQ(ds.channels(i), rgb ? 3 : (i == 0 ? 3 : 1));
    }
    EXPECT_EQ(ds.name(0), "rgb");
    EXPECT_EQ(ds.name(1), "gray");
  }
}

TEST(Hdf5Pairs, IsHdf5File) {
  TempDir tmp;
  EXPECT_TRUE(is_hdf5_file("x/never.h5"));
  EXPECT_TRUE(is_hdf5_file("x/never.HDF5"));
  EXPECT_FALSE(is_hdf5_file("x/never.png"));
  const fs::path f = tmp / "store.h5";
  write_file(f, 2, "patches", {make_sample(1, 2, 2, 2, "a.png")});
  const fs::path renamed = tmp / "store.bin";
  fs::rename(f, renamed);
  EXPECT_TRUE(is_hdf5_file(renamed));  // by signature
  spit(tmp / "text.bin", "just some text that is long enough to look at");
  EXPECT_FALSE(is_hdf5_file(tmp / "text.bin"));
  EXPECT_FALSE(is_hdf5_file(tmp.path()));
  EXPECT_EQ(Hdf5PairsReader(renamed).size(), 1);
}

TEST(Hdf5Pairs, ConcurrentReadsAreConsistent) {
  torch::manual_seed(13);
  TempDir tmp;
  std::vector<Sample> samples;
  for (int i = 0; i < 8; ++i) samples.push_back(make_sample(3, 16, 16, 2, "p" + std::to_string(i) + ".png"));
  const fs::path f = tmp / "mt.h5";
  write_file(f, 2, "patches", samples);
  const Hdf5PairsReader shared(f);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Hdf5PairsReader own(f);  // readers of the same file in several threads
      for (int k = 0; k < 40; ++k) {
        const int64_t i = (k + t) % 8;
        const Hdf5PairsReader& r = k % 2 ? own : shared;
        const Pair p = r.read(i);
        if (!torch::equal(p.hr, samples[static_cast<size_t>(i)].hr) ||
            !torch::equal(p.lr, samples[static_cast<size_t>(i)].lr))
          ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Hdf5Pairs, StoredPairsConstructorValidates) {
  torch::manual_seed(14);
  auto pair = [](torch::Tensor lr, torch::Tensor hr) { return StoredPair{std::move(lr), std::move(hr), "n", "p#0"}; };
  const PairedImageDataset ok(2, {pair(random_u8(3, 4, 4), random_u8(3, 8, 8)),
                                  pair(torch::rand({1, 3, 5}), torch::rand({1, 6, 10}))});
  EXPECT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok.get_stored(1).hr.scalar_type(), torch::kFloat32);
  EXPECT_EQ(ok.name(0), "n");
  EXPECT_EQ(ok.hr_path(0), "p#0");
  expect_error_containing([&] { PairedImageDataset(2, {}); }, "no pairs");
  expect_error_containing([&] { PairedImageDataset(0, {pair(random_u8(3, 4, 4), random_u8(3, 8, 8))}); }, "scale");
  expect_error_containing([&] { PairedImageDataset(2, {pair(random_u8(3, 4, 4), random_u8(3, 8, 9))}); },
                          "must equal the HR size");
  expect_error_containing([&] { PairedImageDataset(2, {pair(random_u8(1, 4, 4), random_u8(3, 8, 8))}); }, "channel");
  expect_error_containing([&] { PairedImageDataset(2, {pair(random_u8(3, 4, 4), torch::rand({3, 8, 8}))}); },
                          "same storage dtype");
  expect_error_containing(
      [&] { PairedImageDataset(2, {pair(random_u8(3, 4, 4).to(torch::kInt32), random_u8(3, 8, 8).to(torch::kInt32))}); },
      "uint8 or float32");
  expect_error_containing([&] { PairedImageDataset(2, {pair(random_u8(3, 4, 4), torch::Tensor())}); }, "undefined");
  expect_error_containing([&] { PairedImageDataset(1, {pair(random_u8(4, 4, 4), random_u8(4, 4, 4))}); }, "1 or 3");
}

}  // namespace test_hdf5_pairs
