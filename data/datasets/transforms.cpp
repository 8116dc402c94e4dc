#include "data/datasets/transforms.h"

#include "core/error.h"

namespace srlab::data {

torch::Tensor mod_crop(const torch::Tensor& img, int scale) {
  if (!img.defined() || (img.dim() != 3 && img.dim() != 4))
    throw Error("mod_crop: expected a (C,H,W) or (N,C,H,W) tensor, got " +
                (img.defined() ? "shape " + c10::str(img.sizes()) : std::string("an undefined tensor")));
  if (scale < 1) throw Error("mod_crop: scale must be >= 1, got " + std::to_string(scale));
  const int64_t h = img.size(-2) - img.size(-2) % scale, w = img.size(-1) - img.size(-1) % scale;
  if (h == 0 || w == 0)
    throw Error("mod_crop: image of shape " + c10::str(img.sizes()) + " is smaller than the scale " +
                std::to_string(scale));
  return img.slice(-2, 0, h).slice(-1, 0, w);
}

uint64_t uniform_index(std::mt19937_64& rng, uint64_t n) {
  if (n == 0) throw Error("uniform_index: n must be >= 1");
  // Reject the top partial bucket so that every value is equally likely.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t v = rng();
  while (v >= limit) v = rng();
  return v % n;
}

CropParams draw_crop(int64_t lr_h, int64_t lr_w, int lr_patch, std::mt19937_64& rng, const std::string& name) {
  if (lr_patch < 1) throw Error("random crop: lr_patch must be >= 1, got " + std::to_string(lr_patch));
  if (lr_h < lr_patch || lr_w < lr_patch)
    throw Error("image '" + name + "' has LR size " + std::to_string(lr_h) + "x" + std::to_string(lr_w) +
                ", smaller than the LR patch " + std::to_string(lr_patch) + "x" + std::to_string(lr_patch) +
                "; use a smaller patch size or remove the image from the training set");
  CropParams c;
  c.lr_y = static_cast<int64_t>(uniform_index(rng, static_cast<uint64_t>(lr_h - lr_patch + 1)));
  c.lr_x = static_cast<int64_t>(uniform_index(rng, static_cast<uint64_t>(lr_w - lr_patch + 1)));
  return c;
}

AugmentFlags draw_augment(const AugmentOptions& options, std::mt19937_64& rng) {
  AugmentFlags f;
  if (options.hflip) f.hflip = (rng() >> 63) != 0;
  if (options.vflip) f.vflip = (rng() >> 63) != 0;
  if (options.rot90) f.transpose = (rng() >> 63) != 0;
  return f;
}

torch::Tensor apply_augment(const torch::Tensor& img, const AugmentFlags& flags) {
  if (!img.defined() || img.dim() < 2) throw Error("apply_augment: expected a (C,H,W) or (N,C,H,W) tensor");
  torch::Tensor x = img;
  if (flags.hflip) x = x.flip({-1});
  if (flags.vflip) x = x.flip({-2});
  if (flags.transpose) x = x.transpose(-2, -1);
  return x.contiguous();
}

Pair random_aligned_crop(const Pair& pair, int lr_patch, int scale, std::mt19937_64& rng) {
  if (scale < 1) throw Error("random crop: scale must be >= 1, got " + std::to_string(scale));
  if (!pair.lr.defined() || !pair.hr.defined() || pair.lr.dim() != 3 || pair.hr.dim() != 3)
    throw Error("random crop of '" + pair.name + "': expected (C,h,w) LR and (C,H,W) HR tensors");
  const int64_t h = pair.lr.size(1), w = pair.lr.size(2);
  if (pair.hr.size(1) != h * scale || pair.hr.size(2) != w * scale || pair.hr.size(0) != pair.lr.size(0))
    throw Error("random crop of '" + pair.name + "': HR shape " + c10::str(pair.hr.sizes()) +
                " is not the LR shape " + c10::str(pair.lr.sizes()) + " times the scale " + std::to_string(scale));
  const CropParams c = draw_crop(h, w, lr_patch, rng, pair.name);
  const int64_t hp = static_cast<int64_t>(lr_patch) * scale;
  Pair out;
  out.name = pair.name;
  out.lr = pair.lr.slice(1, c.lr_y, c.lr_y + lr_patch).slice(2, c.lr_x, c.lr_x + lr_patch);
  out.hr = pair.hr.slice(1, c.lr_y * scale, c.lr_y * scale + hp).slice(2, c.lr_x * scale, c.lr_x * scale + hp);
  return out;
}

Pair random_augment(const Pair& pair, const AugmentOptions& options, std::mt19937_64& rng) {
  const AugmentFlags f = draw_augment(options, rng);
  return Pair{apply_augment(pair.lr, f), apply_augment(pair.hr, f), pair.name};
}

}  // namespace srlab::data
