// VGG19 feature extractor (models/features/vgg19_features.h) and the weight-file helpers (models/weights/weight_file.h).
// No VGG19 weights exist offline, so these tests check what a converted file must look like
// (torchvision's names and shapes), BasicSR's layer names, tap shapes and pre-activation taps, the
// input normalisation, loading and the errors; never reference values of the pretrained network.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "models/features/vgg19_features.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
namespace sm = srlab::models;
using srlab::testing::error_of;

namespace test_vgg19_features {

// Writes `net`'s parameters in the converted layout (torchvision names, dict name -> tensor), optionally
// dropping one tensor or adding an unexpected one.
fs::path write_weights(const sm::Vgg19Features& net, const std::string& tag, const std::string& drop = "",
                       bool add_classifier = false) {
  c10::Dict<std::string, torch::Tensor> d;
  for (const auto& p : net->named_parameters(true)) {
    const std::string name = p.key().substr(4);  // "net."
    if (name != drop) d.insert(name, p.value().detach().clone());
  }
  if (add_classifier) d.insert("classifier.0.weight", torch::zeros({4096, 25088 / 64}));
  const fs::path path = srlab::testing::process_temp_dir() / ("srlab_vgg19_" + tag + ".pt");
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(Vgg19Features, BasicSRLayerNamesMapToTorchvisionIndices) {
  const auto& names = sm::vgg19_layer_names();
  ASSERT_EQ(names.size(), 37u);  // torchvision vgg19().features has 37 modules
  EXPECT_EQ(sm::vgg19_layer_index("conv1_1"), 0u);
  EXPECT_EQ(sm::vgg19_layer_index("relu1_2"), 3u);
  EXPECT_EQ(sm::vgg19_layer_index("pool1"), 4u);
  EXPECT_EQ(sm::vgg19_layer_index("conv2_2"), 7u);
  EXPECT_EQ(sm::vgg19_layer_index("conv3_4"), 16u);
  EXPECT_EQ(sm::vgg19_layer_index("conv4_4"), 25u);
  EXPECT_EQ(sm::vgg19_layer_index("conv5_4"), 34u);  // ESRGAN's layer, before activation
  EXPECT_EQ(sm::vgg19_layer_index("relu5_4"), 35u);
  EXPECT_EQ(sm::vgg19_layer_index("pool5"), 36u);
  const std::string msg = error_of([] { sm::vgg19_layer_index("conv5_5"); });
  EXPECT_NE(msg.find("conv5_5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("conv5_4"), std::string::npos) << msg;  // lists the valid names
}

TEST(Vgg19Features, TorchvisionParameterNamesAndShapes) {
  sm::Vgg19Features net(std::vector<std::string>{"conv5_4"});
  const auto p = net->named_parameters(true);
  EXPECT_EQ(p.size(), 32u);  // 16 convolutions, weight + bias
  EXPECT_EQ(p["net.features.0.weight"].sizes(), torch::IntArrayRef({64, 3, 3, 3}));
  EXPECT_EQ(p["net.features.10.weight"].sizes(), torch::IntArrayRef({256, 128, 3, 3}));  // conv3_1
  EXPECT_EQ(p["net.features.19.weight"].sizes(), torch::IntArrayRef({512, 256, 3, 3}));  // conv4_1
  EXPECT_EQ(p["net.features.34.weight"].sizes(), torch::IntArrayRef({512, 512, 3, 3}));  // conv5_4
  EXPECT_EQ(p["net.features.34.bias"].sizes(), torch::IntArrayRef({512}));
  for (const auto& kv : p) EXPECT_FALSE(kv.value().requires_grad()) << kv.key();
}

TEST(Vgg19Features, TapsAreSortedByDepthWithTheirShapesAndMinimumSize) {
  torch::manual_seed(0);
  sm::Vgg19Features net(std::vector<std::string>{"relu5_4", "conv1_2", "conv3_4"});
  EXPECT_EQ(net->layers(), (std::vector<std::string>{"conv1_2", "conv3_4", "relu5_4"}));
  EXPECT_EQ(net->min_size(), 16);  // 4 max-pools before conv5_4
  torch::NoGradGuard ng;
  const auto f = net->forward(torch::rand({2, 3, 64, 48}));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].sizes(), torch::IntArrayRef({2, 64, 64, 48}));
  EXPECT_EQ(f[1].sizes(), torch::IntArrayRef({2, 256, 16, 12}));
  EXPECT_EQ(f[2].sizes(), torch::IntArrayRef({2, 512, 4, 3}));
  EXPECT_EQ(sm::Vgg19Features(std::vector<std::string>{"pool5"})->min_size(), 32);
  EXPECT_EQ(sm::Vgg19Features(std::vector<std::string>{"conv2_1"})->min_size(), 2);
  std::string msg = error_of([&] { net->forward(torch::rand({1, 3, 15, 64})); });
  EXPECT_NE(msg.find("16"), std::string::npos) << msg;
  msg = error_of([&] { net->forward(torch::rand({1, 1, 32, 32})); });
  EXPECT_NE(msg.find("(N,3,H,W)"), std::string::npos) << msg;
  msg = error_of([] { sm::Vgg19Features(std::vector<std::string>{"conv1_1", "conv1_1"}); });
  EXPECT_NE(msg.find("twice"), std::string::npos) << msg;
  msg = error_of([] { sm::Vgg19Features(std::vector<std::string>{}); });
  EXPECT_NE(msg.find("no layers"), std::string::npos) << msg;
}

TEST(Vgg19Features, ConvTapsArePreActivation) {
  torch::manual_seed(1);
  sm::Vgg19Features net(std::vector<std::string>{"conv5_4", "relu5_4"});
  torch::NoGradGuard ng;
  const auto f = net->forward(torch::rand({1, 3, 32, 32}));
  EXPECT_LT(f[0].min().item<double>(), 0.0);  // ESRGAN: features before the ReLU keep negative values
  EXPECT_TRUE(torch::equal(f[1], torch::relu(f[0])));
}

TEST(Vgg19Features, ImageNetInputNormalisation) {
  torch::manual_seed(2);
  sm::Vgg19Features normed(std::vector<std::string>{"conv2_2"}, /*use_input_norm=*/true);
  sm::Vgg19Features raw(std::vector<std::string>{"conv2_2"}, /*use_input_norm=*/false);
  sm::Vgg19Features ranged(std::vector<std::string>{"conv2_2"}, true, /*range_norm=*/true);
  {
    torch::NoGradGuard ng;
    auto src = normed->named_parameters(true);
    for (auto& kv : raw->named_parameters(true)) kv.value().copy_(src[kv.key()]);
    for (auto& kv : ranged->named_parameters(true)) kv.value().copy_(src[kv.key()]);
  }
  torch::NoGradGuard ng;
  const auto x = torch::rand({1, 3, 24, 24});
  const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(normed->forward(x)[0], raw->forward((x - mean) / std)[0], 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(ranged->forward(x * 2 - 1)[0], normed->forward(x)[0], 1e-5, 1e-5));
}

TEST(Vgg19Features, ConvertedFileLoadsStrictly) {
  torch::manual_seed(3);
  sm::Vgg19Features src(std::vector<std::string>{"conv5_4"});
  const fs::path ok = write_weights(src, "ok");
  sm::Vgg19Features loaded = sm::load_vgg19_features(ok, {"conv5_4", "conv1_2"});
  auto sp = src->named_parameters(true);
  for (const auto& kv : loaded->named_parameters(true)) {
    EXPECT_TRUE(torch::equal(kv.value(), sp[kv.key()])) << kv.key();
    EXPECT_FALSE(kv.value().requires_grad()) << kv.key();
  }
  EXPECT_FALSE(loaded->is_training());

  std::string msg = error_of([&] { sm::load_vgg19_features(write_weights(src, "drop", "features.34.bias"), {"conv5_4"}); });
  EXPECT_NE(msg.find("features.34.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("convert_vgg19_weights.py"), std::string::npos) << msg;
  msg = error_of([&] { sm::load_vgg19_features(write_weights(src, "extra", "", true), {"conv5_4"}); });
  EXPECT_NE(msg.find("unexpected tensor 'classifier.0.weight'"), std::string::npos) << msg;
  // A VGG16 file (13 convolutions) is not a VGG19 file.
  msg = error_of([&] {
    sm::load_vgg19_features(write_weights(src, "vgg16ish", "features.34.weight"), {"conv5_4"});
  });
  EXPECT_NE(msg.find("features.34.weight"), std::string::npos) << msg;
  const fs::path garbage = srlab::testing::process_temp_dir() / "srlab_vgg19_garbage.pt";
  std::ofstream(garbage) << "not a torch file";
  msg = error_of([&] { sm::load_vgg19_features(garbage, {"conv5_4"}); });
  EXPECT_NE(msg.find("not a readable torch.save file"), std::string::npos) << msg;
  EXPECT_NE(msg.find(garbage.string()), std::string::npos) << msg;
  fs::remove(garbage);
}

TEST(Vgg19Features, WeightResolutionSaysWhereItLookedAndHowToConvert) {
  ::unsetenv("SRLAB_VGG19_WEIGHTS");
  std::string msg = error_of([] { sm::resolve_vgg19_weights("/nonexistent/vgg19.pt"); });
  EXPECT_NE(msg.find("/nonexistent/vgg19.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("convert_vgg19_weights.py"), std::string::npos) << msg;
  ::setenv("SRLAB_VGG19_WEIGHTS", "/nonexistent/env_vgg19.pt", 1);
  msg = error_of([] { sm::resolve_vgg19_weights(""); });
  EXPECT_NE(msg.find("SRLAB_VGG19_WEIGHTS='/nonexistent/env_vgg19.pt'"), std::string::npos) << msg;
  ::unsetenv("SRLAB_VGG19_WEIGHTS");
  // The default place: SRLab ships no VGG19 weights, so it is not found unless a user put one there.
  try {
    const fs::path p = sm::resolve_vgg19_weights("");
    EXPECT_EQ(p.filename(), "vgg19_features.pt");
  } catch (const srlab::Error& e) {
    msg = e.what();
    EXPECT_NE(msg.find("weights/vgg/vgg19_features.pt"), std::string::npos) << msg;
    EXPECT_NE(msg.find("$SRLAB_VGG19_WEIGHTS: not set"), std::string::npos) << msg;
  }
  // An explicit file and the environment variable are taken as given.
  torch::manual_seed(4);
  const fs::path f = write_weights(sm::Vgg19Features(std::vector<std::string>{"conv1_1"}), "resolve");
  EXPECT_EQ(sm::resolve_vgg19_weights(f.string()), f);
  ::setenv("SRLAB_VGG19_WEIGHTS", f.c_str(), 1);
  EXPECT_EQ(sm::resolve_vgg19_weights(""), f);
  ::unsetenv("SRLAB_VGG19_WEIGHTS");
  fs::remove(f);
}

}  // namespace test_vgg19_features
