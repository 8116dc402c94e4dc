#pragma once
// Geometric transforms for SR training pairs: modulo cropping, aligned random crops and the flip /
// transpose augmentation ("8 dihedral variants", Timofte et al., "Seven ways to improve example-based
// single image super resolution", CVPR 2016, Sec. 2.1; used by EDSR, Lim et al. 2017, Sec. 4.2).
//
// Randomness comes only from the std::mt19937_64 passed in, consumed in a documented order with
// portable arithmetic (no std::uniform_int_distribution, whose output differs between standard
// libraries), so a seed reproduces the same crops everywhere.
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>

namespace srlab::data {

/// Crops the bottom/right so that height and width are multiples of `scale` (the usual benchmark
/// preparation). img: (C,H,W) or (N,C,H,W), any dtype; returns a view. Throws srlab::Error if
/// scale < 1 or the image is smaller than scale x scale.
torch::Tensor mod_crop(const torch::Tensor& img, int scale);

/// An aligned LR/HR training pair: lr (C,h,w), hr (C,h*s,w*s), values in [0,1] (float32, or the
/// dataset's compact uint8 storage inside the loader).
struct Pair {
  torch::Tensor lr, hr;
  std::string name;  ///< image name (file stem) for error messages and reports
};

/// Where a crop goes and which augmentation it gets (exposed so the loader can fuse the copy).
struct CropParams {
  int64_t lr_y = 0, lr_x = 0;  ///< top-left corner of the LR patch
};
struct AugmentFlags {
  bool hflip = false;      ///< reverse the width axis
  bool vflip = false;      ///< reverse the height axis
  bool transpose = false;  ///< swap height and width (applied after the flips)
};

/// Options of random_augment(); each enabled operation is applied with probability 1/2.
/// `rot90` is realised as a transpose: together with the two flips it yields all 8 rotations and
/// reflections of the square patch with equal probability.
struct AugmentOptions {
  bool hflip = true;
  bool vflip = true;
  bool rot90 = true;
};

/// Uniform integer in [0, n) from `rng` (rejection sampling; portable). n must be >= 1.
uint64_t uniform_index(std::mt19937_64& rng, uint64_t n);

/// Draws an LR crop origin: y uniform in [0, lr_h - lr_patch], then x uniform in [0, lr_w - lr_patch]
/// (two draws via uniform_index). Throws srlab::Error naming `name` when the image is smaller than
/// the patch.
CropParams draw_crop(int64_t lr_h, int64_t lr_w, int lr_patch, std::mt19937_64& rng, const std::string& name);

/// Draws the flags: one 64-bit draw per enabled option, in the order hflip, vflip, rot90 (the top bit
/// decides). Disabled options consume no randomness.
AugmentFlags draw_augment(const AugmentOptions& options, std::mt19937_64& rng);

/// Applies flags to a (C,H,W) or (N,C,H,W) tensor: hflip, then vflip, then transpose. Returns a new
/// contiguous tensor.
torch::Tensor apply_augment(const torch::Tensor& img, const AugmentFlags& flags);

/// Crops an lr_patch x lr_patch LR patch (origin from draw_crop) and the HR patch at exactly
/// `scale` times the coordinates (lr_patch*scale square). Inputs (C,h,w) / (C,h*scale,w*scale);
/// returns views. Throws srlab::Error naming the pair if the image is smaller than the patch, if
/// lr_patch < 1 or scale < 1, or if the HR size is not exactly scale x the LR size.
Pair random_aligned_crop(const Pair& pair, int lr_patch, int scale, std::mt19937_64& rng);

/// Applies the same randomly drawn flips/transpose (draw_augment then apply_augment) to LR and HR.
Pair random_augment(const Pair& pair, const AugmentOptions& options, std::mt19937_64& rng);

}  // namespace srlab::data
