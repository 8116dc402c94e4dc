#include "deploy/onnx_verify.h"

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/process.h"
#include "core/fs.h"
#include "core/paths.h"
#include "core/shape.h"
#include "deploy/onnx_ort.h"


namespace srlab::models {

namespace fs = std::filesystem;
using core::run_command;
using core::shell_quote;

namespace {

// A fresh temporary folder, removed with everything in it on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<unsigned> counter{0};
    path = fs::temp_directory_path() /
           ("srlab_onnx_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_raw(const fs::path& path, const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  core::write_file_atomic(path, std::string_view(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float)));
}

}  // namespace

namespace {
// Where onnxruntime-node is looked for (whether or not it is there): $SRLAB_ONNXRUNTIME_DIR, else the
// first "tools/onnxruntime" above the executable (scripts/setup.sh installs it in the checkout, which
// holds build/bin/srlab).
fs::path onnxruntime_dir() {
  const char* env = std::getenv("SRLAB_ONNXRUNTIME_DIR");
  if (env && *env) return fs::path(env);
  const fs::path found = core::find_near_executable(fs::path("tools") / "onnxruntime");
  return found.empty() ? fs::path("tools") / "onnxruntime" : found;
}
}  // namespace

fs::path find_onnxruntime() {
  const fs::path dir = onnxruntime_dir();
  std::error_code ec;
  return fs::is_regular_file(dir / "node_modules" / "onnxruntime-node" / "package.json", ec) ? dir : fs::path();
}

namespace {

/// run_onnx_ort through the linked ONNX Runtime (deploy/onnx_ort.h): one session per model file.
std::vector<OrtResult> run_onnx_ort_in_process(const std::vector<OrtJob>& jobs, int threads) {
  std::map<std::string, std::unique_ptr<OrtInProcessModel>> sessions;
  std::vector<OrtResult> results;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::string key = fs::absolute(jobs[i].model).string();
    auto& session = sessions[key];
    if (!session) session = std::make_unique<OrtInProcessModel>(core::read_file(jobs[i].model), jobs[i].model.string(), threads);
    OrtResult r;
    r.output = session->forward(jobs[i].input);
    r.time_ms = session->last_run_ms();
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace

std::vector<OrtResult> run_onnx_ort(const std::vector<OrtJob>& jobs, int threads) {
  if (onnxruntime_in_process()) return run_onnx_ort_in_process(jobs, threads);
  const fs::path ort = find_onnxruntime();
  if (ort.empty())
    throw Error("ONNX Runtime is not installed: no node_modules/onnxruntime-node under '" +
                onnxruntime_dir().string() + "'; run scripts/setup.sh (it installs onnxruntime-node with npm)");
  // The driver is copied next to the binaries at build time (<build>/share/srlab/) or installed under
  // <prefix>/share/srlab/.
  const fs::path script = core::find_near_executable(fs::path("share") / "srlab" / "onnx_run.mjs");
  if (script.empty())
    throw Error("ONNX Runtime driver script share/srlab/onnx_run.mjs not found above the executable; "
                "rebuild SRLab (CMake copies scripts/onnx_run.mjs there)");
  const char* node_env = std::getenv("SRLAB_NODE");
  const std::string node = node_env && *node_env ? node_env : "node";

  TempDir tmp;
  nlohmann::json manifest = {{"threads", threads}, {"jobs", nlohmann::json::array()}};
  std::vector<fs::path> outputs;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const torch::Tensor& x = jobs[i].input;
    if (!x.defined() || x.dim() != 4) throw Error("run_onnx_ort: job " + std::to_string(i) + " needs an (N,C,H,W) input");
    const fs::path in = tmp.path / ("in" + std::to_string(i) + ".bin");
    outputs.push_back(tmp.path / ("out" + std::to_string(i) + ".bin"));
    write_raw(in, x);
    manifest["jobs"].push_back({{"model", fs::absolute(jobs[i].model).string()},
                                {"input", in.string()},
                                {"output", outputs.back().string()},
                                {"shape", std::vector<int64_t>(x.sizes().begin(), x.sizes().end())}});
  }
  const fs::path manifest_path = tmp.path / "jobs.json";
  core::write_file_atomic(manifest_path, manifest.dump());
  const std::string cmd = shell_quote(node) + " " + shell_quote(script.string()) + " --ort-dir " +
                          shell_quote(ort.string()) + " --manifest " + shell_quote(manifest_path.string());
  const auto [rc, text] = run_command(cmd);
  if (rc != 0)
    throw Error("ONNX Runtime run failed (exit " + std::to_string(rc) + " of `" + cmd + "`" +
                (rc == 127 ? "; is Node.js installed? set SRLAB_NODE to its path" : "") + "): " + text);

  // One JSON line per job: {"output": path, "shape": [...], "time_ms": t}.
  std::map<std::string, nlohmann::json> lines;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);)
    if (!line.empty() && line[0] == '{') {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("output")) lines[j["output"].get<std::string>()] = j;
    }
  std::vector<OrtResult> results;
  for (const auto& out : outputs) {
    auto it = lines.find(out.string());
    if (it == lines.end()) throw Error("ONNX Runtime driver printed no result for '" + out.string() + "': " + text);
    const auto shape = it->second["shape"].get<std::vector<int64_t>>();
    const std::string raw = core::read_file(out);
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if (static_cast<int64_t>(raw.size()) != numel * 4)
      throw Error("ONNX Runtime output '" + out.string() + "' has " + std::to_string(raw.size()) +
                  " bytes, expected " + std::to_string(numel * 4) + " for shape " + core::dims_text(shape));
    OrtResult r;
    r.output = torch::empty(shape, torch::kFloat32);
    std::memcpy(r.output.data_ptr(), raw.data(), raw.size());
    r.time_ms = it->second.value("time_ms", -1.0);
    results.push_back(r);
  }
  return results;
}

bool OnnxVerifyReport::passed() const {
  bool any = false;
  for (const auto& c : checks) {
    if (c.error) return false;
    if (c.ran && !(c.max_abs_diff <= tolerance)) return false;
    any = any || c.ran;
  }
  return any;
}

std::string OnnxVerifyReport::text() const {
  std::string s = fmt::format("{:<13} {:<12} {:>12} {:>10}  {}\n", "runtime", "input", "max|diff|", "time", "note");
  for (const auto& c : checks) {
    const std::string diff = c.ran ? fmt::format("{:.3g}", c.max_abs_diff) : "-";
    const std::string time = c.time_ms >= 0 ? fmt::format("{:.1f} ms", c.time_ms) : "-";
    std::string note = c.note;
    if (c.ran && !(c.max_abs_diff <= tolerance)) note = "OVER TOLERANCE" + (note.empty() ? "" : "; " + note);
    s += fmt::format("{:<13} {:<12} {:>12} {:>10}  {}\n", c.runtime, c.input, diff, time, note);
  }
  bool any_ran = false;
  for (const auto& c : checks) any_ran = any_ran || c.ran;
  s += fmt::format("tolerance {:.0e}: {}\n", tolerance,
                   passed() ? "PASSED" : any_ran ? "FAILED" : "FAILED (no runtime ran the model)");
  return s;
}

OnnxVerifyReport verify_onnx(const Generator& g, const std::string& model_bytes, const fs::path& model_path,
                             const OnnxVerifyOptions& o) {
  if (!g) throw Error("verify_onnx: the generator is null");
  if (o.inputs.empty()) throw Error("verify_onnx: no inputs to verify on");
  OnnxVerifyReport report;
  report.tolerance = o.tolerance;
  std::vector<torch::Tensor> refs;
  {
    torch::NoGradGuard no_grad;
    for (const auto& x : o.inputs) refs.push_back(g->forward(x.to(torch::kCPU, torch::kFloat32)));
  }
  auto compare = [&](OnnxCheck& c, const torch::Tensor& out, const torch::Tensor& ref) {
    if (out.sizes() != ref.sizes()) {
      c.error = true;
      c.note = "output shape " + core::dims_text(out.sizes()) + ", LibTorch gives " + core::dims_text(ref.sizes());
      return;
    }
    c.ran = true;
    c.max_abs_diff = (out - ref).abs().max().item<double>();
  };

  if (o.onnxruntime) {
    OnnxCheck failed{"ONNX Runtime", "-"};  // one row when it cannot run at all
    if (!onnxruntime_available()) {
      failed.note = "not installed (run scripts/setup.sh --tests)";  // reported, not a failure
      report.checks.push_back(failed);
    } else {
      std::vector<OrtJob> jobs;
      for (const auto& x : o.inputs) jobs.push_back({model_path, x});
      try {
        std::vector<OrtResult> results;
        if (onnxruntime_in_process()) {  // the bytes in hand; no file needed
          const OrtInProcessModel session(model_bytes, model_path.string(), o.threads);
          for (const auto& x : o.inputs) results.push_back({session.forward(x), session.last_run_ms()});
        } else {
          results = run_onnx_ort(jobs, o.threads);
        }
        for (size_t i = 0; i < o.inputs.size(); ++i) {
          OnnxCheck c{"ONNX Runtime", core::dims_text(o.inputs[i].sizes())};
          c.time_ms = results[i].time_ms;
          compare(c, results[i].output, refs[i]);
          report.checks.push_back(c);
        }
      } catch (const Error& e) {
        failed.error = true;
        failed.note = e.what();
        report.checks.push_back(failed);
      }
    }
  }
  if (o.opencv) {
    for (size_t i = 0; i < o.inputs.size(); ++i) {
      OnnxCheck c{"OpenCV DNN", core::dims_text(o.inputs[i].sizes())};
      try {
        compare(c, run_onnx_opencv(model_bytes, o.inputs[i]), refs[i]);
      } catch (const Error& e) {
        c.note = e.what();  // an unsupported graph: reported, not a failure
        if (c.note.find("cannot load") != std::string::npos) {
          c.input = "-";  // the same for every input: report once
          report.checks.push_back(c);
          break;
        }
      }
      report.checks.push_back(c);
    }
  }
  return report;
}

std::vector<torch::Tensor> onnx_verify_inputs(const OnnxExportOptions& e, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<std::array<int64_t, 3>> sizes;  // N, H, W
  if (e.height > 0)
    sizes = {{e.batch > 0 ? e.batch : 1, e.height, e.width}};
  else
    sizes = {{1, 17, 23}, {2, 32, 32}, {1, 9, 14}};
  std::vector<torch::Tensor> out;
  for (auto [n, h, w] : sizes) out.push_back(torch::rand({e.batch > 0 ? e.batch : n, 3, h, w}, gen));
  return out;
}

}  // namespace srlab::models
