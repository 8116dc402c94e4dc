#pragma once
// TensorBoard event files (events.out.tfevents.<unix seconds>.<hostname>): TFRecord files
// (cli/tensorboard/tfrecord.h) of serialized Event protobufs (cli/tensorboard/event.proto, field
// numbers of TensorFlow's tensorflow/core/util/event.proto). The first record is
// Event{wall_time, file_version: "brain.Event:2"}; scalars are Event{wall_time, step, summary {value {tag,
// simple_value}}}. Source: TensorFlow's core/util/events_writer.cc (file name, first record) and
// TensorBoard's backend/event_processing (event_file_loader.py, event_accumulator.py: reading, and the
// SessionLog START purge of orphaned steps).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace srlab::cli {

/// Appends events to a new TensorBoard event file. Not thread-safe.
class EventFileWriter {
 public:
  /// Creates <dir>/events.out.tfevents.<unix seconds>.<hostname> (".1", ".2", ... appended when a file of
  /// that name exists; the names still sort in creation order, as TensorBoard reads them) and writes
  /// Event{file_version: "brain.Event:2"} and Event{step: session_start_step, session_log: START}: the
  /// first steps this session writes are >= session_start_step, so TensorBoard drops the points with
  /// step >= session_start_step of earlier files of the folder (a run resumed from an older checkpoint).
  /// TensorBoard ignores the first START it reads, so every file gets one. Flushed.
  /// @throws srlab::Error naming the file when it cannot be created or written.
  EventFileWriter(const std::filesystem::path& dir, int64_t session_start_step);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  /// Appends one Event{wall_time (default: now), step, summary} holding each (tag, value) as a float
  /// simple_value (TensorBoard's Scalars tab); nothing for an empty `values`.
  /// @throws srlab::Error naming the file when it cannot be written.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values,
                   std::optional<double> wall_time = std::nullopt);
  /// Hands the written records to the operating system (a killed process keeps them).
  /// @throws srlab::Error naming the file when that fails (e.g. disk full).
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& serialized_event);
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

/// One event read back. `what` tells which member is set: file_version, session_status (1 START, 2 STOP,
/// 3 CHECKPOINT) or values (the simple_value scalars of a summary; other summary values are skipped).
struct TensorBoardEvent {
  enum class What { other, file_version, session_log, summary };
  uint64_t offset = 0;  ///< byte offset of the record in the file
  double wall_time = 0.0;
  int64_t step = 0;
  What what = What::other;
  std::string file_version;
  int session_status = 0;
  std::vector<std::pair<std::string, float>> values;
};

/// Every event of the event file `file`, in file order.
/// @throws srlab::Error naming the file and the record's byte offset for a truncated or corrupt record
///         (read_tfrecords) and for a record that is not an Event protobuf.
std::vector<TensorBoardEvent> read_tensorboard_events(const std::filesystem::path& file);

/// One scalar point of an event file.
struct ScalarPoint {
  int64_t step = 0;
  std::string tag;
  double value = 0.0;  ///< the stored float
  double wall_time = 0.0;
};

/// The scalar points of the event file `file`, in file order (read_tensorboard_events, flattened).
/// @throws srlab::Error as read_tensorboard_events().
std::vector<ScalarPoint> read_tensorboard_scalars(const std::filesystem::path& file);

}  // namespace srlab::cli
