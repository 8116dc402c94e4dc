// Architecture detection of community weight files (models/weights/detect.h) and loading them through
// the one entry point models::load_generator: the reference fixtures of <data>/interop must load with
// no hints and reproduce the reference outputs; SRLab generators of every registered architecture,
// saved as safetensors, must be detected back with the same hyperparameters; bad files are clear errors.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/fs.h"
#include "models/arch/registry.h"
#include "models/disc/discriminator_registry.h"
#include "models/weights/checkpoint.h"
#include "models/weights/inspect.h"
#include "tests/test_util.h"
#include "tests/models/weight_file_fixtures.h"

namespace test_weight_detect {
using namespace srlab::models;
using srlab::testing::error_of;
using srlab::testing::interop_dir;
using srlab::testing::interop_manifest;
using srlab::testing::read_f32;
using srlab::testing::write_temp;

/// A float32 .safetensors file of `tensors` (written by hand here; the library only reads them).
std::string safetensors_of(const StateDict& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [k, t] : tensors) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    header[k] = {{"dtype", "F32"}, {"shape", c.sizes().vec()}, {"data_offsets", {data.size(), data.size() + c.nbytes()}}};
    data.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
  }
  const std::string h = header.dump();
  const uint64_t n = h.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + h + data;
}

StateDict state_dict_of(const torch::nn::Module& m) {
  StateDict sd;
  for (const auto& p : m.named_parameters(true)) sd[p.key()] = p.value();
  for (const auto& b : m.named_buffers(true)) sd[b.key()] = b.value();
  return sd;
}

// Every fixture (RRDBNet x4/x2, SRVGGNetCompact, EDSR, SPAN, RealPLKSR, SwinIR) loads with no hints
// through the one entry point and matches the reference output to <= 1e-5 (relative to the output's
// magnitude where it exceeds 1; see reference_tolerance) (issues 12 and 13).
TEST(WeightDetect, EveryFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto m = interop_manifest();
  if (m.is_null()) GTEST_SKIP() << "no <data>/interop fixtures";
  size_t matched = 0;
  for (const auto& model : m["models"]) {
    const std::string name = model["name"].get<std::string>();
    SCOPED_TRACE(name);
    const auto file = interop_dir() / model["file"].get<std::string>();
    Generator g;
    try {
      g = load_generator(file);
    } catch (const srlab::Error& e) {
      ADD_FAILURE() << "fixture did not load: " << e.what();
      continue;
    }
    torch::NoGradGuard ng;
    const auto in = read_f32(interop_dir() / model["input"]["file"].get<std::string>(), model["input"]["shape"]);
    const auto ref = read_f32(interop_dir() / model["output"]["file"].get<std::string>(), model["output"]["shape"]);
    const auto out = g->forward(in);
    ASSERT_EQ(out.sizes(), ref.sizes());
    const double diff = (out - ref).abs().max().item<double>();
    EXPECT_LE(diff, srlab::testing::reference_tolerance(ref)) << "max |reference| " << ref.abs().max().item<double>();
    EXPECT_EQ(count_parameters(*g), model["parameters"].get<int64_t>());
    std::cout << "[ fixture ] " << name << ": " << g->type() << " x" << g->scale() << ", max |diff| " << diff
              << " (relative to max |reference|: " << diff / ref.abs().max().item<double>() << ")\n";
    ++matched;
  }
  EXPECT_EQ(matched, m["models"].size());
  EXPECT_GE(matched, 7u);
}

// Issue 29: the nine zoo fixtures (DAT, OmniSR, HAT, Real-CUGAN, RCAN, ATD, DRCT, RGT, MoSR; <data>/interop/zoo)
// load with no hints as the type their name starts with and match the reference output to <= 1e-5.
TEST(WeightDetect, EveryZooFixtureLoadsWithNoHintsAndMatchesTheReference) {
  const auto zoo = srlab::testing::zoo_dir();
  if (zoo.empty() || !std::filesystem::exists(zoo / "manifest.json")) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto m = nlohmann::json::parse(srlab::core::read_file(zoo / "manifest.json"));
  size_t matched = 0;
  for (const auto& model : m["models"]) {
    const std::string name = model["name"].get<std::string>();
    SCOPED_TRACE(name);
    Generator g;
    try {
      g = load_generator(zoo / model["file"].get<std::string>());
    } catch (const srlab::Error& e) {
      ADD_FAILURE() << "zoo fixture did not load: " << e.what();
      continue;
    }
    EXPECT_EQ(g->type(), name.substr(0, name.find('_')));
    torch::NoGradGuard ng;
    const auto in = read_f32(zoo / model["input"]["file"].get<std::string>(), model["input"]["shape"]);
    const auto ref = read_f32(zoo / model["output"]["file"].get<std::string>(), model["output"]["shape"]);
    const auto out = g->forward(in);
    ASSERT_EQ(out.sizes(), ref.sizes());
    const double diff = (out - ref).abs().max().item<double>();
    EXPECT_LE(diff, srlab::testing::reference_tolerance(ref)) << "max |reference| " << ref.abs().max().item<double>();
    EXPECT_EQ(count_parameters(*g), model["parameters"].get<int64_t>());
    std::cout << "[ zoo ] " << name << ": " << g->type() << " x" << g->scale() << ", max |diff| " << diff << "\n";
    ++matched;
  }
  EXPECT_EQ(matched, m["models"].size());
  EXPECT_EQ(matched, 9u);
}

TEST(WeightDetect, DetectsHyperparametersOfTheFixtures) {
  const auto m = interop_manifest();
  if (m.is_null()) GTEST_SKIP() << "no <data>/interop fixtures";
  auto fields = [](const std::string& file) {
    std::map<std::string, std::string> f;
    for (const auto& [k, v] : inspect_weight_file(interop_dir() / file).fields) f[k] = v;
    return f;
  };
  auto x2 = fields("rrdbnet_x2_f16_b1_g8.pth");
  EXPECT_EQ(x2["container"], "torch legacy");
  EXPECT_EQ(x2["wrapper key"], "params");
  EXPECT_EQ(x2["weights"], "raw");
  EXPECT_EQ(x2["architecture"], "rrdbnet");
  EXPECT_EQ(x2["scale"], "2");
  EXPECT_EQ(x2["hyperparameters"], "num_feat=16, num_block=1, num_grow_ch=8");
  EXPECT_EQ(x2["parameters"], "56531");  // manifest "parameters"
  auto vgg = fields("srvgg_x4_f24_c4_prelu.pth");
  EXPECT_EQ(vgg["hyperparameters"], "num_feat=24, num_conv=4, act_type=prelu");
  EXPECT_EQ(vgg["parameters"], "32040");
  auto ema = fields("rrdbnet_x4_f32_b2_g32.pth");
  EXPECT_EQ(ema["weights"], "EMA (params_ema; raw params also present)");
  EXPECT_EQ(ema["tensors"], "72 (Float x72)");
  auto edsr = fields("edsr_x3_f32_b2.pth");
  EXPECT_EQ(edsr["prefixes stripped"], "module.");
  EXPECT_EQ(edsr["architecture"], "edsr");
  EXPECT_EQ(edsr["scale"], "3");
  // The issue-13 architectures, against the manifest's hyperparameters.
  auto has = [](const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; };
  auto span = fields("span_x4_f24.pth");
  EXPECT_EQ(span["architecture"], "span");
  EXPECT_EQ(span["scale"], "4");
  EXPECT_TRUE(has(span["hyperparameters"], "feature_channels=24")) << span["hyperparameters"];
  auto plk = fields("realplksr_x4_d32_b2.safetensors");
  EXPECT_EQ(plk["architecture"], "realplksr");
  EXPECT_EQ(plk["scale"], "4");
  for (const char* part : {"dim=32", "n_blocks=2", "kernel_size=13"})
    EXPECT_TRUE(has(plk["hyperparameters"], part)) << plk["hyperparameters"];
  auto swin = fields("swinir_x2_light_e24.pth");
  EXPECT_EQ(swin["architecture"], "swinir");
  EXPECT_EQ(swin["scale"], "2");
  for (const char* part : {"embed_dim=24", "window_size=8", "upsampler=pixelshuffledirect", "depths=[2]", "num_heads=[2]"})
    EXPECT_TRUE(has(swin["hyperparameters"], part)) << swin["hyperparameters"];
}

// SRLab generators of each registered architecture with non-default sizes, saved as safetensors,
// are detected back (type, scale, hyperparameters) and give the same output.
TEST(WeightDetect, RoundTripsEverySrlabArchitecture) {
  const std::vector<std::pair<std::string, int>> cases{
      {"type: rrdbnet\nnum_feat: 8\nnum_block: 2\nnum_grow_ch: 4", 1},
      {"type: rrdbnet\nnum_feat: 8\nnum_block: 1\nnum_grow_ch: 32", 4},
      {"type: srvgg_compact\nnum_feat: 8\nnum_conv: 2\nact_type: relu", 3},
      {"type: edsr\nnum_feat: 8\nnum_block: 3", 4},
      {"type: edsr_baseline", 2},
      {"type: espcn\nnum_feat: 8\nactivation: prelu", 3},
      {"type: espcn\nnum_feat: 6", 2}};
  torch::manual_seed(3);
  for (const auto& [yaml, scale] : cases) {
    SCOPED_TRACE(yaml);
    Generator src = make_generator(srlab::core::Config::parse(yaml, "test"), scale);
    src->eval();
    const auto file = write_temp("rt.safetensors", safetensors_of(state_dict_of(*src)));
    Generator g = load_generator(file);
    EXPECT_EQ(g->type(), src->type());
    EXPECT_EQ(g->scale(), scale);
    torch::NoGradGuard ng;
    const auto x = torch::rand({1, 3, 6, 7});
    EXPECT_TRUE(torch::allclose(g->forward(x), src->forward(x), 0, 1e-6));
    std::filesystem::remove(file);
  }
}

TEST(WeightDetect, ModelOptionsAndSidecarOverrideTracelessHyperparameters) {
  const auto m = interop_manifest();
  if (m.is_null()) GTEST_SKIP() << "no <data>/interop fixtures";
  const auto fixture = interop_dir() / "edsr_x3_f32_b2.pth";
  const auto in = read_f32(interop_dir() / "edsr_x3_f32_b2.input.f32", {1, 3, 16, 19});
  torch::NoGradGuard ng;
  const auto ref = load_generator(fixture)->forward(in);
  const auto half = load_generator(fixture, torch::kCPU, true, {{"res_scale=0.5"}})->forward(in);
  EXPECT_GT((half - ref).abs().max().item<double>(), 1e-3);  // res_scale changes the function
  // the same through a sidecar <file>.yaml next to a copy of the fixture
  const auto copy = write_temp("edsr_copy.pth", srlab::core::read_file(fixture));
  srlab::core::write_file_atomic(sidecar_path(copy), "model:\n  res_scale: 0.5\n");
  EXPECT_TRUE(torch::equal(load_generator(copy)->forward(in), half));
  // the command line wins over the sidecar
  EXPECT_TRUE(torch::allclose(load_generator(copy, torch::kCPU, true, {{"res_scale=1"}})->forward(in), ref, 0, 1e-6));
  const std::string msg = error_of([&] { load_generator(fixture, torch::kCPU, true, {{"no_such_key=3"}}); });
  EXPECT_NE(msg.find("no_such_key"), std::string::npos) << msg;
  srlab::core::write_file_atomic(sidecar_path(copy), "res_scale: 0.5\n");
  EXPECT_NE(error_of([&] { load_generator(copy); }).find("must hold a `model:` mapping"), std::string::npos);
  std::filesystem::remove(copy);
  std::filesystem::remove(sidecar_path(copy));
}

TEST(WeightDetect, DiscriminatorWeightsGivenAsGeneratorAreAClearError) {
  Discriminator d = make_discriminator(srlab::core::Config::parse("{type: vgg128, num_feat: 4}", "test"));
  const auto file = write_temp("net_d.safetensors", safetensors_of(state_dict_of(*d)));
  const std::string msg = error_of([&] { load_generator(file); });
  EXPECT_NE(msg.find("holds discriminator weights"), std::string::npos) << msg;
  EXPECT_NE(msg.find("vgg128"), std::string::npos) << msg;
  std::filesystem::remove(file);
}

TEST(WeightDetect, UnknownStateDictNamesTheClosestArchitectureAndTheKeys) {
  Generator src = make_generator(srlab::core::Config::parse("type: rrdbnet\nnum_feat: 8\nnum_block: 1\nnum_grow_ch: 4", "t"), 4);
  StateDict sd = state_dict_of(*src);
  sd["extra_head.weight"] = torch::zeros({3});
  const auto file = write_temp("unknown.safetensors", safetensors_of(sd));
  const std::string msg = error_of([&] { load_generator(file); });
  EXPECT_NE(msg.find("cannot detect the architecture of '" + file.string() + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected 'extra_head.weight'"), std::string::npos) << msg;  // the near miss
  EXPECT_NE(msg.find("Closest: rrdbnet"), std::string::npos) << msg;
  std::filesystem::remove(file);
}

TEST(WeightDetect, SrlabCheckpointsStillLoadAndRejectModelOptions) {
  Generator src = make_generator(srlab::core::Config::parse("type: espcn\nnum_feat: 4", "t"), 2);
  torch::serialize::OutputArchive ar;
  write_generator_entries(ar, {"type: espcn\nnum_feat: 4\n", 2, "t", 0, false}, src);
  const auto file = std::filesystem::temp_directory_path() / ("srlab_wd_ck_" + std::to_string(::getpid()) + ".pt");
  ar.save_to(file.string());
  EXPECT_TRUE(is_srlab_checkpoint(file));
  EXPECT_EQ(load_generator(file)->type(), "espcn");
  EXPECT_NE(error_of([&] { load_generator(file, torch::kCPU, true, {{"num_feat=8"}}); }).find("SRLab checkpoint"),
            std::string::npos);
  std::filesystem::remove(file);
}

}  // namespace test_weight_detect
