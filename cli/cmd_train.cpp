// srlab train --config FILE [--set key.path=value ...] [--resume RUN_DIR]
#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "cli/tensorboard/tensorboard_sink.h"
#include "train/launch.h"
#include "train/parallel_setup.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace po = boost::program_options;

namespace srlab::cli {

namespace {
/// After a finished run: the command that upscales the user's own image with the model just trained,
/// and what that model is for.
void print_next_steps(const train::TrainSummary& s) {
  const std::filesystem::path best = s.run_dir / "checkpoints" / "best.pt";
  std::cout << "\nUpscale your own image (x" << s.scale << ") with this model:\n  "
            << (train::current_executable().parent_path() / "srlab").string() << " upscale -m " << best.string()
            << " -i photo.png -o photo_x" << s.scale << ".png\n";
  if (s.clean_lr)
    std::cout << "This model learned clean LR images (MATLAB bicubic downscaling): it restores detail lost to\n"
                 "resizing. On real photos with JPEG blocks, noise or blur it sharpens those artefacts too; for\n"
                 "such photos train a degradation-trained model, e.g.\n"
                 "  srlab train --config configs/realworld_x4.yaml   (second-order blur/noise/JPEG/resize)\n"
                 "  srlab train --config configs/degradation_study/first_order_x4.yaml\n";
  else
    std::cout << "This model was trained on degraded LR (data.train.degradation): it is meant for real photos\n"
                 "with the blur, noise and compression it saw in training.\n";
}
}  // namespace

int cmd_train(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab train --config FILE [--set key.path=value ...] [--resume RUN_DIR]\n\n"
      "Trains a generator as described by a YAML experiment config (see configs/). Results go to\n"
      "<runs-dir>/<name>/: config.yaml, meta.json, train.log, metrics.csv, curves.png,\n"
      "checkpoints/{latest,best}.pt, report.md/.json and TensorBoard event files events.out.tfevents.*\n"
      "(tensorboard --logdir <runs-dir>; train.tensorboard: false turns them off). Ctrl-C saves\n"
      "latest.pt; --resume continues exactly where it stopped.\n"
      "Data-parallel: --nproc N starts N local processes, or run under torchrun --no-python --nproc_per_node N\n"
      "(RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT are read; data.train.batch_size is the global batch).\n\noptions");
  std::string config, resume, runs_dir = "experiments/runs";
  std::vector<std::string> sets;
  bool no_eval = false;
  int nproc = 1;
  opts.add_options()("help,h", "show this help")
      ("config,c", po::value(&config), "experiment config (YAML)")
      ("set,s", po::value(&sets)->composing(), "override a config value, e.g. --set train.iters=2000 (repeatable)")
      ("resume,r", po::value(&resume), "continue the run in this folder from checkpoints/latest.pt (its config.yaml is used; "
                                       "--set may change e.g. train.iters)")
      ("runs-dir", po::value(&runs_dir)->default_value(runs_dir), "parent folder of run folders")
      ("no-eval", po::bool_switch(&no_eval), "skip the final evaluation report")
      ("nproc", po::value(&nproc)->default_value(1), "data-parallel: start this many local worker processes (Gloo "
                                                     "on CPU, NCCL on GPUs; see README 'Data-parallel training')");
  if (!parse_args(opts, args)) return 0;
  if (config.empty() == resume.empty())
    throw Error("give exactly one of --config FILE (new run) or --resume RUN_DIR (continue a run)");
  train::check_worker_count(nproc);
  core::Config cfg = resume.empty() ? core::Config::load_file(config) : train::load_run_config(resume);
  for (const auto& s : sets) cfg.set_override(s);
  if (nproc > 1) {  // the launcher: the same command without --nproc, once per rank
    if (std::getenv("WORLD_SIZE") != nullptr) throw Error("--nproc cannot be used inside torchrun/srun (WORLD_SIZE is set)");
    // Everything a worker would refuse is refused here, once, before any process starts.
    const train::TrainConfig checked = train::TrainConfig::from_config(cfg);
    train::check_config_paths(checked);
    train::check_data_parallel_config(checked, nproc);
    std::vector<std::string> worker_args{"train"};
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--nproc") ++i;
      else if (args[i].rfind("--nproc=", 0) != 0) worker_args.push_back(args[i]);
    }
    train::WorkerGroup workers = train::start_workers(train::current_executable(), worker_args, nproc);
    return train::supervise_workers(workers, [](int rank, int status) {
      if (status != 130)  // 130: interrupted (Ctrl-C), the ranks stop together
        std::cerr << "srlab train: worker rank " << rank << " exited with status " << status << "; stopping the others\n";
    });
  }
  train::TrainerOptions to;
  to.runs_dir = runs_dir;
  to.resume_dir = resume;
  to.final_eval = !no_eval;
  to.scalar_sink = cli::tensorboard_sink_factory();
  to.command_line = "srlab train";
  for (const auto& a : args) to.command_line += " " + a;
  const train::TrainSummary s = train::run_training(cfg, to);
  if (s.interrupted) return 130;
  std::cout << "run folder: " << s.run_dir.string() << "\n";
  if (s.iterations > 0) print_next_steps(s);
  return 0;
}

}  // namespace srlab::cli
