#pragma once
// Multi-threaded, deterministic random-patch loader for SR training.
//
// Batch k is a pure function of (seed, k): sample j of batch k uses its own std::mt19937_64 seeded
// with sample_seed(seed, k, j) and draws, in this order, the image (uniform over the images at least
// lr_patch pixels wide and high in LR; smaller ones are skipped), the
// LR crop origin (draw_crop) and the flips/transpose (draw_augment). The result is therefore
// independent of worker count and timing, and a run resumed at batch k sees exactly the batches an
// uninterrupted run would have seen. Sampling follows the usual SR recipe: random aligned LR/HR
// patches plus the 8 dihedral augmentations (Lim et al., EDSR, CVPRW 2017, Sec. 4.2).
//
// Workers (boost::asio::thread_pool) assemble batches with plain loops straight from the dataset's
// compact storage (crop, flip, transpose and uint8 -> float in one pass), so they never start
// LibTorch intra-op threads that would compete with the training step.
#include <torch/torch.h>

#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <vector>

#include "data/degrade/degradation.h"
#include "data/datasets/paired_dataset.h"
#include "data/datasets/transforms.h"

namespace boost::asio {
class thread_pool;
}

namespace srlab::data {

struct DegradationBatchPlan;  // data/degrade/tensor_pipeline.h

/// One training batch.
struct Batch {
  torch::Tensor lr;   ///< (N,C,p,p) float32 [0,1], contiguous; undefined while degradation_plan is set
  torch::Tensor hr;   ///< (N,C,p*s,p*s) float32 [0,1], contiguous
  int64_t index = 0;  ///< batch number k
  /// LoaderOptions::defer_degradation: the drawn degradation parameters of every sample (cheap, drawn on
  /// the loader thread); the train step makes lr from hr with data::apply_degradation_plan() on its
  /// device (train/device_degradation.h). Null otherwise.
  std::shared_ptr<const DegradationBatchPlan> degradation_plan;
};

/// Loader settings.
struct LoaderOptions {
  int batch_size = 16;  ///< N >= 1
  int lr_patch = 32;    ///< LR patch side p >= 1 (HR patch side p * scale)
  int num_workers = 2;  ///< background threads; 0 = build batches synchronously in next()
  int prefetch = 4;     ///< batches requested ahead of the consumer (>= 1)
  uint64_t seed = 0;    ///< the only source of randomness
  AugmentOptions augment;
  /// On-the-fly degradation: when set, the dataset's LR images are ignored and the LR patch of sample j
  /// of batch k is degradation->apply(HR patch after augmentation, scale, seed, k * batch_size + j), so
  /// every batch sees fresh degradations (Real-ESRGAN's training scheme) and stays a pure function of
  /// (seed, k).
  std::shared_ptr<const Degradation> degradation;
  /// With `degradation`: hand over the HR patches and the drawn plan (Batch::degradation_plan, the same
  /// draws as above for the same sample ids) and leave the pixel work to the train step, which degrades the
  /// whole batch with the tensor ops on the training device (data.train.degradation_device: train).
  bool defer_degradation = false;
  /// Sharding (data-parallel training, train/distributed.h): batch k of this loader holds samples
  /// sample_offset .. sample_offset + batch_size - 1 of the global batch k of global_batch_size samples
  /// (0: batch_size, no sharding). Sample j of a global batch is drawn exactly as above (seeds and
  /// degradation ids use the global j and global_batch_size), so the shards of all ranks together
  /// equal the unsharded batch: batch k of rank r is a pure function of (seed, k, r, world size).
  int global_batch_size = 0;
  int64_t sample_offset = 0;
};

/// The RNG seed of sample j of batch k (splitmix64 mixing of seed, k and j).
uint64_t sample_seed(uint64_t seed, int64_t batch, int64_t sample);

/// Indices of the images whose LR is at least lr_patch x lr_patch (the ones the loader samples).
std::vector<size_t> eligible_images(const PairedImageDataset& dataset, int lr_patch);

/// Builds batch `index` synchronously (what the workers run), sampling among `eligible` images.
/// Throws srlab::Error on bad options or when `eligible` is empty.
Batch make_batch(const PairedImageDataset& dataset, const LoaderOptions& options, int64_t index,
                 const std::vector<size_t>& eligible);
/// Same, with eligible_images(dataset, options.lr_patch) computed on the fly.
Batch make_batch(const PairedImageDataset& dataset, const LoaderOptions& options, int64_t index);

/// Streams batches start_batch, start_batch + 1, ... built in the background.
class PatchLoader {
 public:
  /// Validates the options and starts the workers. Throws srlab::Error when the dataset is null or
  /// empty, an option is out of range, the images do not all have the same channel count, or every
  /// image is smaller than the LR patch. Images smaller than the patch are skipped (logged once).
  PatchLoader(std::shared_ptr<const PairedImageDataset> dataset, LoaderOptions options, int64_t start_batch = 0);
  PatchLoader(const PatchLoader&) = delete;
  PatchLoader& operator=(const PatchLoader&) = delete;
  /// Stops the workers (batches not yet started are dropped) and joins them.
  ~PatchLoader();

  /// The next batch (index next_index()); blocks until it is ready. Errors raised while building it
  /// are re-thrown here.
  Batch next();
  /// Index of the batch the next call to next() returns.
  int64_t next_index() const { return next_index_; }

 private:
  void schedule();
  std::shared_ptr<const PairedImageDataset> dataset_;
  LoaderOptions options_;
  int64_t next_index_ = 0;
  int64_t scheduled_ = 0;  // first index not yet submitted
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::deque<std::future<Batch>> pending_;
  std::vector<size_t> eligible_;  // images at least lr_patch x lr_patch in LR (smaller ones are skipped)
};

}  // namespace srlab::data
