// Scoring another tool's outputs (eval/image_folder_method.h, `srlab eval --method DIR`): the saved SR
// images of a method score exactly as the method itself, gray/RGB channel handling, make_method picks a
// folder, registered method factories come first, and missing or wrong-size images are clear errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "tests/temp_dir.h"
#include "tests/test_util.h"

#include "data/datasets/paired_dataset.h"
#include "data/image/image_io.h"
#include "eval/evaluate.h"
#include "eval/image_folder_method.h"
#include "eval/methods.h"

namespace test_image_folder_method {
namespace fs = std::filesystem;
using namespace srlab;
using srlab::testing::error_of;
using srlab::testing::TempDir;

// Two colour pairs and one gray pair at x2, random 8-bit content.
data::PairedImageDataset small_set() {
  torch::manual_seed(3);
  std::vector<data::StoredPair> pairs;
  const int64_t sizes[][3] = {{3, 9, 11}, {3, 8, 9}, {1, 10, 8}};  // HR >= 16 px: room for the 11x11 SSIM window
  int i = 0;
  for (const auto& s : sizes) {
    data::StoredPair p;
    p.hr = torch::randint(0, 256, {s[0], 2 * s[1], 2 * s[2]}, torch::kUInt8);
    p.lr = torch::randint(0, 256, {s[0], s[1], s[2]}, torch::kUInt8);
    p.name = "img" + std::to_string(i++);
    pairs.push_back(p);
  }
  return data::PairedImageDataset(2, std::move(pairs));
}

TEST(ImageFolderMethod, SavedImagesOfAMethodScoreExactlyLikeTheMethod) {
  TempDir tmp("folder_method");
  const data::PairedImageDataset ds = small_set();
  eval::EvalOptions eo;
  eo.save_images_dir = tmp.path;
  const eval::EvalResult bic = eval::evaluate(ds, "small", eval::bicubic_method(2), eo);
  const eval::EvalResult dir = eval::evaluate(ds, "small", eval::make_method((tmp.path / "bicubic").string(), 2));
  EXPECT_EQ(dir.method, "bicubic");
  ASSERT_EQ(dir.images.size(), bic.images.size());
  for (size_t i = 0; i < bic.images.size(); ++i) {
    EXPECT_EQ(dir.images[i].name, bic.images[i].name);
    EXPECT_EQ(dir.images[i].psnr, bic.images[i].psnr);
    EXPECT_EQ(dir.images[i].ssim, bic.images[i].ssim);
  }
  EXPECT_EQ(dir.mean_psnr, bic.mean_psnr);
  EXPECT_TRUE(std::isfinite(dir.mean_psnr));
}

TEST(ImageFolderMethod, ChannelsFollowTheBenchmarkImage) {
  TempDir tmp("folder_method");
  const torch::Tensor gray = torch::rand({1, 6, 4});
  data::write_image(tmp.path / "g.png", gray.expand({3, 6, 4}));  // an RGB file of a gray image
  data::write_image(tmp.path / "c.PNG", gray);                     // a gray file of a colour image
  const eval::Method m = eval::image_folder_method(tmp.path, 2);
  const torch::Tensor g = m.upscale_image("g", torch::zeros({1, 3, 2}));
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{1, 6, 4}));
  EXPECT_TRUE(torch::allclose(g, data::quantize(gray), 0.0, 1e-6));  // mean of 3 equal channels
  const torch::Tensor c = m.upscale_image("c", torch::zeros({3, 3, 2}));
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{3, 6, 4}));
  EXPECT_TRUE(torch::equal(c[2], data::quantize(gray)[0]));
}

TEST(ImageFolderMethod, MissingOrWrongSizeImagesAreNamed) {
  TempDir tmp("folder_method");
  data::write_image(tmp.path / "img0.png", torch::rand({3, 18, 21}));  // HR is 18x22
  const data::PairedImageDataset ds = small_set();
  const std::string wrong = error_of([&] { eval::evaluate(ds, "small", eval::image_folder_method(tmp.path, 2)); });
  EXPECT_NE(wrong.find("img0.png' is 21x18"), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("22x18"), std::string::npos) << wrong;
  fs::remove(tmp.path / "img0.png");
  const std::string missing = error_of([&] { eval::evaluate(ds, "small", eval::image_folder_method(tmp.path, 2)); });
  EXPECT_NE(missing.find("no SR image for 'img0'"), std::string::npos) << missing;
  EXPECT_NE(missing.find(tmp.path.string()), std::string::npos) << missing;
  EXPECT_NE(error_of([&] { eval::image_folder_method(tmp.path / "nope", 2); }).find("not a folder"), std::string::npos);
}

TEST(ImageFolderMethod, RegisteredFactoriesComeFirst) {
  eval::register_method_factory([](const std::string& spec, int scale, torch::Device) -> std::optional<eval::Method> {
    if (spec != "test:nearest") return std::nullopt;
    return eval::Method{"nearest", [scale](const torch::Tensor& lr) {
                          return lr.repeat_interleave(scale, 1).repeat_interleave(scale, 2);
                        }};
  });
  const eval::Method m = eval::make_method("test:nearest", 2);
  EXPECT_EQ(m.name, "nearest");
  EXPECT_EQ(m.upscale(torch::ones({3, 2, 2})).sizes(), (std::vector<int64_t>{3, 4, 4}));
  EXPECT_EQ(eval::make_method("bicubic", 2).name, "bicubic");
  EXPECT_NE(error_of([] { eval::make_method("test:other", 2); }).find("folder of SR images"), std::string::npos);
}

}  // namespace test_image_folder_method
