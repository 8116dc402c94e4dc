#include "data/datasets/loader.h"

#include "core/log.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <array>
#include <random>

#include "core/error.h"
#include "data/degrade/tensor_pipeline.h"

namespace srlab::data {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// dst (C,p,p) float <- augmented crop of src (C,H,W) at (y0,x0), side p: the same mapping as
// apply_augment (hflip, then vflip, then transpose), converting each sample with `convert`.
template <typename S, typename Convert>
void copy_patch(const S* src, int64_t C, int64_t H, int64_t W, int64_t y0, int64_t x0, int64_t p,
                const AugmentFlags& f, const Convert& convert, float* dst) {
  for (int64_t c = 0; c < C; ++c) {
    const S* plane = src + c * H * W;
    float* out = dst + c * p * p;
    for (int64_t i = 0; i < p; ++i) {
      for (int64_t j = 0; j < p; ++j) {
        const int64_t a = f.transpose ? j : i, b = f.transpose ? i : j;  // position in the flipped crop
        const int64_t sy = y0 + (f.vflip ? p - 1 - a : a), sx = x0 + (f.hflip ? p - 1 - b : b);
        out[i * p + j] = convert(plane[sy * W + sx]);
      }
    }
  }
}

// uint8 level -> float32, computed like stored_to_float() (v / 255 in double, rounded once).
const std::array<float, 256>& u8_table() {
  static const std::array<float, 256> t = [] {
    std::array<float, 256> a{};
    for (int v = 0; v < 256; ++v) a[static_cast<size_t>(v)] = static_cast<float>(static_cast<double>(v) / 255.0);
    return a;
  }();
  return t;
}

void copy_stored(const torch::Tensor& stored, int64_t y0, int64_t x0, int64_t p, const AugmentFlags& f,
                 float* dst) {
  const int64_t C = stored.size(0), H = stored.size(1), W = stored.size(2);
  if (stored.scalar_type() == torch::kUInt8) {
    const auto& t = u8_table();
    copy_patch(stored.data_ptr<uint8_t>(), C, H, W, y0, x0, p, f, [&t](uint8_t v) { return t[v]; }, dst);
  } else {
    copy_patch(stored.data_ptr<float>(), C, H, W, y0, x0, p, f, [](float v) { return v; }, dst);
  }
}

void validate(const PairedImageDataset& ds, const LoaderOptions& o) {
  if (o.batch_size < 1) throw Error("loader: batch_size must be >= 1, got " + std::to_string(o.batch_size));
  if (o.lr_patch < 1) throw Error("loader: lr_patch must be >= 1, got " + std::to_string(o.lr_patch));
  if (o.num_workers < 0) throw Error("loader: num_workers must be >= 0, got " + std::to_string(o.num_workers));
  if (o.prefetch < 1) throw Error("loader: prefetch must be >= 1, got " + std::to_string(o.prefetch));
  if (o.global_batch_size > 0 && (o.sample_offset < 0 || o.sample_offset + o.batch_size > o.global_batch_size))
    throw Error("loader: the shard [" + std::to_string(o.sample_offset) + ", " + std::to_string(o.sample_offset + o.batch_size) +
                ") does not fit in the global batch of " + std::to_string(o.global_batch_size) + " samples");
  if (ds.size() == 0) throw Error("loader: the dataset is empty");
  const int64_t c0 = ds.channels(0);
  for (size_t i = 0; i < ds.size(); ++i) {
    const Pair s = ds.get_stored(i);
    if (s.hr.size(0) != c0)
      throw Error("loader: image '" + ds.hr_path(i).string() + "' has " + std::to_string(s.hr.size(0)) +
                  " channel(s) but '" + ds.hr_path(0).string() + "' has " + std::to_string(c0) +
                  "; enable to_rgb in the dataset so that a batch has one channel count");
  }
}

}  // namespace

uint64_t sample_seed(uint64_t seed, int64_t batch, int64_t sample) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ static_cast<uint64_t>(batch));
  return splitmix64(h ^ (static_cast<uint64_t>(sample) * 0xD6E8FEB86659FD93ULL));
}

std::vector<size_t> eligible_images(const PairedImageDataset& ds, int lr_patch) {
  std::vector<size_t> out;
  for (size_t i = 0; i < ds.size(); ++i) {
    const Pair s = ds.get_stored(i);
    if (s.lr.size(1) >= lr_patch && s.lr.size(2) >= lr_patch) out.push_back(i);
  }
  return out;
}

Batch make_batch(const PairedImageDataset& ds, const LoaderOptions& o, int64_t index) {
  return make_batch(ds, o, index, eligible_images(ds, o.lr_patch));
}

Batch make_batch(const PairedImageDataset& ds, const LoaderOptions& o, int64_t index, const std::vector<size_t>& eligible) {
  if (o.batch_size < 1 || o.lr_patch < 1 || ds.size() == 0)
    throw Error("make_batch: need batch_size >= 1, lr_patch >= 1 and a non-empty dataset");
  if (eligible.empty())
    throw Error("make_batch: no image of the dataset is at least lr_patch = " + std::to_string(o.lr_patch) +
                " pixels in LR; lower lr_patch");
  torch::NoGradGuard no_grad;
  const int64_t N = o.batch_size, p = o.lr_patch, s = ds.scale(), hp = p * s;
  const int64_t G = o.global_batch_size > 0 ? o.global_batch_size : N, j0 = o.sample_offset;  // sharding
  const int64_t C = ds.channels(0);
  Batch b;
  b.index = index;
  const bool deferred = o.degradation && o.defer_degradation;
  if (!deferred) b.lr = torch::empty({N, C, p, p}, torch::kFloat32);
  b.hr = torch::empty({N, C, hp, hp}, torch::kFloat32);
  float* lr_out = deferred ? nullptr : b.lr.data_ptr<float>();
  float* hr_out = b.hr.data_ptr<float>();
  for (int64_t j = 0; j < N; ++j) {
    std::mt19937_64 rng(sample_seed(o.seed, index, j0 + j));
    const size_t i = eligible[static_cast<size_t>(uniform_index(rng, eligible.size()))];
    const Pair st = ds.get_stored(i);
    if (st.lr.size(0) != C)
      throw Error("make_batch: image '" + ds.hr_path(i).string() + "' has a different channel count than image 0");
    const CropParams c = draw_crop(st.lr.size(1), st.lr.size(2), o.lr_patch, rng, ds.hr_path(i).string());
    const AugmentFlags f = draw_augment(o.augment, rng);
    copy_stored(st.hr, c.lr_y * s, c.lr_x * s, hp, f, hr_out + j * C * hp * hp);
    if (deferred) {
      continue;  // planned below for the whole batch
    } else if (o.degradation) {
      const DegradedSample d = o.degradation->apply(b.hr[j], static_cast<int>(s), o.seed, index * G + j0 + j);
      b.lr[j].copy_(d.lr);
    } else {
      copy_stored(st.lr, c.lr_y, c.lr_x, p, f, lr_out + j * C * p * p);
    }
  }
  if (deferred) {
    std::vector<int64_t> ids;  // the sample ids the loader path passes to Degradation::apply()
    for (int64_t j = 0; j < N; ++j) ids.push_back(index * G + j0 + j);
    b.degradation_plan = std::make_shared<const DegradationBatchPlan>(
        plan_degradation_batch(*o.degradation, static_cast<int>(C), static_cast<int>(hp), static_cast<int>(hp),
                               static_cast<int>(s), o.seed, ids));
  }
  return b;
}

PatchLoader::PatchLoader(std::shared_ptr<const PairedImageDataset> dataset, LoaderOptions options, int64_t start_batch)
    : dataset_(std::move(dataset)), options_(options), next_index_(start_batch), scheduled_(start_batch) {
  if (!dataset_) throw Error("loader: dataset is null");
  if (start_batch < 0) throw Error("loader: start_batch must be >= 0, got " + std::to_string(start_batch));
  validate(*dataset_, options_);
  eligible_ = eligible_images(*dataset_, options_.lr_patch);
  if (eligible_.empty())
    throw Error("loader: every image is smaller than lr_patch = " + std::to_string(options_.lr_patch) +
                " in LR (e.g. '" + dataset_->hr_path(0).string() + "'); lower data.train.lr_patch");
  if (eligible_.size() < dataset_->size()) {
    std::string examples;
    size_t shown = 0;
    for (size_t i = 0, e = 0; i < dataset_->size() && shown < 3; ++i) {
      if (e < eligible_.size() && eligible_[e] == i) { ++e; continue; }
      examples += (shown++ ? ", " : "") + dataset_->hr_path(i).filename().string();
    }
    core::log("loader: {} of {} images are smaller than the LR patch ({} px) and are not sampled (e.g. {})",
              dataset_->size() - eligible_.size(), dataset_->size(), options_.lr_patch, examples);
  }
  if (options_.num_workers > 0) {
    pool_ = std::make_unique<boost::asio::thread_pool>(static_cast<size_t>(options_.num_workers));
    schedule();
  }
}

PatchLoader::~PatchLoader() {
  if (pool_) {
    pool_->stop();  // drop batches not yet started; running ones finish
    pool_->join();
  }
}

void PatchLoader::schedule() {
  while (static_cast<int64_t>(pending_.size()) < options_.prefetch) {
    auto task = std::make_shared<std::packaged_task<Batch()>>(
        [ds = dataset_, o = options_, k = scheduled_, e = &eligible_] { return make_batch(*ds, o, k, *e); });
    pending_.push_back(task->get_future());
    boost::asio::post(*pool_, [task] { (*task)(); });
    ++scheduled_;
  }
}

Batch PatchLoader::next() {
  if (!pool_) return make_batch(*dataset_, options_, next_index_++, eligible_);
  std::future<Batch> f = std::move(pending_.front());
  pending_.pop_front();
  ++next_index_;
  schedule();
  return f.get();
}

}  // namespace srlab::data
