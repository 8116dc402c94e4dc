#pragma once
// The TensorBoard scalar sink that `srlab train` installs (train::TrainerOptions::scalar_sink): the
// trainer's numbers go to an event file in the run folder (cli/tensorboard/event_file.h), readable by
// `tensorboard --logdir <runs dir>`. It implements train's header-only ScalarSink interface, so the
// training library never links protobuf (issue 15).
#include "train/scalar_sink.h"

namespace srlab::cli {

/// A factory that opens a new EventFileWriter in the run folder for each training session, whose
/// SessionLog START step is start_step + 1, the first step the session can log: on resume, TensorBoard
/// then drops the points that earlier files hold after the checkpoint's iteration (the run was stopped
/// or killed after it), as metrics.csv drops those rows, and keeps the point of the checkpoint's
/// iteration itself. The sink's calls throw srlab::Error when the file cannot be written (the trainer
/// then warns once and goes on, train::ScalarLog).
train::ScalarSinkFactory tensorboard_sink_factory();

}  // namespace srlab::cli
