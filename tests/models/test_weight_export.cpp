// Writing community weight files (models/weights/{pickle,pth,safetensors}_writer.h, export_weights.h):
// the zip layout of a .pth as torch.save writes it, Python's torch.load(weights_only=True) reading our
// files for every built-in architecture (exact keys, shapes and values), the safetensors format rules,
// and clear errors for bad input.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <cstring>

#include "tests/models/export_check_py.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"

#include "core/config.h"
#include "core/fs.h"
#include "core/process.h"
#include "models/arch/registry.h"
#include "models/weights/community_generator.h"
#include "models/weights/export_weights.h"
#include "tests/models/weight_file_fixtures.h"
#include "models/weights/pickle_writer.h"
#include "models/weights/pth_writer.h"
#include "models/weights/safetensors_writer.h"

namespace test_weight_export {
namespace fs = std::filesystem;
namespace sm = srlab::models;
using srlab::testing::error_of;
using srlab::testing::TempDir;

// Small hyperparameters per built-in type (fast tests); other types are built with their defaults.
std::pair<std::string, int> small_config(const std::string& type) {
  if (type == "espcn") return {"{type: espcn, num_feat: 8, activation: prelu}", 3};
  if (type == "edsr") return {"{type: edsr, num_feat: 8, num_block: 2}", 2};
  if (type == "rrdbnet") return {"{type: rrdbnet, num_feat: 8, num_block: 1, num_grow_ch: 4}", 2};
  if (type == "srvgg") return {"{type: srvgg_compact, num_feat: 8, num_conv: 2}", 4};
  if (type == "span") return {"{type: span, feature_channels: 8}", 4};
  if (type == "plksr") return {"{type: plksr, dim: 8, n_blocks: 1, kernel_size: 5}", 3};
  if (type == "realplksr") return {"{type: realplksr, dim: 16, n_blocks: 1, kernel_size: 5}", 2};
  if (type == "swinir")
    return {"{type: swinir, embed_dim: 8, depths: [2], num_heads: [2], window_size: 4, img_size: 8, mlp_ratio: 2, "
            "upsampler: pixelshuffle, num_feat: 8}", 2};
  return {"{type: " + type + "}", 4};
}

sm::Generator build(const std::string& type) {
  const auto [yaml, scale] = small_config(type);
  return sm::make_generator(srlab::core::Config::parse(yaml, "test_weight_export"), scale);
}

// The reference for export_check_py.h: each entry's tensors as raw float32 in a .bin, listed in a JSON.
fs::path write_reference(const fs::path& dir, const std::vector<sm::NamedStateDict>& entries) {
  nlohmann::json spec;
  for (const auto& [name, sd] : entries) {
    const fs::path bin = dir / (name + ".bin");
    std::string bytes;
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& [key, t] : sd) {
      const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
      tensors.push_back({{"key", key}, {"shape", c.sizes().vec()}, {"offset", bytes.size()}});
      bytes.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
    }
    srlab::core::write_file_atomic(bin, bytes);
    spec[name] = {{"bin", bin.string()}, {"tensors", tensors}};
  }
  srlab::core::write_file_atomic(dir / "ref.json", spec.dump());
  return dir / "ref.json";
}

bool python_has_torch() {
  static const bool ok = srlab::core::run_command("/usr/bin/python3 -c 'import torch, numpy'").first == 0;
  return ok;
}

// Runs export_check_py.h with `args`; returns (status, output).
std::pair<int, std::string> run_check(const fs::path& dir, const std::string& args) {
  const fs::path script = dir / "export_check.py";
  srlab::core::write_file_atomic(script, srlab::testing::kExportCheckPy);
  return srlab::core::run_command("/usr/bin/python3 " + srlab::core::shell_quote(script.string()) + " " + args);
}

std::string q(const fs::path& p) { return srlab::core::shell_quote(p.string()); }

sm::StateDict small_dict() {
  return {{"conv.weight", torch::arange(24, torch::kFloat32).reshape({2, 3, 2, 2})},
          {"conv.bias", torch::tensor({-1.5f, 2.25f})},
          {"scalar", torch::tensor(3.0f)},
          {"act.weight", torch::full({300}, 0.25f)}};
}

TEST(WeightExport, PthZipLayoutAsTorchSave) {
  TempDir tmp;
  const sm::StateDict sd = small_dict();
  sm::write_pth(tmp.path / "a.pth", {{"params_ema", sd}, {"params", sd}});
  caffe2::serialize::PyTorchStreamReader reader((tmp.path / "a.pth").string());
  // One storage per tensor: the dict given twice shares them (as torch.save shares aliased tensors).
  EXPECT_TRUE(reader.hasRecord("data.pkl"));
  EXPECT_TRUE(reader.hasRecord("data/3"));
  EXPECT_FALSE(reader.hasRecord("data/4"));
  const auto [version, vn] = reader.getRecord("version");
  EXPECT_EQ(std::string(static_cast<const char*>(version.get()), vn), "3\n");
  const auto [order, on] = reader.getRecord("byteorder");
  EXPECT_EQ(std::string(static_cast<const char*>(order.get()), on), "little");
  // std::map order: act.weight, conv.bias, conv.weight, scalar -> data/0..3.
  const auto [bias, bn] = reader.getRecord("data/1");
  ASSERT_EQ(bn, 2 * sizeof(float));
  EXPECT_EQ(static_cast<const float*>(bias.get())[1], 2.25f);
  const auto [pkl, pn] = reader.getRecord("data.pkl");
  const std::string pickle(static_cast<const char*>(pkl.get()), pn);
  EXPECT_EQ(pickle.substr(0, 2), std::string("\x80\x02", 2));
  EXPECT_NE(pickle.find("ccollections\nOrderedDict\n"), std::string::npos);
  EXPECT_NE(pickle.find("ctorch._utils\n_rebuild_tensor_v2\n"), std::string::npos);
  EXPECT_NE(pickle.find("ctorch\nFloatStorage\n"), std::string::npos);
  EXPECT_EQ(pickle.back(), '.');
}

TEST(WeightExport, PythonTorchLoadWeightsOnlyReadsEveryBuiltinArchitecture) {
  if (!python_has_torch())
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch and numpy (install python3-torch: scripts/setup.sh does)";
  for (const auto& [type, summary] : sm::generator_types()) {
    SCOPED_TRACE(type);
    TempDir tmp;
    torch::manual_seed(7);
    const sm::Generator raw = build(type), ema = build(type);  // different random initialisations
    sm::export_pth(tmp.path / "g.pth", raw, ema);
    sm::export_safetensors(tmp.path / "g.safetensors", ema, sm::safetensors_metadata(ema, "type: " + type, "ema"));
    const fs::path ref = write_reference(
        tmp.path, {{"params_ema", sm::module_state_dict(*ema)}, {"params", sm::module_state_dict(*raw)}});
    const auto [rc, out] = run_check(tmp.path, "check_pth " + q(tmp.path / "g.pth") + " " + q(ref));
    EXPECT_EQ(rc, 0) << out;
    const auto [rc2, out2] =
        run_check(tmp.path, "check_safetensors " + q(tmp.path / "g.safetensors") + " " + q(ref) + " params_ema");
    EXPECT_EQ(rc2, 0) << out2;
    EXPECT_NE(out2.find("\"architecture\": \"" + type + "\""), std::string::npos) << out2;
    EXPECT_NE(out2.find("\"scale\": \"" + std::to_string(ema->scale()) + "\""), std::string::npos) << out2;
  }
}

TEST(WeightExport, WithoutEmaBothEntriesHoldTheRawWeights) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 cannot import torch (install python3-torch)";
  TempDir tmp;
  const sm::Generator g = build("srvgg");
  sm::export_pth(tmp.path / "g.pth", g);
  const sm::StateDict sd = sm::module_state_dict(*g);
  const auto [rc, out] = run_check(tmp.path, "check_pth " + q(tmp.path / "g.pth") + " " +
                                                 q(write_reference(tmp.path, {{"params_ema", sd}, {"params", sd}})));
  EXPECT_EQ(rc, 0) << out;
}

TEST(WeightExport, SafetensorsHeaderFollowsTheSpec) {
  const std::string bytes = sm::safetensors_bytes(small_dict(), {{"architecture", "test"}, {"scale", "2"}});
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u);
  const nlohmann::json h = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(h["__metadata__"]["scale"], "2");
  EXPECT_EQ(h["conv.weight"]["dtype"], "F32");
  EXPECT_EQ(h["conv.weight"]["shape"], nlohmann::json({2, 3, 2, 2}));
  EXPECT_EQ(h["scalar"]["shape"], nlohmann::json::array());
  // Key order in the data: act.weight [0,1200), conv.bias [1200,1208), conv.weight [1208,1304), scalar.
  EXPECT_EQ(h["conv.bias"]["data_offsets"], nlohmann::json({1200, 1208}));
  EXPECT_EQ(h["scalar"]["data_offsets"], nlohmann::json({1304, 1308}));
  EXPECT_EQ(bytes.size(), 8 + n + 1308);
  float v = 0;
  std::memcpy(&v, bytes.data() + 8 + n + 1204, sizeof v);
  EXPECT_EQ(v, 2.25f);
}

TEST(WeightExport, BadInputIsAClearError) {
  EXPECT_NE(error_of([] { sm::safetensors_bytes({}, {}); }).find("no tensors"), std::string::npos);
  EXPECT_NE(error_of([] { sm::safetensors_bytes({{"__metadata__", torch::ones({1})}}, {}); })
                .find("invalid tensor name"), std::string::npos);
  EXPECT_NE(error_of([] { sm::safetensors_bytes({{"w", torch::Tensor()}}, {}); }).find("'w'"), std::string::npos);
  EXPECT_NE(error_of([] { sm::torch_save_pickle({{"params", {{"w", "0", {2, 3}, 5}}}}); }).find("storage holds 5"),
            std::string::npos);
  TempDir tmp;
  EXPECT_NE(error_of([&] { sm::write_pth(tmp.path / "x.pth", {}); }).find("x.pth"), std::string::npos);
  EXPECT_NE(error_of([&] { sm::write_pth(tmp.path / "x.pth", {{"a", small_dict()}, {"a", small_dict()}}); })
                .find("given twice"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.path / "x.pth"));
  EXPECT_NE(error_of([&] { sm::export_pth(tmp.path / "y.pth", build("srvgg"), build("edsr")); }).find("differs"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.path / "y.pth"));
}

TEST(WeightExport, FormatFollowsTheExtension) {
  EXPECT_EQ(sm::export_format("", "a/model.PTH"), sm::ExportFormat::kPth);
  EXPECT_EQ(sm::export_format("", "m.pt"), sm::ExportFormat::kPth);
  EXPECT_EQ(sm::export_format("", "m.safetensors"), sm::ExportFormat::kSafetensors);
  EXPECT_EQ(sm::export_format("", "m.onnx"), sm::ExportFormat::kOnnx);
  EXPECT_EQ(sm::export_format("safetensors", "m.bin"), sm::ExportFormat::kSafetensors);
  EXPECT_NE(error_of([] { sm::export_format("", "m.bin"); }).find("--format"), std::string::npos);
  EXPECT_NE(error_of([] { sm::export_format("tflite", "m.pth"); }).find("'tflite'"), std::string::npos);
}

namespace {

// The round trip of issue 12 against the reference code: each interop fixture .pth (saved by BasicSR's /
// the official architecture code) read and detected by SRLab, then written with export_pth, holds in
// Python exactly the fixture's keys and bit-identical tensors (under params_ema and params). The fixture
// loads into its reference architecture with strict=True, so ours does, with the same output.
TEST(WeightExport, FixtureRoundTripIsBitIdenticalInPython) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 cannot import torch (install python3-torch)";
  const auto m = srlab::testing::interop_manifest();
  if (m.is_null()) GTEST_SKIP() << "no <data>/interop fixtures";
  int checked = 0;
  for (const auto& model : m["models"]) {
    const fs::path file = srlab::testing::interop_dir() / model["file"].get<std::string>();
    if (file.extension() != ".pth") continue;  // the .safetensors one: Debian's Python has no safetensors
    SCOPED_TRACE(file.filename().string());
    TempDir tmp;
    const sm::CommunityGenerator c = sm::load_community_generator(file, /*prefer_ema=*/true);
    sm::export_pth(tmp.path / "ours.pth", c.detected.generator);
    const auto [rc, out] = run_check(tmp.path, "check_fixture " + q(tmp.path / "ours.pth") + " " + q(file));
    EXPECT_EQ(rc, 0) << out;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

// The same round trip for the nine zoo fixtures of issue 29 (<data>/interop/zoo; .pth and .safetensors).
TEST(WeightExport, ZooFixtureRoundTripIsBitIdenticalInPython) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 cannot import torch (install python3-torch)";
  const fs::path zoo = srlab::testing::zoo_dir();
  if (zoo.empty() || !fs::exists(zoo / "manifest.json")) GTEST_SKIP() << "no <data>/interop/zoo fixtures";
  const auto m = nlohmann::json::parse(srlab::core::read_file(zoo / "manifest.json"));
  size_t checked = 0;
  for (const auto& model : m["models"]) {
    const fs::path file = zoo / model["file"].get<std::string>();
    SCOPED_TRACE(file.filename().string());
    TempDir tmp;
    const sm::CommunityGenerator c = sm::load_community_generator(file, /*prefer_ema=*/true);
    sm::export_pth(tmp.path / "ours.pth", c.detected.generator);
    const auto [rc, out] = run_check(tmp.path, "check_fixture " + q(tmp.path / "ours.pth") + " " + q(file));
    EXPECT_EQ(rc, 0) << out;
    ++checked;
  }
  EXPECT_EQ(checked, m["models"].size());
}

}  // namespace

}  // namespace test_weight_export
