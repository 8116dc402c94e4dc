// Perceptual loss on VGG19 features (losses/vgg_perceptual_loss.h), with randomly initialised networks
// (no VGG19 weights exist offline): the loss equals the hand-written weighted feature distance, is 0 for
// identical images, sends gradients to sr only, builds from YAML with a converted weight file, and
// reports bad keys and missing weights clearly.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "losses/registry.h"
#include "losses/vgg_perceptual_loss.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
namespace sl = srlab::losses;
namespace sm = srlab::models;
using srlab::core::Config;
using srlab::testing::error_of;

namespace test_vgg_perceptual_loss {

sl::LossPtr from_yaml(const std::string& item) {
  Config cfg = Config::parse("loss: " + item, "test_vgg_perceptual.yaml");
  sl::LossPtr l = sl::make_loss(cfg.child("loss"));
  cfg.child("loss").check_known();
  return l;
}

// A converted-layout weight file of a random VGG19 (seed 7), removed again at scope exit (~80 MB). One
// file per process: ctest runs the tests of this file as parallel processes.
struct WeightFile {
  fs::path path = fs::temp_directory_path() / ("srlab_vgg_perceptual_test_" + std::to_string(::getpid()) + ".pt");
  WeightFile() {
    torch::manual_seed(7);
    sm::Vgg19Features net(std::vector<std::string>{"conv1_1"});
    c10::Dict<std::string, torch::Tensor> d;
    for (const auto& p : net->named_parameters(true)) d.insert(p.key().substr(4), p.value().detach().clone());
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~WeightFile() { fs::remove(path); }
  WeightFile(const WeightFile&) = delete;
  WeightFile& operator=(const WeightFile&) = delete;
};

TEST(VggPerceptualLoss, EqualsTheWeightedFeatureDistance) {
  torch::manual_seed(0);
  sm::Vgg19Features net(std::vector<std::string>{"conv2_2", "conv5_4"});
  sl::VggPerceptualOptions o;
  o.layer_weights = {{"conv2_2", 0.1}, {"conv5_4", 1.0}};
  const sl::VggPerceptualLoss l1(net, o);
  o.criterion = "l2";
  const sl::VggPerceptualLoss l2(net, o);
  sl::LossInputs in;
  in.sr = torch::rand({2, 3, 32, 32});
  in.hr = torch::rand({2, 3, 32, 32});
  torch::NoGradGuard ng;
  const auto fs = net->forward(in.sr), fh = net->forward(in.hr);
  const double want1 = 0.1 * (fs[0] - fh[0]).abs().mean().item<double>() + (fs[1] - fh[1]).abs().mean().item<double>();
  const double want2 = 0.1 * (fs[0] - fh[0]).square().mean().item<double>() + (fs[1] - fh[1]).square().mean().item<double>();
  EXPECT_NEAR(l1.forward(in).item<double>(), want1, 1e-6 * want1);
  EXPECT_NEAR(l2.forward(in).item<double>(), want2, 1e-6 * want2);
  EXPECT_GT(want1, 0.0);
  in.hr = in.sr.clone();
  EXPECT_EQ(l1.forward(in).item<double>(), 0.0);
}

TEST(VggPerceptualLoss, GradientsReachSrOnly) {
  torch::manual_seed(1);
  sm::Vgg19Features net(std::vector<std::string>{"conv5_4"});
  const sl::VggPerceptualLoss loss(net, sl::VggPerceptualOptions{});  // ESRGAN default: conv5_4, l1
  sl::LossInputs in;
  in.sr = torch::rand({1, 3, 16, 16}).requires_grad_(true);
  in.hr = torch::rand({1, 3, 16, 16});
  loss.forward(in).backward();
  ASSERT_TRUE(in.sr.grad().defined());
  EXPECT_GT(in.sr.grad().abs().sum().item<double>(), 0.0);
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(VggPerceptualLoss, BuildsFromYamlWithAConvertedFile) {
  const WeightFile file;
  const std::string w = "weights: '" + file.path.string() + "'";
  const auto esrgan = from_yaml("{type: perceptual_vgg, " + w + "}");
  EXPECT_EQ(esrgan->type(), "perceptual_vgg");
  const auto real_esrgan = from_yaml("{type: perceptual_vgg, " + w +
                                     ", layer_weights: {conv1_2: 0.1, conv2_2: 0.1, conv3_4: 1, conv4_4: 1, conv5_4: 1},"
                                     " criterion: l1, use_input_norm: true, range_norm: false}");
  sl::LossInputs in;
  torch::manual_seed(2);
  in.sr = torch::rand({1, 3, 32, 32});
  in.hr = torch::rand({1, 3, 32, 32});
  // Same file, same conv5_4 term: the Real-ESRGAN set adds four non-negative terms.
  const double a = esrgan->forward(in).item<double>(), b = real_esrgan->forward(in).item<double>();
  EXPECT_GT(a, 0.0);
  EXPECT_GT(b, a);
}

TEST(VggPerceptualLoss, ErrorsNameTheKeyAndSayHowToGetWeights) {
  const WeightFile file;
  const std::string w = "weights: '" + file.path.string() + "'";
  std::string m = error_of([&] { from_yaml("{type: perceptual_vgg, " + w + ", layer_weights: {conv6_1: 1}}"); });
  EXPECT_NE(m.find("layer_weights"), std::string::npos) << m;
  EXPECT_NE(m.find("conv6_1"), std::string::npos) << m;
  m = error_of([&] { from_yaml("{type: perceptual_vgg, " + w + ", layer_weights: {conv5_4: 0}}"); });
  EXPECT_NE(m.find("every layer weight is 0"), std::string::npos) << m;
  m = error_of([&] { from_yaml("{type: perceptual_vgg, " + w + ", layer_weights: {conv5_4: -1}}"); });
  EXPECT_NE(m.find(">= 0"), std::string::npos) << m;
  m = error_of([&] { from_yaml("{type: perceptual_vgg, " + w + ", layer_weights: [conv5_4]}"); });
  EXPECT_NE(m.find("must be a map"), std::string::npos) << m;
  m = error_of([&] { from_yaml("{type: perceptual_vgg, " + w + ", criterion: fro}"); });
  EXPECT_NE(m.find("criterion"), std::string::npos) << m;
  m = error_of([&] { from_yaml("{type: perceptual_vgg, " + w + ", layer: conv5_4}"); });
  EXPECT_NE(m.find("layer"), std::string::npos) << m;  // unknown key
  m = error_of([] { from_yaml("{type: perceptual_vgg, weights: /nonexistent/vgg19.pt}"); });
  EXPECT_NE(m.find("/nonexistent/vgg19.pt"), std::string::npos) << m;
  EXPECT_NE(m.find("convert_vgg19_weights.py"), std::string::npos) << m;
  sl::LossInputs in;
  in.sr = torch::rand({1, 3, 8, 8});
  in.hr = torch::rand({1, 3, 8, 8});
  const auto l = from_yaml("{type: perceptual_vgg, " + w + "}");
  m = error_of([&] { l->forward(in); });
  EXPECT_NE(m.find("16 px"), std::string::npos) << m;
}

}  // namespace test_vgg_perceptual_loss
