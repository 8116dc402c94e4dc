// LPIPS with the AlexNet and VGG16 backbones: no real weights exist offline, so these tests check the
// layout a converted file must have (torchvision names and shapes), loading of such a file, tap shapes,
// the metric's basic properties and the errors — never reference values.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "models/features/lpips.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
namespace sm = srlab::models;
using srlab::testing::error_of;

namespace test_lpips_backbones {

// Writes a weight file in the converted layout (dict name -> tensor, torch.save zip format) with
// random non-negative lin weights, optionally dropping or reshaping one tensor.
fs::path write_weights(const std::string& net, const std::string& drop = "", const std::string& reshape = "") {
  sm::Lpips ref(net);
  c10::Dict<std::string, torch::Tensor> d;
  torch::manual_seed(5);
  for (const auto& p : ref->named_parameters(true)) {
    std::string name = p.key();
    if (name.rfind("net.", 0) == 0) name = name.substr(4);
    if (name == drop) continue;
    torch::Tensor t = name.rfind("lin", 0) == 0 ? torch::rand(p.value().sizes()) : p.value().detach().clone();
    if (name == reshape) t = torch::rand({1, 2, 3});
    d.insert(name, t);
  }
  const fs::path path = srlab::testing::process_temp_dir() / ("srlab_lpips_" + net + "_" + drop + reshape + ".pt");
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(LpipsBackbones, TorchvisionNamesAndShapes) {
  sm::Lpips alex("alex");
  auto ap = alex->named_parameters(true);
  EXPECT_EQ(ap["net.features.0.weight"].sizes(), torch::IntArrayRef({64, 3, 11, 11}));
  EXPECT_EQ(ap["net.features.3.weight"].sizes(), torch::IntArrayRef({192, 64, 5, 5}));
  EXPECT_EQ(ap["net.features.10.weight"].sizes(), torch::IntArrayRef({256, 256, 3, 3}));
  EXPECT_EQ(ap["lin4.model.1.weight"].sizes(), torch::IntArrayRef({1, 256, 1, 1}));
  EXPECT_EQ(ap.size(), 10u + 5u);  // 5 convs (weight + bias) + 5 lins
  sm::Lpips vgg("vgg");
  auto vp = vgg->named_parameters(true);
  EXPECT_EQ(vp["net.features.0.weight"].sizes(), torch::IntArrayRef({64, 3, 3, 3}));
  EXPECT_EQ(vp["net.features.28.weight"].sizes(), torch::IntArrayRef({512, 512, 3, 3}));
  EXPECT_EQ(vp["lin2.model.1.weight"].sizes(), torch::IntArrayRef({1, 256, 1, 1}));
  EXPECT_EQ(vp.size(), 26u + 5u);  // 13 convs + 5 lins
}

TEST(LpipsBackbones, TapShapes) {
  torch::NoGradGuard ng;
  const auto x = torch::rand({1, 3, 64, 64});
  const auto alex_taps = sm::alexnet_lpips_features()->forward(x);
  ASSERT_EQ(alex_taps.size(), 5u);
  EXPECT_EQ(alex_taps[0].sizes(), torch::IntArrayRef({1, 64, 15, 15}));   // (64+4-11)/4+1
  EXPECT_EQ(alex_taps[1].sizes(), torch::IntArrayRef({1, 192, 7, 7}));
  EXPECT_EQ(alex_taps[4].sizes(), torch::IntArrayRef({1, 256, 3, 3}));
  const auto vgg_taps = sm::vgg16_lpips_features()->forward(x);
  ASSERT_EQ(vgg_taps.size(), 5u);
  EXPECT_EQ(vgg_taps[0].sizes(), torch::IntArrayRef({1, 64, 64, 64}));
  EXPECT_EQ(vgg_taps[4].sizes(), torch::IntArrayRef({1, 512, 4, 4}));
}

TEST(LpipsBackbones, ConvertedFileLoadsAndMetricBehaves) {
  for (const std::string net : {"alex", "vgg"}) {
    sm::Lpips m = sm::load_lpips(write_weights(net), net);
    torch::manual_seed(1);
    const auto a = torch::rand({2, 3, 40, 40}), b = torch::rand({2, 3, 40, 40});
    torch::NoGradGuard ng;
    const auto d = m->forward(a, b);
    EXPECT_EQ(d.sizes(), torch::IntArrayRef({2}));
    EXPECT_GT(d.min().item<double>(), 0.0) << net;
    EXPECT_EQ(m->forward(a, a).abs().max().item<double>(), 0.0) << net;
    EXPECT_NEAR(m->forward(b, a)[0].item<double>(), d[0].item<double>(), 1e-6) << net;
  }
}

TEST(LpipsBackbones, Errors) {
  EXPECT_NE(error_of([] { sm::load_lpips(write_weights("alex", "features.3.weight"), "alex"); }).find("features.3.weight"),
            std::string::npos);
  EXPECT_NE(error_of([] { sm::load_lpips(write_weights("vgg", "", "lin0.model.1.weight"), "vgg"); }).find("lin0.model.1.weight"),
            std::string::npos);
  // A squeeze file is not an AlexNet file.
  EXPECT_NE(error_of([] { sm::load_lpips(write_weights("squeeze"), "alex"); }).find("alex"), std::string::npos);
  EXPECT_NE(error_of([] { sm::Lpips m("resnet"); }).find("squeeze, alex or vgg"), std::string::npos);
  sm::Lpips alex("alex");
  const auto small = torch::rand({1, 3, 30, 30});
  EXPECT_NE(error_of([&] { alex->forward(small, small); }).find(">= 31"), std::string::npos);
  EXPECT_NO_THROW(alex->forward(torch::rand({1, 3, 31, 31}), torch::rand({1, 3, 31, 31})));
}

}  // namespace test_lpips_backbones
