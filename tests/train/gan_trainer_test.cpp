// GAN training mode (train/gan_step.h, GanConfig in train/train_config.h): tiny end-to-end runs on
// Set5 x2 (HR and LR folders from ../shared/data) with a small SRVGG generator and a U-Net
// discriminator; metrics.csv columns, checkpoint contents, bit-exact resume, init_from, config errors
// and non-finite discriminator losses.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "core/error.h"
#include "losses/weighted_loss.h"
#include "models/weights/checkpoint.h"
#include "models/arch/registry.h"
#include "train/gan_step.h"
#include "train/train_config.h"
#include "tests/test_device.h"
#include "tests/test_util.h"
#include "tests/train/helpers.h"

namespace fs = std::filesystem;
using srlab::core::Config;
using srlab::testing::error_of;
using srlab::testing::run_train;

namespace test_gan_trainer_test {

// A tiny GAN run: srvgg_compact (8 features, 2 convs) x2, unet_sn (8 features), batch 2, LR patch 8
// (HR patch 16, a multiple of the U-Net's 8), 6 iterations, Set5 x2 HR + LR folders.
std::string gan_yaml(const std::string& name, const std::string& losses = "[{type: l1, weight: 1.0}, {type: gan, gan_type: vanilla, weight: 0.1}]") {
  const std::string val = srlab::testing::make_train_dataset().string();
  return "name: " + name + R"(
seed: 11
device: )" + srlab::testing::test_device_yaml() + R"(
threads: 1
scale: 2
model: {type: srvgg_compact, num_feat: 8, num_conv: 2}
discriminator: {type: unet_sn, num_feat: 8}
d_optimizer: {type: adam, lr: 1.0e-3, betas: [0.9, 0.99]}
data:
  train:
    hr_dirs: ["${data}/benchmarks/Set5/x2/HR"]
    lr_dirs: ["${data}/benchmarks/Set5/x2/LR"]
    batch_size: 2
    lr_patch: 8
    workers: 2
  val: {dir: ")" + val + R"(", every: 3}
losses: )" + losses + R"(
optimizer: {type: adam, lr: 1.0e-3}
scheduler: {type: constant}
train: {iters: 6, ema_decay: 0.9, log_every: 2, save_every: 3)" + srlab::testing::test_device_train_keys() + R"(}
)";
}

Config gan_config(const std::string& name, const std::string& extra = "") {
  return Config::parse(gan_yaml(name) + extra, name + ".yaml");
}

// Every parameter and buffer of the discriminator stored in a checkpoint, by name.
std::vector<std::pair<std::string, torch::Tensor>> discriminator_tensors(const fs::path& ckpt) {
  auto d = srlab::models::load_discriminator(ckpt);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : d->named_parameters(true)) out.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : d->named_buffers(true)) out.emplace_back(b.key(), b.value().clone());
  return out;
}

bool same_named(const std::vector<std::pair<std::string, torch::Tensor>>& a,
                const std::vector<std::pair<std::string, torch::Tensor>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || !torch::equal(a[i].second, b[i].second)) return false;
  return true;
}

using srlab::testing::split_csv_line;

TEST(GanTrainer, TinyRunLogsDiscriminatorAndCheckpointsIt) {
  auto s = run_train(gan_config("gan_tiny"));
  EXPECT_EQ(s.iterations, 6);
  // metrics.csv: the D columns after the G terms; rows at 2, 3 (val), 4, 6 (log + val).
  std::ifstream csv(s.run_dir / "metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "iteration,lr,loss,loss_l1,loss_gan,d_lr,d_loss,d_real,d_fake,samples_per_s,val_psnr,val_ssim");
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(csv, line);) rows.push_back(split_csv_line(line));
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 12u);
    if (r[0] == "3") continue;  // validation-only row: empty loss cells
    EXPECT_DOUBLE_EQ(std::stod(r[5]), 1e-3) << "d_lr";
    const double d_loss = std::stod(r[6]);
    // vanilla D loss = BCE(real, 1) + BCE(fake, 0): 2 ln 2 = 1.386 for an undecided D; a few steps from
    // the start it must still be near that and positive.
    EXPECT_GT(d_loss, 0.5);
    EXPECT_LT(d_loss, 3.0);
    // The generator's adversarial term: 0.1 * BCE(D(sr), 1), about 0.1 * ln 2.
    EXPECT_GT(std::stod(r[4]), 0.02);
    EXPECT_LT(std::stod(r[4]), 0.3);
    EXPECT_TRUE(std::isfinite(std::stod(r[7])) && std::isfinite(std::stod(r[8])));
  }
  // The log line names the D loss and the G terms.
  std::ifstream logf(s.run_dir / "train.log");
  const std::string log((std::istreambuf_iterator<char>(logf)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("D loss"), std::string::npos);
  EXPECT_NE(log.find("gan "), std::string::npos);

  // The checkpoint holds the discriminator with its spectral-norm buffers, its config and optimizer state.
  const fs::path latest = s.run_dir / "checkpoints/latest.pt";
  torch::serialize::InputArchive ar;
  srlab::models::open_checkpoint(latest, ar);
  EXPECT_NE(srlab::models::read_discriminator_yaml(ar).find("unet_sn"), std::string::npos);
  torch::serialize::InputArchive d, conv1, opt;
  ASSERT_TRUE(ar.try_read("discriminator", d));
  ASSERT_TRUE(d.try_read("conv1", conv1));
  torch::Tensor u, v, w;
  ASSERT_TRUE(conv1.try_read("weight_u", u, /*is_buffer=*/true));
  ASSERT_TRUE(conv1.try_read("weight_v", v, /*is_buffer=*/true));
  ASSERT_TRUE(conv1.try_read("weight_orig", w));
  EXPECT_EQ(u.sizes(), (std::vector<int64_t>{16}));        // 2F outputs
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{8 * 4 * 4}));  // F inputs x 4x4 kernel
  EXPECT_NEAR(u.norm().item<double>(), 1.0, 1e-5);
  EXPECT_TRUE(ar.try_read("d_optimizer", opt));
  // load_generator (srlab export / eval) ignores the extra entries.
  auto g = srlab::models::load_generator(latest);
  EXPECT_EQ(g->type(), "srvgg_compact");
  EXPECT_EQ(g->forward(torch::rand({1, 3, 5, 7})).sizes(), (std::vector<int64_t>{1, 3, 10, 14}));
  // best.pt defaults to the last validated weights in GAN runs (train.best_by: last).
  EXPECT_EQ(s.best_iter, 6);
  EXPECT_TRUE(srlab::testing::same_tensors(srlab::testing::generator_weights(latest, true),
                                           srlab::testing::generator_weights(s.run_dir / "checkpoints/best.pt", true)));
}

TEST(GanTrainer, ResumeIsBitExact) {
  // ragan (G step reads the detached D(hr)), two D steps per iteration, adversarial term from iteration 2.
  const std::string extra = "gan: {d_steps: 2, d_start: 2}\n";
  auto cfg = [&](const std::string& name) {
    return Config::parse(
        gan_yaml(name, "[{type: l1, weight: 1.0}, {type: gan, gan_type: ragan, weight: 0.05}]") + extra, name + ".yaml");
  };
  auto straight = run_train(cfg("gan_straight"));
  auto first = run_train(cfg("gan_resumed"), {}, /*stop_after=*/3);
  ASSERT_TRUE(first.interrupted);
  const auto d_at_3 = discriminator_tensors(first.run_dir / "checkpoints/latest.pt");
  auto second = run_train(srlab::train::load_run_config(first.run_dir), first.run_dir);
  EXPECT_EQ(second.iterations, 6);
  const fs::path a = straight.run_dir / "checkpoints/latest.pt", b = second.run_dir / "checkpoints/latest.pt";
  EXPECT_TRUE(srlab::testing::same_tensors(srlab::testing::generator_weights(a, false), srlab::testing::generator_weights(b, false)));
  EXPECT_TRUE(srlab::testing::same_tensors(srlab::testing::generator_weights(a, true), srlab::testing::generator_weights(b, true)));
  const auto d_a = discriminator_tensors(a), d_b = discriminator_tensors(b);
  EXPECT_TRUE(same_named(d_a, d_b));
  // D did train between iterations 3 and 6 (weights and u/v buffers moved).
  EXPECT_FALSE(same_named(d_at_3, d_a));
  bool has_u = false;
  for (const auto& [name, t] : d_a) has_u = has_u || name.find("weight_u") != std::string::npos;
  EXPECT_TRUE(has_u);

  // Before d_start the generator loss has no adversarial part (row of iterations 1-2: loss_gan 0).
  std::ifstream csv(straight.run_dir / "metrics.csv");
  std::string line;
  std::getline(csv, line);
  std::getline(csv, line);
  const auto r2 = split_csv_line(line);
  ASSERT_EQ(r2[0], "2");
  EXPECT_EQ(std::stod(r2[4]), 0.0);
  EXPECT_EQ(r2[2], r2[3]);  // loss = l1 term alone
  std::getline(csv, line);  // 3: validation only
  std::getline(csv, line);
  const auto r4 = split_csv_line(line);
  ASSERT_EQ(r4[0], "4");
  EXPECT_GT(std::stod(r4[4]), 0.0);
}

TEST(GanTrainer, InitFromLoadsThePixelGeneratorsEmaWeights) {
  // A pixel checkpoint of the same architecture whose raw and EMA weights are constants 0.01 / 0.02.
  const fs::path dir = srlab::testing::train_runs_dir() / "init_ckpt";
  fs::create_directories(dir);
  const Config model = Config::parse("{type: srvgg_compact, num_feat: 8, num_conv: 2}");
  auto raw = srlab::models::make_generator(model, 2), ema = srlab::models::make_generator(model, 2);
  {
    torch::NoGradGuard ng;
    for (auto& p : raw->parameters()) p.fill_(0.01);
    for (auto& p : ema->parameters()) p.fill_(0.02);
  }
  srlab::models::CheckpointInfo info;
  info.model_yaml = model.dump();
  info.scale = 2;
  info.run_id = "pixel";
  torch::serialize::OutputArchive out;
  srlab::models::write_generator_entries(out, info, raw, ema);
  out.save_to((dir / "pixel.pt").string());

  // One iteration with a tiny G learning rate: Adam moves each weight by about lr = 1e-9.
  Config c = gan_config("gan_init", "gan: {init_from: \"" + (dir / "pixel.pt").string() + "\"}\n");
  c.set_override("train.iters=1");
  c.set_override("optimizer.lr=1.0e-9");
  auto s = run_train(c);
  for (const auto& p : srlab::testing::generator_weights(s.run_dir / "checkpoints/latest.pt", false))
    EXPECT_LT((p - 0.02).abs().max().item<double>(), 1e-6);
}

TEST(GanTrainer, ConfigErrorsNameTheKeys) {
  const std::string d = srlab::testing::make_train_dataset().string();
  auto pixel = [&](const std::string& name, const std::string& losses) {
    return Config::parse("name: " + name + "\nscale: 2\ndevice: cpu\nmodel: {type: espcn, num_feat: 8}\n"
                         "data: {train: {hr_dirs: [\"" + d + "\"], batch_size: 2, lr_patch: 8}}\nlosses: " + losses +
                         "\noptimizer: {lr: 1.0e-3}\ntrain: {iters: 2}\n");
  };
  // An adversarial term without a discriminator.
  std::string msg = error_of([&] { run_train(pixel("e1", "[{type: l1}, {type: gan}]")); });
  EXPECT_NE(msg.find("losses[1].type"), std::string::npos) << msg;
  EXPECT_NE(msg.find("discriminator"), std::string::npos) << msg;
  // GAN-only sections without a discriminator.
  Config e2 = pixel("e2", "[{type: l1}]");
  e2.set_override("d_optimizer.lr=1.0e-4");
  msg = error_of([&] { run_train(e2); });
  EXPECT_NE(msg.find("d_optimizer"), std::string::npos) << msg;
  // A discriminator without an adversarial term.
  msg = error_of([&] { run_train(Config::parse(gan_yaml("e3", "[{type: l1}]"))); });
  EXPECT_NE(msg.find("type: gan"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'losses'"), std::string::npos) << msg;
  // vgg128 takes exactly input_size pixels; lr_patch 8 x scale 2 = 16 != 128.
  Config e4 = gan_config("e4");
  e4.set_override("discriminator={type: vgg128, num_feat: 8, input_size: 128}");
  msg = error_of([&] { run_train(e4); });
  EXPECT_NE(msg.find("data.train.lr_patch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("discriminator.input_size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set data.train.lr_patch to 64"), std::string::npos) << msg;
  // unet_sn needs a multiple of 8: lr_patch 6 x 2 = 12.
  Config e5 = gan_config("e5");
  e5.set_override("data.train.lr_patch=6");
  msg = error_of([&] { run_train(e5); });
  EXPECT_NE(msg.find("multiple of 8"), std::string::npos) << msg;
  // Unknown keys in the new sections.
  Config e6 = gan_config("e6", "gan: {d_stepz: 2}\n");
  msg = error_of([&] { run_train(e6); });
  EXPECT_NE(msg.find("d_stepz"), std::string::npos) << msg;
  Config e7 = gan_config("e7");
  e7.set_override("discriminator.num_fet=8");
  msg = error_of([&] { run_train(e7); });
  EXPECT_NE(msg.find("num_fet"), std::string::npos) << msg;
  Config e8 = gan_config("e8");
  e8.set_override("d_optimizer.betaz=[0.9, 0.99]");
  msg = error_of([&] { run_train(e8); });
  EXPECT_NE(msg.find("betaz"), std::string::npos) << msg;

  // init_from: a checkpoint of another architecture (espcn), and of the same type with other sizes.
  const fs::path dir = srlab::testing::train_runs_dir() / "init_other";
  fs::create_directories(dir);
  auto write_ckpt = [&](const std::string& model_yaml, const fs::path& file) {
    const Config m = Config::parse(model_yaml);
    auto g = srlab::models::make_generator(m, 2);
    srlab::models::CheckpointInfo info;
    info.model_yaml = m.dump();
    info.scale = 2;
    torch::serialize::OutputArchive out;
    srlab::models::write_generator_entries(out, info, g);
    out.save_to(file.string());
  };
  write_ckpt("{type: espcn, num_feat: 8}", dir / "espcn.pt");
  msg = error_of([&] { run_train(gan_config("e9", "gan: {init_from: \"" + (dir / "espcn.pt").string() + "\"}\n")); });
  EXPECT_NE(msg.find("gan.init_from"), std::string::npos) << msg;
  EXPECT_NE(msg.find("generator is espcn x2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("srvgg_compact x2"), std::string::npos) << msg;
  write_ckpt("{type: srvgg_compact, num_feat: 16, num_conv: 2}", dir / "wide.pt");
  msg = error_of([&] { run_train(gan_config("e10", "gan: {init_from: \"" + (dir / "wide.pt").string() + "\"}\n")); });
  EXPECT_NE(msg.find("gan.init_from"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shape"), std::string::npos) << msg;
  msg = error_of([&] { run_train(gan_config("e11", "gan: {init_from: /no/such/ckpt.pt}\n")); });
  EXPECT_NE(msg.find("/no/such/ckpt.pt"), std::string::npos) << msg;
  for (const char* n : {"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11"})
    EXPECT_FALSE(fs::exists(srlab::testing::train_runs_dir() / n)) << n << ": the run must not have started";
}

TEST(GanTrainer, NonFiniteDiscriminatorLossSkipsTheUpdate) {
  const srlab::train::TrainConfig c = srlab::train::TrainConfig::from_config(gan_config("gan_step_unit"));
  torch::manual_seed(0);
  const srlab::losses::WeightedLoss loss = srlab::losses::WeightedLoss::from_config(c.losses);
  const torch::Device device = srlab::testing::test_device();
  srlab::train::GanStep step(c, loss, c.built->discriminator, device);
  auto params = [&] {
    std::vector<torch::Tensor> out;
    for (auto& p : step.discriminator()->parameters()) out.push_back(p.detach().clone());
    return out;
  };
  const torch::Tensor hr = torch::rand({2, 3, 16, 16}).to(device), sr = torch::rand({2, 3, 16, 16}).to(device);
  const auto before = params();
  torch::Tensor bad = sr.clone();
  bad[0][1][3][4] = std::numeric_limits<float>::quiet_NaN();
  const srlab::train::DiscriminatorStats skipped = step.discriminator_step(bad, hr, 0);
  EXPECT_EQ(skipped.skipped, 1);
  EXPECT_EQ(skipped.steps, 0);
  EXPECT_TRUE(srlab::testing::same_tensors(before, params()));  // no optimizer step
  const srlab::train::DiscriminatorStats ok = step.discriminator_step(sr, hr, 1);
  EXPECT_EQ(ok.skipped, 0);
  EXPECT_EQ(ok.steps, 1);
  EXPECT_TRUE(std::isfinite(ok.loss));
  EXPECT_FALSE(srlab::testing::same_tensors(before, params()));
  for (auto& p : step.discriminator()->parameters()) EXPECT_TRUE(p.requires_grad());

  // The generator step freezes D but keeps the graph to sr: gradients reach sr, none reach D.
  step.optimizer().zero_grad();
  torch::Tensor sr_leaf = sr.clone().requires_grad_(true);
  srlab::losses::LossInputs in;
  in.sr = sr_leaf;
  in.hr = hr;
  auto res = step.generator_loss(in, 0);
  res.total.backward();
  ASSERT_TRUE(sr_leaf.grad().defined());
  EXPECT_GT(sr_leaf.grad().abs().sum().item<double>(), 0.0);
  for (auto& p : step.discriminator()->parameters()) {
    EXPECT_FALSE(p.requires_grad());
    EXPECT_FALSE(p.grad().defined() && p.grad().abs().sum().item<double>() > 0);
  }
}

TEST(GanTrainer, ExplodingDiscriminatorStopsWithLastGoodCheckpoint) {
  // D's first update with lr 1e30 leaves finite but huge weights; from then on its loss is non-finite.
  // d_start keeps D out of the generator loss, so only the D updates are skipped.
  Config c = gan_config("gan_nan");
  c.set_override("d_optimizer.lr=1.0e+30");
  c.set_override("gan.d_start=30");
  c.set_override("train.max_bad_steps=2");
  c.set_override("train.iters=40");
  c.set_override("train.save_every=1");
  c.set_override("data.val.every=100");
  const std::string msg = error_of([&] { run_train(c); });
  EXPECT_NE(msg.find("2 iterations in a row with a non-finite loss (last: discriminator loss) at iteration 3"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("last good checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("d_optimizer.lr"), std::string::npos) << msg;
  const fs::path run_dir = srlab::testing::train_runs_dir() / "gan_nan";
  std::ifstream logf(run_dir / "train.log");
  const std::string log((std::istreambuf_iterator<char>(logf)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("iteration 2: non-finite discriminator loss; 1 of 1 discriminator step(s) skipped"), std::string::npos) << log;
  // latest.pt is the last iteration whose losses were all finite (1): it loads, with finite weights.
  const fs::path latest = run_dir / "checkpoints/latest.pt";
  torch::serialize::InputArchive ar;
  srlab::models::open_checkpoint(latest, ar);
  EXPECT_EQ(srlab::models::read_checkpoint_info(ar, latest).iteration, 1);
  for (const auto& p : srlab::testing::generator_weights(latest, false)) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  for (const auto& [name, t] : discriminator_tensors(latest)) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << name;
}

TEST(GanTrainer, ConfigDefaults) {
  // Drops the line of gan_yaml that starts with `key`.
  auto without = [](std::string yaml, const std::string& key) {
    const size_t at = yaml.find("\n" + key);
    return yaml.erase(at + 1, yaml.find('\n', at + 1) - at);
  };
  // Without d_optimizer / d_scheduler / gan: Adam lr 1e-4, betas (0.9, 0.99); D follows scheduler:.
  std::string yaml = without(gan_yaml("gan_defaults"), "d_optimizer:");
  yaml.replace(yaml.find("{type: constant}"), 16, "{type: cosine, warmup_iters: 2, eta_min: 0.0}");
  const auto c = srlab::train::TrainConfig::from_config(Config::parse(yaml));
  ASSERT_TRUE(c.gan.enabled());
  EXPECT_EQ(c.gan.d_optimizer.type, "adam");
  EXPECT_DOUBLE_EQ(c.gan.d_optimizer.lr, 1e-4);
  EXPECT_DOUBLE_EQ(c.gan.d_optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(c.gan.d_optimizer.beta2, 0.99);
  EXPECT_EQ(c.gan.d_schedule.type, "cosine");
  EXPECT_DOUBLE_EQ(c.gan.d_schedule.at(0), 0.5e-4);  // warm-up: lr * (0 + 1) / 2
  EXPECT_EQ(c.gan.d_steps, 1);
  EXPECT_EQ(c.gan.d_start, 0);
  EXPECT_TRUE(c.gan.init_from.empty());
  EXPECT_EQ(c.best_by, "last");
  // A pixel run (no discriminator) has no GAN part and keeps best_by psnr.
  const auto p = srlab::train::TrainConfig::from_config(
      Config::parse(without(without(gan_yaml("pix", "[{type: l1}]"), "discriminator:"), "d_optimizer:")));
  EXPECT_FALSE(p.gan.enabled());
  EXPECT_EQ(p.best_by, "psnr");
}

}  // namespace test_gan_trainer_test
