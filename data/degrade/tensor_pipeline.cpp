#include "data/degrade/tensor_pipeline.h"

#include <fmt/format.h>

#include <map>
#include <string>

#include "core/error.h"
#include "data/degrade/degrade_steps.h"
#include "data/degrade/tensor_jpeg.h"
#include "data/degrade/tensor_ops.h"

namespace srlab::data {

namespace {

// Samples whose next op can run as one batch: same type and input size (and, for resizes, the same
// mode and output size).
std::string group_key(const PlannedOp& op, const torch::Tensor& img) {
  const nlohmann::json& r = op.record;
  std::string key = fmt::format("{} {}x{}", r.value("type", "?"), img.size(2), img.size(3));
  if (r.value("type", "") == "resize") key += " " + r["mode"].get<std::string>() + " " + r["size"].dump();
  if (r.value("type", "") == "noise") key += " " + r["kind"].get<std::string>();
  return key;
}

// Runs one op on the stacked samples x (n,C,h,w); ops[i] is sample i's op.
torch::Tensor run_group(const torch::Tensor& x, const std::vector<const PlannedOp*>& ops, const DegradationBatchPlan& plan) {
  const nlohmann::json& r0 = ops.front()->record;
  const std::string type = r0.value("type", "");
  const int64_t C = x.size(1), h = x.size(2), w = x.size(3);
  if (type == "blur" || type == "sinc") {
    std::vector<cv::Mat> k;
    for (const PlannedOp* op : ops) k.push_back(op->kernel);
    return filter2d_batch(x, stack_kernels(k, x.device()));
  }
  if (type == "resize")
    return resize_batch(x, r0["size"][0].get<int64_t>(), r0["size"][1].get<int64_t>(),
                        parse_resize_mode(r0["mode"].get<std::string>()));
  if (type == "jpeg") {
    std::vector<int> q;
    for (const PlannedOp* op : ops) q.push_back(op->record["quality"].get<int>());
    return jpeg_batch(x, q);
  }
  if (type == "noise" && r0["kind"] == "gaussian") {
    std::vector<torch::Tensor> fields;
    for (const PlannedOp* op : ops)
      fields.push_back(gaussian_noise_tensor(static_cast<int>(C), static_cast<int>(h), static_cast<int>(w),
                                             op->record["sigma"].get<double>(), op->record["gray"].get<bool>(), op->seed)
                           .expand({C, h, w}));
    return add_noise_batch(x, torch::stack(fields).to(x.device()));
  }
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < ops.size(); ++i) {
    const nlohmann::json& r = ops[i]->record;
    const torch::Tensor xi = x[static_cast<int64_t>(i)];
    if (type == "noise")
      out.push_back(add_poisson_noise_tensor(xi, r["scale"].get<double>(), r["gray"].get<bool>(), ops[i]->seed));
    else if (type == "bicubic")
      out.push_back(bicubic_to_target(quantize_8bit_batch(xi).cpu(), plan.hr_h / plan.scale, plan.hr_w / plan.scale,
                                      plan.scale).to(x.device()));
    else
      throw Error("tensor degradation: no tensor implementation of step '" + type + "'");
  }
  return torch::stack(out);
}

}  // namespace

DegradationBatchPlan plan_degradation_batch(const Degradation& d, int channels, int hr_h, int hr_w, int scale,
                                            uint64_t seed, const std::vector<int64_t>& indices) {
  DegradationBatchPlan p;
  p.scale = scale;
  p.hr_h = hr_h;
  p.hr_w = hr_w;
  p.channels = channels;
  for (int64_t index : indices) {
    p.params.emplace_back();
    p.ops.push_back(d.plan(channels, hr_h, hr_w, scale, seed, index, &p.params.back()));
  }
  return p;
}

torch::Tensor apply_degradation_plan(const torch::Tensor& hr, const DegradationBatchPlan& plan) {
  const auto n = static_cast<int64_t>(plan.ops.size());
  if (!hr.defined() || hr.dim() != 4 || hr.size(0) != n || hr.size(1) != plan.channels || hr.size(2) != plan.hr_h ||
      hr.size(3) != plan.hr_w)
    throw Error(fmt::format("tensor degradation: expected an HR batch ({},{},{},{}), got {}", n, plan.channels,
                            plan.hr_h, plan.hr_w, hr.defined() ? c10::str(hr.sizes()) : "undefined"));
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> img;
  const torch::Tensor q = quantize_8bit_batch(hr.to(torch::kFloat32));
  for (int64_t i = 0; i < n; ++i) img.push_back(q.narrow(0, i, 1));
  std::vector<size_t> pos(static_cast<size_t>(n), 0);
  for (bool busy = true; busy;) {
    busy = false;
    std::map<std::string, std::vector<size_t>> groups;  // one round: every unfinished sample's next op
    for (size_t i = 0; i < pos.size(); ++i)
      if (pos[i] < plan.ops[i].size()) groups[group_key(plan.ops[i][pos[i]], img[i])].push_back(i);
    for (const auto& kv : groups) {
      std::vector<torch::Tensor> xs;
      std::vector<const PlannedOp*> ops;
      for (size_t i : kv.second) xs.push_back(img[i]), ops.push_back(&plan.ops[i][pos[i]]);
      const torch::Tensor y = run_group(xs.size() == 1 ? xs[0] : torch::cat(xs), ops, plan);
      for (size_t j = 0; j < kv.second.size(); ++j) img[kv.second[j]] = y.narrow(0, static_cast<int64_t>(j), 1);
      for (size_t i : kv.second) ++pos[i];
      busy = true;
    }
  }
  const int64_t th = plan.hr_h / plan.scale, tw = plan.hr_w / plan.scale;
  for (int64_t i = 0; i < n; ++i)
    if (img[static_cast<size_t>(i)].size(2) != th || img[static_cast<size_t>(i)].size(3) != tw)
      throw Error(fmt::format("tensor degradation: sample {} ended at {}x{} instead of the LR size {}x{}; end the "
                              "pipeline with a `resize` (to: target) or `bicubic` step",
                              i, img[static_cast<size_t>(i)].size(3), img[static_cast<size_t>(i)].size(2), tw, th));
  return quantize_8bit_batch(torch::cat(img)).to(hr.scalar_type());
}

torch::Tensor degrade_batch(const Degradation& d, const torch::Tensor& hr, int scale, uint64_t seed,
                            const std::vector<int64_t>& indices, std::vector<nlohmann::json>* params) {
  if (!hr.defined() || hr.dim() != 4) throw Error("tensor degradation: expected an HR batch (N,C,H,W)");
  DegradationBatchPlan plan = plan_degradation_batch(d, static_cast<int>(hr.size(1)), static_cast<int>(hr.size(2)),
                                                     static_cast<int>(hr.size(3)), scale, seed, indices);
  torch::Tensor lr = apply_degradation_plan(hr, plan);
  if (params) *params = std::move(plan.params);
  return lr;
}

}  // namespace srlab::data
