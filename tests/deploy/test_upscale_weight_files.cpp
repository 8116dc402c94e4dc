// End to end: `srlab upscale --model <community .pth/.safetensors>` on each interop fixture's input
// PNG reproduces the fixture's expected PNG (made from the reference code's output) within +-1 level;
// every fixture must load with no hints: interop/ (RRDBNet, SRVGG, EDSR, SPAN, RealPLKSR, SwinIR) and
// interop/zoo/ (issue 29: DAT, OmniSR, HAT, Real-CUGAN, RCAN, ATD, DRCT, RGT, MoSR).
// Runs the srlab binary of this build (build/bin/srlab).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/fs.h"
#include "core/paths.h"

namespace test_upscale_weight_files {
namespace fs = std::filesystem;

fs::path srlab_binary() {
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path())
    for (const char* rel : {"bin/srlab", "cli/srlab"})
      if (fs::is_regular_file(d / rel)) return d / rel;
  return {};
}

/// Runs `srlab upscale` on every fixture of <data>/<folder>/manifest.json and compares with its expected PNG.
void check_fixture_pngs(const std::string& folder) {
  const fs::path data = srlab::core::find_shared_data_dir();
  if (data.empty() || !fs::exists(data / folder / "manifest.json")) GTEST_SKIP() << "no <data>/" << folder << " fixtures";
  const fs::path bin = srlab_binary();
  if (bin.empty()) GTEST_SKIP() << "srlab binary not built (cmake --build build --target srlab)";
  const fs::path dir = data / folder;
  const auto manifest = nlohmann::json::parse(srlab::core::read_file(dir / "manifest.json"));
  const fs::path work = fs::temp_directory_path() / ("srlab_upw_" + std::to_string(::getpid()));
  fs::create_directories(work);
  int matched = 0;
  for (const auto& m : manifest["models"]) {
    const std::string name = m["name"].get<std::string>();
    SCOPED_TRACE(name);
    const fs::path out = work / (name + ".png"), err = work / (name + ".err");
    const std::string cmd = "'" + bin.string() + "' upscale --device cpu --tile 0 --model '" +
                            (dir / m["file"].get<std::string>()).string() + "' --input '" +
                            (dir / m["png"]["input"].get<std::string>()).string() + "' --output '" + out.string() +
                            "' > /dev/null 2> '" + err.string() + "'";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "srlab upscale failed: " << srlab::core::read_file(err);
      continue;
    }
    const cv::Mat got = cv::imread(out.string(), cv::IMREAD_UNCHANGED);
    const cv::Mat want = cv::imread((dir / m["png"]["expected"].get<std::string>()).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(got.empty());
    ASSERT_EQ(got.size(), want.size());
    ASSERT_EQ(got.type(), want.type());
    cv::Mat diff;
    cv::absdiff(got, want, diff);
    double max_diff = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &max_diff);
    EXPECT_LE(max_diff, 1.0);
    const double off = static_cast<double>(cv::countNonZero(diff.reshape(1))) / static_cast<double>(diff.total() * diff.channels());
    EXPECT_LE(off, 0.01) << "more than 1% of the 8-bit values differ";
    std::cout << "[ upscale ] " << name << ": max |PNG diff| " << max_diff << " levels, " << off * 100
              << "% of values off by one\n";
    ++matched;
  }
  EXPECT_EQ(matched, static_cast<int>(manifest["models"].size()));
  fs::remove_all(work);
}

TEST(UpscaleWeightFiles, FixturePngsMatchTheReferenceWithinOneLevel) { check_fixture_pngs("interop"); }

TEST(UpscaleWeightFiles, ZooFixturePngsMatchTheReferenceWithinOneLevel) { check_fixture_pngs("interop/zoo"); }

}  // namespace test_upscale_weight_files
