#pragma once
// Benchmarks with degraded LR inputs: the HR images of a dataset with LR re-made by a degradation
// pipeline (e.g. Set14 x4 with Gaussian blur sigma 1.6 + JPEG q40), for scoring models on realistic
// inputs rather than clean bicubic downsamples.
#include <cstdint>

#include "data/degrade/degradation.h"
#include "data/datasets/paired_dataset.h"

namespace srlab::data {

/// A dataset with the same HR images (storage shared) and LR_i = degradation.apply(HR_i, scale, seed, i)
/// stored as uint8 (names and paths kept). Images are processed in parallel; the result does not depend
/// on the thread count. HR images must be on the 8-bit grid (16-bit images are rounded to 8 bits).
/// Throws srlab::Error (naming the image) when a degradation fails.
PairedImageDataset degrade_dataset(const PairedImageDataset& source, const Degradation& degradation, uint64_t seed = 0);

}  // namespace srlab::data
