// Fuzzing the weight-file readers (issue 28): seeded random mutations of valid files (made here with
// SRLab's own writers, plus the shared interop fixtures under 1 MB when present) fed to
//   - the restricted unpickler (models/weights/pickle_reader.h), on pickle bytes;
//   - the torch.save zip container and the legacy container, through read_weight_file;
//   - the safetensors reader, through read_weight_file.
// Each input must give a valid load or an srlab::Error: never a crash, never another exception type,
// and the process must stay under a memory bound. Bounded by time (SRLAB_FUZZ_SECONDS per reader,
// default 15, so CI spends under a minute) or by count (SRLAB_FUZZ_ITERATIONS, e.g. 100000 for the
// AddressSanitizer/UBSan run of scripts/fuzz_asan.sh). SRLAB_FUZZ_SEED picks the random sequence.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"
#include "models/weights/community_weights.h"
#include "models/weights/pickle_reader.h"
#include "models/weights/pickle_writer.h"
#include "models/weights/pth_writer.h"
#include "models/weights/safetensors_writer.h"
#include "tests/models/weight_file_fixtures.h"

namespace {
namespace fs = std::filesystem;
using namespace srlab::models;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 10) : fallback;
}

StateDict seed_state_dict(int variant) {
  torch::manual_seed(variant);
  StateDict sd{{"conv_first.weight", torch::randn({4, 3, 3, 3})},
               {"conv_first.bias", torch::randn({4})},
               {"body.0.alpha", torch::randn({1})},
               {"upsampler.0.weight", torch::randn({12, 4, 1, 1})}};
  if (variant % 2) sd["body.1.weight"] = torch::randn({2, 2});
  return sd;
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("srlab_fuzz_" + std::to_string(::getpid()) + "_" + name);
}

std::string bytes_of_written(const std::string& name, const std::function<void(const fs::path&)>& write) {
  const fs::path p = temp_file(name);
  write(p);
  std::string b = srlab::core::read_file(p);
  fs::remove(p);
  return b;
}

/// Fixture files of <data>/interop under 1 MB whose name ends with `ext`.
std::vector<std::string> fixture_seeds(const std::string& ext) {
  std::vector<std::string> out;
  const fs::path dir = srlab::testing::interop_dir();
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ext && e.file_size(ec) < (1 << 20)) out.push_back(srlab::core::read_file(e.path()));
  return out;
}

/// Random mutations in the style of libFuzzer's: bit flips, interesting integers, inserted, erased,
/// duplicated and spliced byte ranges, truncation.
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}
  std::string mutate(std::string s, const std::vector<std::string>& seeds) {
    const int ops = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < ops; ++i) step(s, seeds);
    return s;
  }

 private:
  size_t pos(const std::string& s) { return s.empty() ? 0 : rng_() % s.size(); }
  void step(std::string& s, const std::vector<std::string>& seeds) {
    static const uint64_t kInteresting[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000u,
                                            0xffffffffu, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
                                            1ull << 40, 100, 1000};
    switch (rng_() % 8) {
      case 0:
        if (!s.empty()) s[pos(s)] ^= static_cast<char>(1u << (rng_() % 8));
        break;
      case 1:
        if (!s.empty()) s[pos(s)] = static_cast<char>(kInteresting[rng_() % 5]);
        break;
      case 2: {  // an interesting 1/2/4/8-byte little-endian integer
        const size_t w = size_t{1} << (rng_() % 4);
        if (s.size() < w) break;
        const uint64_t v = kInteresting[rng_() % (sizeof kInteresting / sizeof *kInteresting)];
        std::memcpy(&s[rng_() % (s.size() - w + 1)], &v, w);
        break;
      }
      case 3: {  // insert random bytes
        std::string r(1 + rng_() % 16, '\0');
        for (char& c : r) c = static_cast<char>(rng_());
        s.insert(std::min(pos(s), s.size()), r);
        break;
      }
      case 4:  // erase a range
        if (!s.empty()) {
          const size_t p = pos(s);
          s.erase(p, 1 + rng_() % std::min<size_t>(64, s.size() - p));
        }
        break;
      case 5:  // duplicate a range elsewhere
        if (!s.empty()) {
          const size_t p = pos(s);
          const std::string chunk = s.substr(p, 1 + rng_() % 32);
          s.insert(pos(s), chunk);
        }
        break;
      case 6:  // truncate
        if (!s.empty()) s.resize(pos(s));
        break;
      default:  // splice the tail of another seed
        if (!seeds.empty()) {
          const std::string& o = seeds[rng_() % seeds.size()];
          const size_t p = pos(s), q = o.empty() ? 0 : rng_() % o.size();
          s = s.substr(0, p) + o.substr(q);
        }
        break;
    }
  }
  std::mt19937_64 rng_;
};

struct Counts {
  int64_t inputs = 0, loads = 0, errors = 0;
};

/// Runs `read` on mutations of `seeds` until the time or count bound; fails the test on any exception
/// other than srlab::Error.
Counts fuzz(const std::string& reader, const std::vector<std::string>& seeds,
            const std::function<void(const std::string&)>& read) {
  const int64_t iterations = env_int("SRLAB_FUZZ_ITERATIONS", 0);
  const auto limit = std::chrono::seconds(env_int("SRLAB_FUZZ_SECONDS", 15));
  Mutator m(static_cast<uint64_t>(env_int("SRLAB_FUZZ_SEED", 1)) * 7919 + std::hash<std::string>()(reader));
  const auto start = std::chrono::steady_clock::now();
  Counts c;
  while (iterations > 0 ? c.inputs < iterations : std::chrono::steady_clock::now() - start < limit) {
    const std::string input = m.mutate(seeds[static_cast<size_t>(c.inputs) % seeds.size()], seeds);
    ++c.inputs;
    try {
      read(input);
      ++c.loads;
    } catch (const srlab::Error&) {
      ++c.errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << reader << " input " << c.inputs << ": not an srlab::Error: " << std::string(e.what()).substr(0, 300);
      const fs::path keep = fs::temp_directory_path() / ("srlab_fuzz_failure_" + reader);
      std::ofstream(keep, std::ios::binary) << input;
      return c;
    }
  }
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const int64_t max_rss_mb = ru.ru_maxrss / 1024;
  std::printf("fuzz %s: %lld inputs, %lld valid loads, %lld clean errors, peak RSS %lld MB\n", reader.c_str(),
              static_cast<long long>(c.inputs), static_cast<long long>(c.loads), static_cast<long long>(c.errors),
              static_cast<long long>(max_rss_mb));
  EXPECT_LE(max_rss_mb, env_int("SRLAB_FUZZ_MAX_RSS_MB", 2048)) << reader << ": memory grew past the bound";
  return c;
}

void read_file_input(const std::string& bytes, const std::string& name) {
  const fs::path p = temp_file(name);
  {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    read_weight_file(p);
  } catch (...) {
    fs::remove(p);
    throw;
  }
  fs::remove(p);
}

TEST(FuzzWeightReaders, Pickle) {
  std::vector<std::string> seeds;
  for (int v = 0; v < 4; ++v) {
    std::vector<PickledTensor> tensors;
    int i = 0;
    for (const auto& [k, t] : seed_state_dict(v)) tensors.push_back({k, std::to_string(i++), t.sizes().vec(), t.numel()});
    seeds.push_back(torch_save_pickle({{"params_ema", tensors}, {"params", tensors}}));
  }
  seeds.push_back(std::string("\x80\x02}(", 4) + srlab::testing::pk_str("w") + srlab::testing::pk_tensor("0", 4) + "u.");
  // Storages: zeros of the requested size, refused beyond 1 MB (as a real file holds only so many bytes).
  const StorageLoader loader = [](const std::string&, c10::ScalarType dtype, int64_t numel) {
    if (numel > (1 << 18)) throw srlab::Error("storage too large for this input");
    return torch::zeros({numel}, torch::TensorOptions().dtype(dtype));
  };
  const Counts c = fuzz("pickle", seeds, [&](const std::string& in) {
    size_t pos = 0;
    unpickle(in.data(), in.size(), pos, "fuzz.pkl", loader);
  });
  EXPECT_GT(c.inputs, 0);
}

TEST(FuzzWeightReaders, TorchZip) {
  std::vector<std::string> seeds = fixture_seeds(".pth");
  seeds.erase(std::remove_if(seeds.begin(), seeds.end(), [](const std::string& s) { return s.rfind("PK", 0) != 0; }),
              seeds.end());
  for (int v = 0; v < 2; ++v)
    seeds.push_back(bytes_of_written("seed.pth", [&](const fs::path& p) {
      write_pth(p, {{"params_ema", seed_state_dict(v)}, {"params", seed_state_dict(v + 1)}});
    }));
  const Counts c = fuzz("zip", seeds, [](const std::string& in) { read_file_input(in, "in.pth"); });
  EXPECT_GT(c.loads + c.errors, 0);
}

TEST(FuzzWeightReaders, TorchLegacy) {
  std::vector<std::string> seeds = fixture_seeds(".pth");
  seeds.erase(std::remove_if(seeds.begin(), seeds.end(), [](const std::string& s) { return s.rfind("PK", 0) == 0; }),
              seeds.end());
  const std::string obj = std::string("\x80\x02}(", 4) + srlab::testing::pk_str("a") + srlab::testing::pk_tensor("0", 4) +
                          srlab::testing::pk_str("b") + srlab::testing::pk_tensor("1", 2) + "u.";
  seeds.push_back(srlab::testing::legacy_file(obj, {{"0", {1, 2, 3, 4}}, {"1", {5, 6}}}));
  const Counts c = fuzz("legacy", seeds, [](const std::string& in) { read_file_input(in, "in.pth"); });
  EXPECT_GT(c.inputs, 0);
}

TEST(FuzzWeightReaders, Safetensors) {
  std::vector<std::string> seeds = fixture_seeds(".safetensors");
  for (int v = 0; v < 3; ++v) seeds.push_back(safetensors_bytes(seed_state_dict(v), {{"format", "pt"}}));
  const Counts c = fuzz("safetensors", seeds, [](const std::string& in) { read_file_input(in, "in.safetensors"); });
  EXPECT_GT(c.inputs, 0);
}

}  // namespace
