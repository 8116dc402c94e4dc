// srlab eval --dataset DIR --scale S --method M [--method M2 ...] [--json FILE] [--save-images DIR]
//            [--metrics psnr,ssim,lpips,niqe] [--lpips-weights PATH] [--niqe-model PATH]
#include <boost/program_options.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"
#include "core/runtime.h"
#include "data/datasets/degraded_dataset.h"
#include "data/datasets/paired_dataset.h"
#include "deploy/onnx_method.h"
#include "eval/evaluate.h"
#include "eval/methods.h"
#include "eval/suite.h"
#include "eval/naming.h"
#include "models/features/lpips.h"
#include "reports/run_reports.h"
#include "train/run_dir.h"

namespace po = boost::program_options;

namespace srlab::cli {

namespace {
// "…/x4" -> 4, else 0.
int scale_from_dir(const std::filesystem::path& dir) {
  std::filesystem::path p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string s = p.filename().string();
  if (s.size() >= 2 && (s[0] == 'x' || s[0] == 'X') && s.find_first_not_of("0123456789", 1) == std::string::npos)
    return std::stoi(s.substr(1));
  return 0;
}

// The --json, --markdown and --html outputs of `srlab eval` (those requested).
void write_eval_outputs(const std::vector<eval::EvalResult>& results,
                        const std::vector<std::pair<std::string, data::PairedImageDataset>>& scored,
                        const std::string& json_out, const std::string& md_out, const std::string& html_out,
                        const std::string& save_dir, const std::vector<std::string>& args) {
  if (!json_out.empty()) {
    nlohmann::json js;
    if (results.size() == 1) {
      js = eval::to_json(results[0]);
    } else {
      js = nlohmann::json::array();
      for (const auto& r : results) js.push_back(eval::to_json(r));
    }
    core::write_file_atomic(json_out, js.dump(2) + "\n");
  }
  if (!md_out.empty()) core::write_file_atomic(md_out, eval::comparison_table_markdown(results));
  if (!html_out.empty()) {
    std::string command = "srlab eval";
    for (const auto& a : args) command += " " + a;
    // SR images live in <save_dir>/<dataset>/...; the report refers to them relative to its own folder.
    const std::filesystem::path base = std::filesystem::path(html_out).parent_path();
    const std::filesystem::path rel = std::filesystem::absolute(save_dir).lexically_relative(
        std::filesystem::absolute(base.empty() ? std::filesystem::path(".") : base));
    reports::write_eval_html(html_out, results, scored, rel, train::git_revision(), command);
  }
}

}  // namespace

int cmd_eval(const std::vector<std::string>& args) {
  po::options_description opts(
      "srlab eval --dataset DIR --scale S --method M [--method M ...] [--json FILE] [--save-images DIR]\n\n"
      "Scores super-resolution methods with the benchmark protocol: SR rounded to uint8, Y channel of\n"
      "BT.601 (MATLAB rgb2ycbcr; gray images: intensity), `scale` pixels cropped from every border,\n"
      "PSNR (dB) and SSIM per image, then the mean. DIR holds HR/ and LR/ folders of same-named images\n"
      "(e.g. ../shared/data/benchmarks/Set5/x4) or HR images only (LR = MATLAB bicubic of the mod-cropped\n"
      "HR). \"${data}\" in paths expands to the shared data folder. --metrics lpips adds LPIPS v0.1\n"
      "(SqueezeNet; full RGB image, no crop, lower is better), --metrics niqe the no-reference NIQE of the SR\n"
      "image (Y channel, same border crop, lower is more natural). DIR may also be an HDF5 test file made by\n"
      "`srlab prepare` (layout images). --degradation FILE re-makes every LR from its HR with a degradation\n"
      "pipeline (e.g. configs/degradations/blur1.6_jpeg40.yaml), to score methods on degraded inputs.\n\noptions");
  std::vector<std::string> datasets, methods, degradations;
  uint64_t degradation_seed = 0;
  std::string json_out, md_out, html_out, save_dir, device_spec = "auto", metrics_list = "psnr,ssim", lpips_weights,
              lpips_net = "squeeze", niqe_model;
  int scale = 0, crop = -1, threads = 0;
  bool rgb = false;
  eval::UnsharpOptions sharpen;
  opts.add_options()("help,h", "show this help")
      ("dataset,d", po::value(&datasets)->composing(), "benchmark folder (repeatable)")
      ("scale", ranged(&scale, "scale", 1, 16), "upscaling factor (default: from a trailing x<S> folder name)")
      ("method,m", po::value(&methods)->composing(),
       "bicubic | sharpened | a checkpoint (.pt) | an ONNX model (.onnx) | a folder of SR images named like the HR "
       "files (another tool's outputs) (repeatable)")
      ("degradation", po::value(&degradations)->composing(),
       "degradation YAML file: score on LR re-made from HR by it (repeatable; each is a separate dataset)")
      ("degradation-seed", po::value(&degradation_seed)->default_value(0), "seed of the degradation draws (image i uses index i)")
      ("json", po::value(&json_out), "write results as JSON (one object per dataset x method; an array if several)")
      ("markdown", po::value(&md_out), "write the comparison table as Markdown")
      ("html", po::value(&html_out),
       "write an HTML report (tables, plot, before/after sliders); SR/LR/HR images go to --save-images DIR, "
       "default <FILE without extension>_images/ next to it")
      ("save-images", po::value(&save_dir), "write SR images to DIR/<dataset>/<method>/<name>.png")
      ("crop-border", ranged(&crop, "crop-border", 0), "pixels cropped from each border before scoring (default: scale)")
      ("rgb", po::bool_switch(&rgb), "score PSNR/SSIM on RGB instead of the Y channel")
      ("metrics", po::value(&metrics_list)->default_value(metrics_list),
       "comma-separated metrics: psnr, ssim, lpips (LPIPS v0.1 SqueezeNet, full RGB image, no crop, lower is better), "
       "niqe (NIQE, no-reference, lower is better)")
      ("niqe-model", po::value(&niqe_model),
       "NIQE pristine model (JSON); default $SRLAB_NIQE_MODEL, else ${data}/weights/niqe/niqe_pris_params.json")
      ("lpips-net", po::value(&lpips_net)->default_value(lpips_net),
       "LPIPS backbone: squeeze (real weights shipped in ../shared/data), alex or vgg (convert with "
       "scripts/convert_lpips_weights.py)")
      ("lpips-weights", po::value(&lpips_weights),
       "LPIPS weights (.pt); default $SRLAB_LPIPS_WEIGHTS, else ${data}/weights/lpips/lpips_squeeze_v0.1.pt")
      ("sharpen-amount", ranged(&sharpen.amount, "sharpen-amount", 0.0, 100.0)->default_value(sharpen.amount), "unsharp-mask amount of the sharpened baseline")
      ("sharpen-sigma", ranged(&sharpen.sigma, "sharpen-sigma", 1e-6, 100.0)->default_value(sharpen.sigma), "unsharp-mask Gaussian sigma (px)")
      ("sharpen-threshold", ranged(&sharpen.threshold, "sharpen-threshold", 0.0, 1.0)->default_value(sharpen.threshold), "unsharp-mask threshold ([0,1] intensity)")
      ("device", po::value(&device_spec)->default_value(device_spec), "cpu | cuda | cuda:N | auto")
      ("threads", threads_option(&threads), "CPU threads (0 = all)");
  if (!parse_args(opts, args)) return 0;
  if (datasets.empty()) throw Error("--dataset DIR is required (e.g. --dataset ../shared/data/benchmarks/Set5/x4)");
  if (methods.empty())
    throw Error("--method is required: bicubic, sharpened, a checkpoint, an ONNX model or a folder of SR images");
  eval::register_onnx_method();
  const eval::MetricSelection metrics = eval::parse_metrics(metrics_list);
  if (!lpips_weights.empty() && !metrics.lpips)
    throw Error("--lpips-weights is given but --metrics does not include lpips; add lpips to --metrics");
  if (!niqe_model.empty() && !metrics.niqe)
    throw Error("--niqe-model is given but --metrics does not include niqe; add niqe to --metrics");
  if (!html_out.empty() && save_dir.empty())
    save_dir = (std::filesystem::path(html_out).parent_path() / (std::filesystem::path(html_out).stem().string() + "_images")).string();
  // Output paths of the wrong kind fail now, not after the evaluation.
  for (const auto& [out, flag] : {std::pair{json_out, "--json"}, {md_out, "--markdown"}, {html_out, "--html"}})
    if (!out.empty()) core::require_path_kind(out, core::PathKind::kFile, std::string(flag) + " output");
  if (!save_dir.empty()) core::require_path_kind(save_dir, core::PathKind::kFolder, "--save-images folder");
  core::configure_threads(threads);
  const torch::Device device = core::select_device(device_spec);
  // One LPIPS network shared by all dataset x method evaluations (loaded before any work starts).
  models::Lpips lpips{nullptr};
  if (metrics.lpips) lpips = models::load_lpips(models::resolve_lpips_weights(lpips_weights, lpips_net), lpips_net);
  std::shared_ptr<const eval::NiqeModel> niqe;
  if (metrics.niqe) niqe = std::make_shared<eval::NiqeModel>(eval::load_niqe_model(eval::resolve_niqe_model(niqe_model)));

  eval::EvalOptions eo;
  eo.y_channel = !rgb;
  eo.metrics = metrics;
  eo.lpips = lpips;
  eo.niqe_model = niqe;
  std::vector<std::pair<std::string, data::Degradation>> pipelines;  // (label: the file's stem, pipeline)
  for (const auto& f : degradations) pipelines.emplace_back(std::filesystem::path(f).stem().string(), data::Degradation::load_file(f));
  std::vector<eval::EvalResult> results;
  std::vector<std::pair<std::string, data::PairedImageDataset>> scored;  // for --html
  for (const auto& d : datasets) {
    const std::filesystem::path dir = core::expand_data_path(d);
    int s = scale > 0 ? scale : scale_from_dir(dir);
    if (s <= 0) throw Error("--scale is required for '" + dir.string() + "' (no trailing x<S> folder to infer it from)");
    std::vector<eval::SuiteDataset> variants = eval::benchmark_variants(dir, s, pipelines, pipelines.empty(), degradation_seed);
    for (auto& v : variants) {
      if (!save_dir.empty()) v.save_images_dir = std::filesystem::path(save_dir) / v.name;
      scored.emplace_back(v.name, v.ds);
    }
    std::vector<eval::Method> ms;
    for (const auto& m : methods) {
      ms.push_back(eval::make_method(m, s, device, sharpen));
      ms.back().name = eval::method_display_name(m);
    }
    eo.crop_border = crop >= 0 ? crop : s;
    for (auto& r : eval::evaluate_suite(variants, ms, eo)) results.push_back(std::move(r));
  }
  std::cout << eval::comparison_table_text(results);
  write_eval_outputs(results, scored, json_out, md_out, html_out, save_dir, args);
  return 0;
}

}  // namespace srlab::cli
