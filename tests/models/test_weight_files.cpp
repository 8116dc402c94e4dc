// Community weight files: the restricted unpickler, torch.save zip/legacy containers, safetensors and
// unwrapping, against the reference fixtures in <data>/interop (saved by the architectures' reference
// code) and hand-made bad files.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>

#include "core/config.h"
#include "models/arch/registry.h"
#include "models/weights/checkpoint.h"
#include "models/weights/community_weights.h"
#include "models/weights/pickle_reader.h"
#include "models/weights/safetensors.h"
#include "models/weights/safetensors_writer.h"
#include "models/weights/weight_file.h"
#include "tests/test_util.h"
#include "tests/models/weight_file_fixtures.h"

namespace test_weight_files {
using namespace srlab::models;
using srlab::testing::error_of;
using srlab::testing::interop_dir;
using srlab::testing::interop_manifest;
using srlab::testing::legacy_file;
using srlab::testing::pk_str;
using srlab::testing::pk_tensor;
using srlab::testing::write_temp;

#define REQUIRE_FIXTURES(m) \
  if ((m).is_null()) GTEST_SKIP() << "no <data>/interop fixtures (set SRLAB_DATA)"

// Container and wrapper each fixture was saved with (manifest "container").
struct Expected {
  WeightContainer container;
  std::string wrapper;
  std::vector<std::string> prefixes;
};
Expected expected_for(const std::string& c) {
  if (c == "basicsr_ema_zip") return {WeightContainer::kTorchZip, "params_ema", {}};
  if (c == "basicsr_params_legacy") return {WeightContainer::kTorchLegacy, "params", {}};
  if (c == "basicsr_params_zip") return {WeightContainer::kTorchZip, "params", {}};
  if (c == "module_prefix_zip") return {WeightContainer::kTorchZip, "", {"module."}};
  if (c == "bare_zip") return {WeightContainer::kTorchZip, "", {}};
  if (c == "safetensors") return {WeightContainer::kSafetensors, "", {}};
  ADD_FAILURE() << "unknown container " << c;
  return {};
}

TEST(WeightFiles, ReadsEveryFixtureContainer) {
  const auto m = interop_manifest();
  REQUIRE_FIXTURES(m);
  for (const auto& model : m["models"]) {
    SCOPED_TRACE(model["name"].get<std::string>());
    const WeightFileContents w = read_weight_file(interop_dir() / model["file"].get<std::string>());
    const Expected e = expected_for(model["container"].get<std::string>());
    EXPECT_EQ(w.container, e.container);
    EXPECT_EQ(w.wrapper_key, e.wrapper);
    EXPECT_EQ(w.stripped_prefixes, e.prefixes);
    EXPECT_EQ(static_cast<int64_t>(w.state_dict.size()), model["tensors"].get<int64_t>());
    for (const auto& [k, t] : w.state_dict) {
      EXPECT_TRUE(t.defined()) << k;
      EXPECT_EQ(k.rfind("module.", 0), std::string::npos) << k;
    }
  }
}

// The implemented architectures built from the manifest hyperparameters, loaded strictly from the
// unwrapped state dict, reproduce the reference output: checks every byte the reader produced.
TEST(WeightFiles, FixtureTensorsReproduceReferenceOutputs) {
  const auto m = interop_manifest();
  REQUIRE_FIXTURES(m);
  int checked = 0;
  for (const auto& model : m["models"]) {
    const std::string arch = model["source_arch"].get<std::string>();
    const auto& h = model["hyperparameters"];
    std::string yaml;
    int scale = 0;
    if (arch == "rrdbnet_arch.RRDBNet") {
      yaml = fmt::format("type: rrdbnet\nnum_feat: {}\nnum_block: {}\nnum_grow_ch: {}\n", h["num_feat"].get<int>(),
                         h["num_block"].get<int>(), h["num_grow_ch"].get<int>());
      scale = h["scale"].get<int>();
    } else if (arch == "srvgg_arch.SRVGGNetCompact") {
      yaml = fmt::format("type: srvgg_compact\nnum_feat: {}\nnum_conv: {}\nact_type: {}\n", h["num_feat"].get<int>(),
                         h["num_conv"].get<int>(), h["act_type"].get<std::string>());
      scale = h["upscale"].get<int>();
    } else if (arch == "edsr_arch.EDSR") {
      yaml = fmt::format("type: edsr\nnum_feat: {}\nnum_block: {}\nres_scale: {}\nimg_range: {}\n",
                         h["num_feat"].get<int>(), h["num_block"].get<int>(), h["res_scale"].get<double>(),
                         h["img_range"].get<double>());
      scale = h["upscale"].get<int>();
    } else {
      continue;
    }
    SCOPED_TRACE(model["name"].get<std::string>());
    const auto file = interop_dir() / model["file"].get<std::string>();
    Generator g = make_generator(srlab::core::Config::parse(yaml, "test"), scale);
    load_parameters_strict(*g, read_weight_file(file).state_dict, "", file, "weights", "");
    g->eval();
    torch::NoGradGuard ng;
    const auto in = srlab::testing::read_f32(interop_dir() / model["input"]["file"].get<std::string>(), model["input"]["shape"]);
    const auto ref = srlab::testing::read_f32(interop_dir() / model["output"]["file"].get<std::string>(), model["output"]["shape"]);
    const auto out = g->forward(in);
    ASSERT_EQ(out.sizes(), ref.sizes());
    EXPECT_LE((out - ref).abs().max().item<double>(), srlab::testing::reference_tolerance(ref));
    ++checked;
  }
  EXPECT_EQ(checked, 4);  // 2 RRDBNet, 1 SRVGG, 1 EDSR
}

TEST(WeightFiles, PrefersEmaUnlessAskedForRawAndKeepsOtherEntries) {
  // {'params': OrderedDict(w=[1,2]), 'params_ema': {'module.w': [3,4]}, 'iter': 7}, legacy format
  const std::string obj = "\x80\x02}(" + pk_str("params") + "ccollections\nOrderedDict\n)R(" + pk_str("w") +
                          pk_tensor("0", 2) + "u" + pk_str("params_ema") + "}(" + pk_str("w") + pk_tensor("1", 2) +
                          "u" + pk_str("iter") + "K\x07u.";
  const auto file = write_temp("ema.pth", legacy_file(obj, {{"0", {1.f, 2.f}}, {"1", {3.f, 4.f}}}));
  const WeightFileContents ema = read_weight_file(file);
  EXPECT_EQ(ema.container, WeightContainer::kTorchLegacy);
  EXPECT_EQ(ema.wrapper_key, "params_ema");
  EXPECT_TRUE(ema.has_ema_and_raw);
  ASSERT_EQ(ema.state_dict.count("w"), 1u);
  EXPECT_TRUE(torch::equal(ema.state_dict.at("w"), torch::tensor({3.f, 4.f})));
  EXPECT_NE(std::find(ema.other_entries.begin(), ema.other_entries.end(), "iter: int 7"), ema.other_entries.end());
  const WeightFileContents raw = read_weight_file(file, /*prefer_ema=*/false);
  EXPECT_EQ(raw.wrapper_key, "params");
  EXPECT_TRUE(torch::equal(raw.state_dict.at("w"), torch::tensor({1.f, 2.f})));
  std::filesystem::remove(file);
}

TEST(WeightFiles, StripsModuleAndNetGPrefixes) {
  StateDict sd{{"netG.module.a", torch::zeros({1})}, {"netG.module.b", torch::zeros({1})}};
  EXPECT_EQ(strip_wrapper_prefixes(sd), (std::vector<std::string>{"netG.", "module."}));
  EXPECT_EQ(sd.count("a") + sd.count("b"), 2u);
  StateDict mixed{{"module.a", torch::zeros({1})}, {"b", torch::zeros({1})}};
  EXPECT_TRUE(strip_wrapper_prefixes(mixed).empty());
}

// Files saved after a thop FLOP count carry total_ops/total_params buffers on every module (OmniSR, DAT
// releases): they are dropped, the model loads, and inspect lists what was dropped.
TEST(WeightFiles, DropsThopProfilingBuffers) {
  StateDict sd{{"total_ops", torch::zeros({1}, torch::kFloat64)}, {"a.total_params", torch::zeros({1})},
               {"a.weight", torch::ones({2})}, {"total_opsx", torch::zeros({1})}};
  EXPECT_EQ(drop_profiling_buffers(sd), 2u);
  EXPECT_EQ(sd.size(), 2u);
  EXPECT_EQ(sd.count("total_opsx"), 1u);

  torch::manual_seed(3);
  const Generator g = make_generator(srlab::core::Config::parse("type: espcn\nnum_feat: 8", "espcn"), 2);
  StateDict with_thop;
  for (const auto& p : g->named_parameters(true)) {
    with_thop[p.key()] = p.value().detach();
    const auto dot = p.key().rfind('.');
    with_thop[p.key().substr(0, dot) + ".total_ops"] = torch::zeros({1}, torch::kFloat64);
    with_thop[p.key().substr(0, dot) + ".total_params"] = torch::zeros({1}, torch::kFloat64);
  }
  with_thop["total_ops"] = torch::zeros({1}, torch::kFloat64);
  const auto file = srlab::testing::process_temp_dir() / "thop.safetensors";
  write_safetensors(file, with_thop, {});
  const WeightFileContents c = read_weight_file(file);
  EXPECT_EQ(c.state_dict.size(), g->named_parameters(true).size());
  EXPECT_NE(fmt::format("{}", fmt::join(c.other_entries, "; ")).find("thop profiling buffers"), std::string::npos);
  const Generator loaded = load_generator(file);
  EXPECT_EQ(loaded->type(), "espcn");
}

TEST(WeightFiles, RefusesForbiddenGlobalsWithoutCallingThem) {
  // pickle of os.system('touch <marker>') (what a malicious .pth holds)
  const auto marker = std::filesystem::temp_directory_path() / ("srlab_pwned_" + std::to_string(::getpid()));
  const std::string evil = "\x80\x02" "cos\nsystem\n" + pk_str("touch " + marker.string()) + "\x85R.";
  size_t pos = 0;
  const std::string msg = error_of([&] { unpickle(evil.data(), evil.size(), pos, "evil.pth", {}); });
  EXPECT_NE(msg.find("refusing to load 'os.system' from 'evil.pth'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("weight files may only hold tensors"), std::string::npos) << msg;
  const auto file = write_temp("evil.pth", legacy_file(evil, {}));
  const std::string msg2 = error_of([&] { read_weight_file(file); });
  EXPECT_NE(msg2.find("refusing to load 'os.system'"), std::string::npos) << msg2;
  EXPECT_NE(msg2.find(file.string()), std::string::npos) << msg2;
  EXPECT_FALSE(std::filesystem::exists(marker));
  // the same via protocol 4's STACK_GLOBAL
  const std::string evil4 = "\x80\x04" + pk_str("builtins") + pk_str("eval") + "\x93" + pk_str("1") + "\x85R.";
  pos = 0;
  EXPECT_NE(error_of([&] { unpickle(evil4.data(), evil4.size(), pos, "e4", {}); }).find("'builtins.eval'"),
            std::string::npos);
  std::filesystem::remove(file);
}

TEST(WeightFiles, TruncatedFilesAreClearErrors) {
  const auto m = interop_manifest();
  REQUIRE_FIXTURES(m);
  for (const char* name : {"rrdbnet_x4_f32_b2_g32.pth", "rrdbnet_x2_f16_b1_g8.pth"}) {
    const std::string bytes = srlab::core::read_file(interop_dir() / name);
    for (double frac : {0.5, 0.999}) {
      const auto file = write_temp(std::string("trunc_") + name, bytes.substr(0, static_cast<size_t>(bytes.size() * frac)));
      const std::string msg = error_of([&] { read_weight_file(file); });
      EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
      std::filesystem::remove(file);
    }
  }
}

TEST(WeightFiles, NonWeightTorchFilesAreRejected) {
  // torch.save([1, 2]) and torch.save({'lr': 0.1}) in the legacy format
  const auto list = write_temp("list.pth", legacy_file("\x80\x02](K\x01K\x02" "e.", {}));  // "e" split off: "\x02e" is one hex escape
  const std::string list_msg = error_of([&] { read_weight_file(list); });
  EXPECT_NE(list_msg.find("holds a list, not a state dict"), std::string::npos) << list_msg;
  const auto dict = write_temp("dict.pth", legacy_file("\x80\x02}" + pk_str("lr") + "K\x01s.", {}));
  EXPECT_NE(error_of([&] { read_weight_file(dict); }).find("holds no tensors"), std::string::npos);
  const auto text = write_temp("text.pth", "hello, not a weight file");
  EXPECT_NE(error_of([&] { read_weight_file(text); }).find(text.string()), std::string::npos);
  for (const auto& f : {list, dict, text}) std::filesystem::remove(f);
}

TEST(WeightFiles, TensorViewsOutsideTheirStorageAreRejected) {
  // a tensor of 4 elements over a storage of 2
  std::string obj = "\x80\x02}" + pk_str("w") + pk_tensor("0", 4) + "s.";
  const auto file = write_temp("oob.pth", legacy_file(obj, {{"0", {1.f, 2.f}}}));
  const std::string msg = error_of([&] { read_weight_file(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  std::filesystem::remove(file);
}

// --- safetensors ---
std::string safetensors_bytes(const std::string& header, const std::string& data, int64_t claimed_len = -1) {
  const uint64_t n = claimed_len >= 0 ? static_cast<uint64_t>(claimed_len) : header.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + header + data;
}

TEST(Safetensors, ConvertsHalfAndBFloat16AndKeepsMetadata) {
  const uint16_t half[2] = {0x3E00, 0xC000};  // 1.5, -2.0 (IEEE binary16)
  const uint16_t bf16[2] = {0x3FC0, 0xC020};  // 1.5, -2.5 (bfloat16)
  const float f32[1] = {0.25f};
  std::string data(reinterpret_cast<const char*>(half), 4);
  data.append(reinterpret_cast<const char*>(bf16), 4);
  data.append(reinterpret_cast<const char*>(f32), 4);
  const std::string header =
      R"({"__metadata__":{"arch":"x"},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"BF16","shape":[1,2],"data_offsets":[4,8]},"f":{"dtype":"F32","shape":[],"data_offsets":[8,12]}})";
  const auto file = write_temp("ok.safetensors", safetensors_bytes(header, data));
  const SafetensorsContents st = read_safetensors(file);
  EXPECT_TRUE(torch::equal(st.tensors.at("h"), torch::tensor({1.5f, -2.0f})));
  EXPECT_TRUE(torch::equal(st.tensors.at("b"), torch::tensor({{1.5f, -2.5f}})));
  EXPECT_EQ(st.tensors.at("f").item<float>(), 0.25f);
  EXPECT_EQ(st.dtypes.at("h"), "F16");
  EXPECT_EQ(st.metadata.at("arch"), "x");
  std::filesystem::remove(file);
}

TEST(Safetensors, BadHeadersAreClearErrors) {
  const std::string data(8, '\0');
  const auto wrong_dtype = write_temp("dtype.safetensors",
      safetensors_bytes(R"({"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", data));
  std::string msg = error_of([&] { read_weight_file(wrong_dtype); });
  EXPECT_NE(msg.find("tensor 'w' has dtype 'F8_E4M3'"), std::string::npos) << msg;
  const auto too_long = write_temp("len.safetensors",
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data, 1'000'000));
  msg = error_of([&] { read_safetensors(too_long); });
  EXPECT_NE(msg.find("header length 1000000 is beyond the file size"), std::string::npos) << msg;
  const auto outside = write_temp("off.safetensors",
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data));
  msg = error_of([&] { read_safetensors(outside); });
  EXPECT_NE(msg.find("beyond the 8-byte data buffer"), std::string::npos) << msg;
  const auto mismatch = write_temp("size.safetensors",
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data));
  msg = error_of([&] { read_safetensors(mismatch); });
  EXPECT_NE(msg.find("has 8 bytes of data"), std::string::npos) << msg;
  for (const auto& f : {wrong_dtype, too_long, outside, mismatch}) std::filesystem::remove(f);
}

}  // namespace test_weight_files
