#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "data/datasets/transforms.h"
#include "tests/data/helpers.h"

using namespace srlab::data;
using srlab::data::testing::expect_error_containing;

namespace test_transforms {
// LR with distinct values and HR = its nearest-neighbour upsampling: any correctly aligned crop and
// identical augmentation keeps "HR == nearest(LR)".
Pair make_pair(int64_t h, int64_t w, int s) {
  auto lr = torch::arange(3 * h * w, torch::kFloat32).view({3, h, w}) / static_cast<float>(3 * h * w);
  auto hr = lr.repeat_interleave(s, 1).repeat_interleave(s, 2).contiguous();
  return Pair{lr, hr, "synthetic"};
}
bool hr_is_nearest_of_lr(const Pair& p, int s) {
  return torch::equal(p.hr, p.lr.repeat_interleave(s, 1).repeat_interleave(s, 2));
}

TEST(Transforms, ModCrop) {
  const auto x = torch::rand({3, 17, 22});
  EXPECT_EQ(mod_crop(x, 4).sizes(), (std::vector<int64_t>{3, 16, 20}));
  EXPECT_EQ(mod_crop(x, 3).sizes(), (std::vector<int64_t>{3, 15, 21}));
  EXPECT_TRUE(torch::equal(mod_crop(x, 4), x.slice(1, 0, 16).slice(2, 0, 20)));  // keeps the top-left
  EXPECT_EQ(mod_crop(torch::rand({2, 1, 9, 9}), 2).sizes(), (std::vector<int64_t>{2, 1, 8, 8}));
  EXPECT_THROW(mod_crop(x, 0), srlab::Error);
  EXPECT_THROW(mod_crop(torch::rand({1, 3, 3}), 4), srlab::Error);
}

TEST(Transforms, UniformIndexIsPortableAndInRange) {
  std::mt19937_64 rng(123);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 7000; ++i) ++counts[uniform_index(rng, 7)];
  for (int c : counts) EXPECT_GT(c, 850);  // ~1000 each
  // mt19937_64 is fully specified by the standard, so these values are the same everywhere.
  std::mt19937_64 a(42);
  const uint64_t first = a();
  std::mt19937_64 b(42);
  EXPECT_EQ(uniform_index(b, 1000), first % 1000);
  EXPECT_THROW(uniform_index(rng, 0), srlab::Error);
}

TEST(Transforms, AlignedCropKeepsAlignment) {
  const int s = 3;
  const Pair p = make_pair(20, 25, s);
  std::mt19937_64 rng(9);
  std::set<std::pair<int64_t, int64_t>> origins;
  for (int i = 0; i < 50; ++i) {
    const Pair c = random_aligned_crop(p, 8, s, rng);
    ASSERT_EQ(c.lr.sizes(), (std::vector<int64_t>{3, 8, 8}));
    ASSERT_EQ(c.hr.sizes(), (std::vector<int64_t>{3, 24, 24}));
    EXPECT_TRUE(hr_is_nearest_of_lr(c, s));
    // Recover the origin from the (unique) values.
    const int64_t v = static_cast<int64_t>(std::lround(c.lr[0][0][0].item<float>() * 3 * 20 * 25));
    origins.insert({v / 25, v % 25});
    EXPECT_LE(v / 25, 20 - 8);
    EXPECT_LE(v % 25, 25 - 8);
  }
  EXPECT_GT(origins.size(), 20u);  // really random
  // Full-size patch is allowed and returns everything.
  std::mt19937_64 r2(1);
  const Pair whole = random_aligned_crop(make_pair(8, 8, 2), 8, 2, r2);
  EXPECT_TRUE(torch::equal(whole.lr, make_pair(8, 8, 2).lr));
}

TEST(Transforms, CropErrorsNameTheImage) {
  std::mt19937_64 rng(1);
  Pair p = make_pair(10, 12, 2);
  p.name = "tiny_image";
  expect_error_containing([&] { random_aligned_crop(p, 11, 2, rng); }, "tiny_image");
  expect_error_containing([&] { random_aligned_crop(p, 4, 3, rng); }, "tiny_image");  // HR is not 3x LR
  EXPECT_THROW(random_aligned_crop(p, 0, 2, rng), srlab::Error);
}

TEST(Transforms, AugmentAppliesTheSameOpAndCoversAllEight) {
  const int s = 2;
  const Pair p = make_pair(6, 6, s);
  std::mt19937_64 rng(10);
  std::set<std::vector<float>> variants;
  for (int i = 0; i < 200; ++i) {
    const Pair a = random_augment(p, AugmentOptions{}, rng);
    EXPECT_TRUE(hr_is_nearest_of_lr(a, s));
    EXPECT_TRUE(a.lr.is_contiguous());
    const auto flat = a.lr[0].contiguous();
    variants.insert(std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()));
  }
  EXPECT_EQ(variants.size(), 8u);  // the dihedral group of the square
  // Disabled options: identity, no randomness consumed.
  std::mt19937_64 r1(5), r2(5);
  const Pair same = random_augment(p, AugmentOptions{false, false, false}, r1);
  EXPECT_TRUE(torch::equal(same.lr, p.lr));
  EXPECT_EQ(r1(), r2());
}

TEST(Transforms, ApplyAugmentMapping) {
  const auto x = torch::arange(6, torch::kFloat32).view({1, 2, 3});  // [[0 1 2] [3 4 5]]
  EXPECT_TRUE(torch::equal(apply_augment(x, {true, false, false}),
                           torch::tensor({2.f, 1.f, 0.f, 5.f, 4.f, 3.f}).view({1, 2, 3})));
  EXPECT_TRUE(torch::equal(apply_augment(x, {false, true, false}),
                           torch::tensor({3.f, 4.f, 5.f, 0.f, 1.f, 2.f}).view({1, 2, 3})));
  EXPECT_TRUE(torch::equal(apply_augment(x, {false, false, true}),
                           torch::tensor({0.f, 3.f, 1.f, 4.f, 2.f, 5.f}).view({1, 3, 2})));
  // hflip then transpose = rotation by 90 degrees counter-clockwise: [[2 5] [1 4] [0 3]]
  EXPECT_TRUE(torch::equal(apply_augment(x, {true, false, true}),
                           torch::tensor({2.f, 5.f, 1.f, 4.f, 0.f, 3.f}).view({1, 3, 2})));
}

}  // namespace test_transforms
