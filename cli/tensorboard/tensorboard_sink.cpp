#include "cli/tensorboard/tensorboard_sink.h"

#include "cli/tensorboard/event_file.h"

namespace srlab::cli {

namespace {

class TensorBoardSink : public train::ScalarSink {
 public:
  TensorBoardSink(const std::filesystem::path& dir, int64_t session_start_step) : writer_(dir, session_start_step) {}
  void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) override {
    writer_.add_scalars(step, values);
  }
  void flush() override { writer_.flush(); }

 private:
  EventFileWriter writer_;
};

}  // namespace

train::ScalarSinkFactory tensorboard_sink_factory() {
  return [](const std::filesystem::path& run_dir, int64_t start_step,
            bool /*resume*/) -> std::unique_ptr<train::ScalarSink> {
    return std::make_unique<TensorBoardSink>(run_dir, start_step + 1);
  };
}

}  // namespace srlab::cli
