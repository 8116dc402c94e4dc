// TensorBoard event files of tiny trainings (run_training with the factory `srlab train` installs,
// cli::tensorboard_sink_factory): the tags and values of every metrics.csv row, GAN tags, the
// train.tensorboard switch, and a resume from an older checkpoint whose orphaned points TensorBoard's
// SessionLog START rule (event_accumulator.py: the first START is ignored, each later START at step s
// drops the points with step >= s read so far) removes, leaving exactly the final metrics.csv.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "core/config.h"
#include "cli/tensorboard/event_file.h"
#include "cli/tensorboard/tensorboard_sink.h"
#include "tests/test_util.h"
#include "train/train_config.h"
#include "tests/train/helpers.h"

namespace test_tensorboard_training {
using namespace srlab;
namespace fs = std::filesystem;

core::Config tiny_config(const std::string& name, const std::string& train_extra = "", const std::string& extra = "") {
  return srlab::testing::tiny_train_config(name, ", save_every: 100" + train_extra, extra);
}

train::TrainSummary run(const core::Config& c, const fs::path& resume = {}, int64_t stop_after = 0) {
  train::TrainerOptions o;
  o.runs_dir = srlab::testing::train_runs_dir();
  o.resume_dir = resume;
  o.stop_after = stop_after;
  o.final_eval = false;
  o.scalar_sink = cli::tensorboard_sink_factory();
  return train::run_training(c, o);
}

std::vector<fs::path> event_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find("tfevents") != std::string::npos) out.push_back(e.path());
  std::sort(out.begin(), out.end());  // TensorBoard's reading order
  return out;
}

// step -> (tag -> value): the points TensorBoard shows for the event files of `dir`, after the purges.
using Points = std::map<int64_t, std::map<std::string, double>>;
Points tensorboard_view(const fs::path& dir) {
  Points pts;
  bool seen_start = false;
  for (const fs::path& f : event_files(dir))
    for (const auto& e : cli::read_tensorboard_events(f)) {
      if (e.what == cli::TensorBoardEvent::What::session_log && e.session_status == 1) {
        if (seen_start) pts.erase(pts.lower_bound(e.step), pts.end());
        seen_start = true;
      }
      for (const auto& [tag, v] : e.values)
        EXPECT_TRUE(pts[e.step].emplace(tag, v).second) << tag << " twice at " << e.step;
    }
  return pts;
}

using srlab::testing::split_csv_line;

// metrics.csv column -> TensorBoard tag.
std::string tag_of(const std::string& column) {
  if (column == "val_psnr") return "val/psnr";
  if (column == "val_ssim") return "val/ssim";
  return "train/" + column;
}

// Every metrics.csv row of `run_dir` has one point per non-empty field (same tag, same number up to
// the CSV's printed digits and float storage) and no other points exist.
void expect_matches_csv(const fs::path& run_dir, const Points& pts) {
  std::ifstream csv(run_dir / "metrics.csv");
  std::string line;
  ASSERT_TRUE(std::getline(csv, line));
  const std::vector<std::string> header = split_csv_line(line);
  size_t rows = 0;
  while (std::getline(csv, line)) {
    const std::vector<std::string> f = split_csv_line(line);
    ASSERT_EQ(f.size(), header.size()) << line;
    const int64_t step = std::stoll(f[0]);
    ASSERT_TRUE(pts.count(step)) << "no points at step " << step;
    const auto& at = pts.at(step);
    size_t fields = 0;
    for (size_t i = 1; i < f.size(); ++i) {
      if (f[i].empty()) {
        EXPECT_FALSE(at.count(tag_of(header[i]))) << header[i] << " has a point at " << step << " but no CSV value";
        continue;
      }
      ++fields;
      ASSERT_TRUE(at.count(tag_of(header[i]))) << tag_of(header[i]) << " missing at step " << step;
      const double csv_value = std::stod(f[i]);
      const auto dot = f[i].find('.');
      const bool sci = f[i].find('e') != std::string::npos;
      const int decimals = dot == std::string::npos || sci ? 0 : static_cast<int>(f[i].size() - dot - 1);
      const double tol = 1e-6 * std::abs(csv_value) + (sci ? 0.0 : 0.51 * std::pow(10.0, -decimals));
      EXPECT_NEAR(at.at(tag_of(header[i])), csv_value, tol) << header[i] << " at step " << step;
    }
    EXPECT_EQ(at.size(), fields) << "step " << step;
    ++rows;
  }
  EXPECT_EQ(pts.size(), rows);
}

TEST(TensorBoardTraining, EventFileHoldsTheMetricsCsvRows) {
  const train::TrainSummary s = run(tiny_config("tb_rows"));
  const std::vector<fs::path> files = event_files(s.run_dir);
  ASSERT_EQ(files.size(), 1u);
  const auto events = cli::read_tensorboard_events(files[0]);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[1].session_status, 1);
  EXPECT_EQ(events[1].step, 1);
  const Points pts = tensorboard_view(s.run_dir);
  expect_matches_csv(s.run_dir, pts);
  // Log steps 2,4,6,8 and validation 3,6,8; the validated rows carry val/psnr and val/ssim.
  std::vector<int64_t> steps;
  for (const auto& p : pts) steps.push_back(p.first);
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 3, 4, 6, 8}));
  for (const char* tag : {"train/loss", "train/loss_l1", "train/loss_mse", "train/lr", "train/samples_per_s"})
    EXPECT_TRUE(pts.at(2).count(tag)) << tag;
  EXPECT_FALSE(pts.at(2).count("val/psnr"));
  EXPECT_TRUE(pts.at(3).count("val/psnr") && pts.at(3).count("val/ssim"));
}

TEST(TensorBoardTraining, SwitchedOff) {
  core::Config c = tiny_config("tb_off", ", tensorboard: false");
  c.set_override("train.iters=2");
  const train::TrainSummary s = run(c);
  EXPECT_TRUE(event_files(s.run_dir).empty());
}

TEST(TensorBoardTraining, ConfigKeyIsABoolean) {
  EXPECT_TRUE(train::TrainConfig::from_config(tiny_config("tb_key")).tensorboard);  // the default
  EXPECT_FALSE(train::TrainConfig::from_config(tiny_config("tb_key", ", tensorboard: false")).tensorboard);
  std::string msg =
      srlab::testing::error_of([] { train::TrainConfig::from_config(tiny_config("tb_key", ", tensorboard: 3")); });
  EXPECT_NE(msg.find("train.tensorboard"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected true or false"), std::string::npos) << msg;
  msg = srlab::testing::error_of([] { train::TrainConfig::from_config(tiny_config("tb_key", ", tensorbord: true")); });
  EXPECT_NE(msg.find("tensorbord"), std::string::npos) << msg;
}

TEST(TensorBoardTraining, GanRunHasDiscriminatorTags) {
  const train::TrainSummary s = run(core::Config::parse(
      "name: tb_gan\nseed: 11\ndevice: cpu\nthreads: 1\nscale: 2\n"
      "model: {type: srvgg_compact, num_feat: 8, num_conv: 2}\n"
      "discriminator: {type: unet_sn, num_feat: 8}\n"
      "data:\n  train: {hr_dirs: [\"" + srlab::testing::make_train_dataset().string() +
          "\"], batch_size: 2, lr_patch: 8, workers: 2}\n"
      "losses: [{type: l1, weight: 1.0}, {type: gan, gan_type: vanilla, weight: 0.1}]\n"
      "optimizer: {type: adam, lr: 1.0e-3}\nscheduler: {type: constant}\n"
      "train: {iters: 2, ema_decay: 0, log_every: 2, save_every: 100}\n",
      "tb_gan.yaml"));
  const Points pts = tensorboard_view(s.run_dir);
  expect_matches_csv(s.run_dir, pts);
  ASSERT_TRUE(pts.count(2));
  for (const char* tag : {"train/loss_gan", "train/d_loss", "train/d_real", "train/d_fake", "train/d_lr"})
    EXPECT_TRUE(pts.at(2).count(tag)) << tag;
}

TEST(TensorBoardTraining, ResumeFromAnOlderCheckpointPurgesTheOrphanedPoints) {
  const core::Config c = tiny_config("tb_resume");
  const train::TrainSummary first = run(c, {}, 4);  // stops at 4: latest.pt of iteration 4
  ASSERT_TRUE(first.interrupted);
  const fs::path latest = first.run_dir / "checkpoints" / "latest.pt";
  const fs::path kept = first.run_dir / "iter4.pt";
  fs::copy_file(latest, kept);
  run(c, first.run_dir);  // to the end: points 6, 8
  fs::copy_file(kept, latest, fs::copy_options::overwrite_existing);  // as if killed after iteration 4
  run(c, first.run_dir);  // again from 4: its points replace the orphaned 6, 8
  const std::vector<fs::path> files = event_files(first.run_dir);
  ASSERT_EQ(files.size(), 3u);
  const auto third = cli::read_tensorboard_events(files[2]);
  ASSERT_GE(third.size(), 2u);
  EXPECT_EQ(third[1].session_status, 1);
  EXPECT_EQ(third[1].step, 5);
  const Points pts = tensorboard_view(first.run_dir);  // no tag twice at a step: the purge worked
  expect_matches_csv(first.run_dir, pts);
  EXPECT_EQ(pts.size(), 5u);  // 2, 3, 4 from the first session, 6, 8 from the third
}

}  // namespace test_tensorboard_training
