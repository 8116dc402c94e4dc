#include "cli/tensorboard/event_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.h"
#include "cli/tensorboard/event.pb.h"
#include "cli/tensorboard/tfrecord.h"

namespace srlab::cli {
namespace fs = std::filesystem;
namespace pb = srlab::tensorboard;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string serialize(const pb::Event& e) {
  std::string out;
  if (!e.SerializeToString(&out)) throw Error("cannot serialize a TensorBoard event");
  return out;
}

}  // namespace

EventFileWriter::EventFileWriter(const fs::path& dir, int64_t session_start_step) {
  const double t0 = now_seconds();
  const std::string base = fmt::format("events.out.tfevents.{}.{}", static_cast<int64_t>(t0), host_name());
  for (int n = 0; !file_; ++n) {
    path_ = dir / (n == 0 ? base : fmt::format("{}.{}", base, n));
    file_ = std::fopen(path_.c_str(), "wbx");  // x: fails (EEXIST) instead of replacing a file
    if (!file_ && (errno != EEXIST || n >= 1000))
      throw Error(fmt::format("cannot create TensorBoard event file '{}': {}", path_.string(), std::strerror(errno)));
  }
  try {
    pb::Event version;
    version.set_wall_time(t0);
    version.set_file_version("brain.Event:2");
    write_record(serialize(version));
    pb::Event start;
    start.set_wall_time(t0);
    start.set_step(session_start_step);
    start.mutable_session_log()->set_status(pb::SessionLog::START);
    write_record(serialize(start));
    flush();
  } catch (...) {
    std::fclose(file_);
    throw;
  }
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values,
                                  std::optional<double> wall_time) {
  if (values.empty()) return;
  pb::Event e;
  e.set_wall_time(wall_time ? *wall_time : now_seconds());
  e.set_step(step);
  for (const auto& [tag, value] : values) {
    pb::Summary::Value* v = e.mutable_summary()->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  write_record(serialize(e));
}

void EventFileWriter::flush() {
  if (std::fflush(file_) != 0)
    throw Error(fmt::format("cannot write TensorBoard event file '{}': {}", path_.string(), std::strerror(errno)));
}

void EventFileWriter::write_record(const std::string& serialized_event) {
  const std::string record = tfrecord_frame(serialized_event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size())
    throw Error(fmt::format("cannot write TensorBoard event file '{}': {}", path_.string(), std::strerror(errno)));
}

std::vector<TensorBoardEvent> read_tensorboard_events(const fs::path& file) {
  std::vector<TensorBoardEvent> out;
  for (const TfRecord& r : read_tfrecords(file)) {
    pb::Event e;
    if (!e.ParseFromString(r.data))
      throw Error(fmt::format("TensorBoard event file '{}': the record at byte offset {} is not an Event protobuf",
                              file.string(), r.offset));
    TensorBoardEvent ev;
    ev.offset = r.offset;
    ev.wall_time = e.wall_time();
    ev.step = e.step();
    switch (e.what_case()) {
      case pb::Event::kFileVersion:
        ev.what = TensorBoardEvent::What::file_version;
        ev.file_version = e.file_version();
        break;
      case pb::Event::kSessionLog:
        ev.what = TensorBoardEvent::What::session_log;
        ev.session_status = static_cast<int>(e.session_log().status());
        break;
      case pb::Event::kSummary:
        ev.what = TensorBoardEvent::What::summary;
        for (const auto& v : e.summary().value())
          if (v.value_case() == pb::Summary::Value::kSimpleValue) ev.values.emplace_back(v.tag(), v.simple_value());
        break;
      default:
        break;
    }
    out.push_back(std::move(ev));
  }
  return out;
}

std::vector<ScalarPoint> read_tensorboard_scalars(const fs::path& file) {
  std::vector<ScalarPoint> out;
  for (const TensorBoardEvent& e : read_tensorboard_events(file))
    for (const auto& [tag, value] : e.values) out.push_back({e.step, tag, value, e.wall_time});
  return out;
}

}  // namespace srlab::cli
