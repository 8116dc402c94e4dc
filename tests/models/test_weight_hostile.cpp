// Hostile and damaged weight files (issue 28): every case is a clean srlab::Error naming the file (or the
// key), never a crash, never silently wrong weights. The files are made here: pickles by hand, zip
// archives with LibTorch's PyTorchStreamWriter, safetensors headers as JSON text.
#include <gtest/gtest.h>

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "core/config.h"
#include "core/error.h"
#include "models/arch/registry.h"
#include "models/weights/community_weights.h"
#include "models/weights/detect.h"
#include "models/weights/pth_writer.h"
#include "models/weights/safetensors.h"
#include "models/weights/safetensors_writer.h"
#include "models/weights/torch_file.h"
#include "tests/models/weight_file_fixtures.h"
#include "tests/test_util.h"

namespace test_weight_hostile {
using namespace srlab::models;
using namespace std::string_literals;
namespace fs = std::filesystem;
using srlab::testing::error_of;
using srlab::testing::legacy_file;
using srlab::testing::pk_str;
using srlab::testing::write_temp;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// A torch.save-style zip archive whose data.pkl is `pickle`, plus raw `records` (name -> bytes).
fs::path zip_with(const std::string& name, const std::string& pickle,
                  const std::vector<std::pair<std::string, std::string>>& records = {}) {
  const fs::path p = write_temp(name, "");
  {
    caffe2::serialize::PyTorchStreamWriter w(p.string());
    w.writeRecord("data.pkl", pickle.data(), pickle.size());
    for (const auto& [k, v] : records) w.writeRecord(k, v.data(), v.size());
    w.writeEndOfFile();
  }
  return p;
}

/// An 8-byte header length + `header` JSON + `data`: a safetensors file.
fs::path safetensors_file(const std::string& name, const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  std::string bytes(reinterpret_cast<const char*>(&n), 8);
  return write_temp(name, bytes + header + data);
}

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

TEST(HostileWeights, MillionNestedTuplesAreRefusedNotACrash) {
  // "\x80\x02" ")" then TUPLE1 a million times: a million levels deep (it segfaulted `srlab models inspect`).
  const std::string pickle = std::string("\x80\x02)", 3) + std::string(1'000'000, '\x85') + ".";
  const fs::path zip = zip_with("deep_tuples.pth", pickle);
  std::string msg = error_of([&] { read_torch_file(zip); });
  EXPECT_TRUE(contains(msg, zip.string()) && contains(msg, "nested deeper than 100 levels")) << msg;
  const fs::path legacy = write_temp("deep_tuples_legacy.pth", legacy_file(pickle, {}));
  msg = error_of([&] { read_weight_file(legacy); });
  EXPECT_TRUE(contains(msg, legacy.string()) && contains(msg, "nested deeper")) << msg;
}

TEST(HostileWeights, MillionNestedListsAreRefused) {
  // A million empty lists, then APPEND each into the one below it.
  const std::string pickle = "\x80\x02"s + std::string(500'000, ']') + std::string(499'999, 'a') + ".";
  const fs::path zip = zip_with("deep_lists.pth", pickle);
  const std::string msg = error_of([&] { read_weight_file(zip); });
  EXPECT_TRUE(contains(msg, zip.string()) && contains(msg, "nested deeper")) << msg;
}

TEST(HostileWeights, RecursiveAndExponentiallySharedContainersAreRefused) {
  // l = []; l.append(l)
  std::string msg = error_of([&] { read_torch_file(zip_with("self_list.pth", "\x80\x02]q\x00h\x00" "a."s)); });
  EXPECT_TRUE(contains(msg, "placed inside itself")) << msg;
  // a = []; d = {'x': a}; a.append(1): a container changed after being placed in another one
  msg = error_of([&] {
    read_torch_file(zip_with("late_append.pth", "\x80\x02]q\x00}q\x01"s + pk_str("x") + "h\x00s0h\x00K\x01" "a."s));
  });
  EXPECT_TRUE(contains(msg, "changed after being placed")) << msg;
  // t = (); 40 times: t = (t, t) -- 2^40 values reachable through shared references ("billion laughs")
  std::string bomb = "\x80\x02)q\x00"s;
  for (int i = 0; i < 40; ++i) bomb += "h\x00h\x00\x86q\x00"s;
  msg = error_of([&] { read_torch_file(zip_with("laughs.pth", bomb + ".")); });
  EXPECT_TRUE(contains(msg, "more than 10000000 values")) << msg;
}

TEST(HostileWeights, ZipMemberFailingItsCrcIsRefused) {
  StateDict sd{{"conv.weight", torch::arange(64, torch::kFloat32).reshape({4, 4, 2, 2})}};
  const fs::path good = write_temp("crc_good.pth", "");
  write_pth(good, {{"params", sd}});
  ASSERT_NO_THROW(read_weight_file(good));
  std::string bytes = srlab::core::read_file(good);
  // Flip one byte of the stored tensor data (the float 37.0 is unique in the file).
  const float marker = 37.0f;
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&marker), 4));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] ^= 0x01;
  const fs::path bad = write_temp("crc_bad.pth", bytes);
  const std::string msg = error_of([&] { read_weight_file(bad); });
  EXPECT_TRUE(contains(msg, bad.string()) && contains(msg, "is damaged") && contains(msg, "data/")) << msg;
}

TEST(HostileWeights, LegacyStorageLargerThanTheFileIsRefusedBeforeAllocating) {
  // A legacy file whose one storage claims 2^40 float elements.
  std::string pickle = "\x80\x02}("s + pk_str("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" + pk_str("storage") +
                       "ctorch\nFloatStorage\n" + pk_str("0") + pk_str("cpu") + "\x8a\x06\x00\x00\x00\x00\x00\x01"s +
                       "tQK\x00(K\x04t(K\x01t\x89"s + "ccollections\nOrderedDict\n)RtRu.";
  const fs::path f = write_temp("legacy_huge.pth", legacy_file(pickle, {{"0", {1, 2, 3, 4}}}));
  const std::string msg = error_of([&] { read_weight_file(f); });
  EXPECT_TRUE(contains(msg, f.string()) && contains(msg, "more than the file holds")) << msg;
}

TEST(HostileWeights, SafetensorsOverlappingOffsetsAreRefused) {
  const std::string data = floats({1, 2, 3, 4});
  const fs::path f = safetensors_file(
      "overlap.safetensors",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      data);
  const std::string msg = error_of([&] { read_weight_file(f); });
  EXPECT_TRUE(contains(msg, f.string()) && contains(msg, "share bytes") && contains(msg, "'a'") && contains(msg, "'b'"))
      << msg;
}

TEST(HostileWeights, SafetensorsDuplicateKeyIsRefused) {
  // The second "a" points at b's bytes; a JSON parser that keeps the last one would load wrong weights.
  const fs::path f = safetensors_file("dup.safetensors",
                                      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                                      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                      floats({1, 2, 3, 4}));
  const std::string msg = error_of([&] { read_weight_file(f); });
  EXPECT_TRUE(contains(msg, f.string()) && contains(msg, "names 'a' twice")) << msg;
}

TEST(HostileWeights, SafetensorsGapsAndTrailingBytesAreRefused) {
  const std::string data = floats({1, 2, 3, 4});
  const fs::path gap = safetensors_file("gap.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data);
  std::string msg = error_of([&] { read_safetensors(gap); });
  EXPECT_TRUE(contains(msg, gap.string()) && contains(msg, "8 unused bytes before tensor 'a'")) << msg;
  const fs::path tail = safetensors_file("tail.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data);
  msg = error_of([&] { read_safetensors(tail); });
  EXPECT_TRUE(contains(msg, tail.string()) && contains(msg, "the data buffer has 16 bytes but its tensors cover 8")) << msg;
  // The layout rule holds whatever order the header lists the tensors in.
  const fs::path ok = safetensors_file("order.safetensors",
                                       R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                                       R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                       data);
  const SafetensorsContents c = read_safetensors(ok);
  EXPECT_EQ(c.tensors.at("b")[1].item<float>(), 4.0f);
}

TEST(HostileWeights, SafetensorsShapeOverflowNamesTheFile) {
  const fs::path f = safetensors_file(
      "overflow.safetensors", R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", "");
  const std::string msg = error_of([&] { read_weight_file(f); });
  EXPECT_TRUE(contains(msg, f.string()) && contains(msg, "'a'") && contains(msg, "overflows")) << msg;
}

TEST(HostileWeights, SafetensorsListHeaderIsReportedAsSafetensors) {
  const fs::path f = safetensors_file("list.safetensors", R"([{"dtype":"F32","shape":[1],"data_offsets":[0,4]}])",
                                      floats({1}));
  const std::string msg = error_of([&] { read_weight_file(f); });
  EXPECT_TRUE(contains(msg, "safetensors file '" + f.string() + "'") && contains(msg, "header is a JSON array")) << msg;
  EXPECT_FALSE(contains(msg, "torch.save")) << msg;
}

TEST(HostileWeights, NonFiniteWeightsNameTheFileAndTheKey) {
  StateDict sd{{"body.0.weight", torch::ones({2, 2})}, {"body.0.bias", torch::zeros({2})}};
  sd["body.0.weight"][1][0] = std::numeric_limits<float>::quiet_NaN();
  const fs::path st = write_temp("nan.safetensors", "");
  write_safetensors(st, sd, {});
  std::string msg = error_of([&] { read_weight_file(st); });
  EXPECT_TRUE(contains(msg, st.string()) && contains(msg, "'body.0.weight' holds 1 NaN/Inf value")) << msg;
  sd["body.0.weight"][1][0] = 1.0f;
  sd["body.0.bias"][0] = std::numeric_limits<float>::infinity();
  const fs::path pth = write_temp("inf.pth", "");
  write_pth(pth, {{"params", sd}});
  msg = error_of([&] { read_weight_file(pth); });
  EXPECT_TRUE(contains(msg, pth.string()) && contains(msg, "'body.0.bias' holds 1 NaN/Inf value")) << msg;
}

TEST(HostileWeights, BadModelOptionsAreReportedAsOptions) {
  // EDSR-baseline-shaped weights at x2 (detected as `edsr`; res_scale leaves no trace in the weights).
  const Generator g = make_generator(srlab::core::Config::parse("type: edsr\nnum_feat: 8\nnum_block: 1", "test"), 2);
  StateDict sd;
  for (const auto& p : g->named_parameters()) sd[p.key()] = p.value().detach().clone();
  for (const auto& b : g->named_buffers()) sd[b.key()] = b.value().detach().clone();
  ASSERT_NO_THROW(detect_generator(sd, "", {}, "w.pth"));
  for (const std::string& opt : {"res_scale=abc", "res_scale=nan", "res_scale=-1"}) {
    const std::string msg = error_of([&] { detect_generator(sd, "", {opt}, "w.pth"); });
    EXPECT_TRUE(contains(msg, "invalid model option") && contains(msg, "res_scale") && contains(msg, opt) &&
                !contains(msg, "cannot detect the architecture"))
        << opt << ": " << msg;
  }
  std::string msg = error_of([&] { detect_generator(sd, "", {"foo=1"}, "w.pth"); });
  EXPECT_TRUE(contains(msg, "invalid model option") && contains(msg, "foo") && !contains(msg, "cannot detect")) << msg;
  msg = error_of([&] { detect_generator(sd, "", {"res_scale"}, "w.pth"); });
  EXPECT_TRUE(contains(msg, "--model-option 'res_scale'") && contains(msg, "expected key=value")) << msg;
}

}  // namespace test_weight_hostile
