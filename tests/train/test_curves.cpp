// curves.png (train/curves.h): the panels chosen from the metrics.csv header, and a real gnuplot run on a
// GAN-style metrics.csv (with empty validation fields) giving a PNG of the documented size.
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/test_util.h"

#include "core/fs.h"
#include "data/image/image_io.h"
#include "train/curves.h"

namespace test_curves {
namespace fs = std::filesystem;
using namespace srlab;

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

const std::vector<std::string> kGan{"iteration", "lr",     "loss",   "loss_l1", "loss_gan",      "d_lr",     "d_loss",
                                    "d_real",    "d_fake", "samples_per_s", "val_psnr", "val_ssim"};

TEST(Curves, PanelsFollowTheColumns) {
  const std::string gan = train::curves_script(kGan, "metrics.csv", "pngcairo");
  EXPECT_EQ(count(gan, "\nplot "), 6u);
  EXPECT_NE(gan.find("using 1:5 with lines title 'loss_gan'"), std::string::npos) << gan;
  EXPECT_NE(gan.find("using 1:11 with linespoints pt 7 ps 0.6 title 'val_psnr'"), std::string::npos);
  EXPECT_NE(gan.find("size 1200,1800"), std::string::npos);
  const std::string plain = train::curves_script({"iteration", "lr", "loss", "samples_per_s", "val_psnr", "val_ssim"},
                                                 "metrics.csv", "png");
  EXPECT_EQ(count(plain, "\nplot "), 4u);
  EXPECT_EQ(plain.find("discriminator"), std::string::npos);
  EXPECT_NE(srlab::testing::error_of([] { train::curves_script({"lr", "loss"}, "m.csv", "png"); }).find("'iteration'"),
            std::string::npos);
}

TEST(Curves, GnuplotDrawsTheRunFolder) {
  const fs::path dir = fs::temp_directory_path() / ("srlab_curves_" + std::to_string(::getpid()));
  std::string csv;
  for (size_t i = 0; i < kGan.size(); ++i) csv += (i ? "," : "") + kGan[i];
  csv += "\n";
  for (int it = 10; it <= 100; it += 10) {
    const bool val = it % 50 == 0;
    csv += fmt::format("{},{:.3e},{},{},{},1e-4,{},{},{},250.0,{},{}\n", it, 1e-3 / it, 1.0 / it, 0.8 / it, 0.2 / it,
                       0.6 + 0.01 * it, 0.5, -0.4, val ? "27.5" : "", val ? "0.80" : "");
  }
  core::write_file_atomic(dir / "metrics.csv", csv);
  train::write_curves(dir, eval::find_gnuplot("test"));
  const data::Image png = data::read_image(dir / "curves.png");
  EXPECT_EQ(png.pixels.size(2), 1200);
  EXPECT_EQ(png.pixels.size(1), 1800);
  EXPECT_GT(png.pixels.std().item<double>(), 0.01);  // something was drawn
  fs::remove_all(dir);
}

}  // namespace test_curves
