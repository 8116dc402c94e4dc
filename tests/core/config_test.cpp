#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/paths.h"

using srlab::Error;
using srlab::core::Config;

using srlab::testing::error_of;

TEST(Config, ReadsTypedValuesAndDefaults) {
  Config c = Config::parse("a: 3\nb: 1.5e-3\nc: true\nd: [1, 2]\ne: {f: hello}\n", "t.yaml");
  EXPECT_EQ(c.req<int>("a"), 3);
  EXPECT_DOUBLE_EQ(c.req<double>("b"), 1.5e-3);
  EXPECT_TRUE(c.req<bool>("c"));
  EXPECT_EQ(c.req<std::vector<int>>("d"), (std::vector<int>{1, 2}));
  EXPECT_EQ(c.at("e").req<std::string>("f"), "hello");
  EXPECT_EQ(c.get<int>("missing", 7), 7);
  EXPECT_NO_THROW(c.check_known());
}

TEST(Config, WrongTypeNamesFileAndKey) {
  Config c = Config::parse("train:\n  iters: many\n", "exp.yaml");
  const std::string msg = error_of([&] { c.at("train").req<int>("iters"); });
  EXPECT_NE(msg.find("exp.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.iters"), std::string::npos) << msg;
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
}

TEST(Config, UnknownKeyIsReported) {
  Config c = Config::parse("train:\n  iters: 10\n  itres: 20\n", "exp.yaml");
  c.at("train").req<int>("iters");
  const std::string msg = error_of([&] { c.check_known(); });
  EXPECT_NE(msg.find("unknown key 'train.itres'"), std::string::npos) << msg;
}

TEST(Config, ListItemsTrackPaths) {
  Config c = Config::parse("losses:\n  - {type: l1, weight: 1}\n  - {type: mse, wieght: 2}\n", "x.yaml");
  for (auto& item : c.at("losses").items()) {
    item.req<std::string>("type");
    item.get<double>("weight", 1.0);
  }
  const std::string msg = error_of([&] { c.check_known(); });
  EXPECT_NE(msg.find("losses[1].wieght"), std::string::npos) << msg;
}

TEST(Config, OverridesKeepTypesAndCreateMaps) {
  Config c = Config::parse("train: {iters: 10}\n", "x.yaml");
  c.set_override("train.iters=250");
  c.set_override("optimizer.lr=2e-4");
  c.set_override("data.train.hr_dirs=[a, b]");
  EXPECT_EQ(c.at("train").req<int>("iters"), 250);
  EXPECT_DOUBLE_EQ(c.at("optimizer").req<double>("lr"), 2e-4);
  EXPECT_EQ(c.at("data").at("train").req<std::vector<std::string>>("hr_dirs").size(), 2u);
  EXPECT_THROW(c.set_override("novalue"), Error);
  EXPECT_THROW(c.set_override("train.iters.x=1"), Error);  // iters is a scalar, not a mapping
}

TEST(Config, MalformedYamlNamesFileAndLine) {
  const std::string msg = error_of([] { Config::parse("a: 1\nb: [1, 2\n", "bad.yaml"); });
  EXPECT_NE(msg.find("bad.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line"), std::string::npos) << msg;
  EXPECT_THROW(Config::load_file("/nonexistent/file.yaml"), Error);
}

TEST(AtomicWrite, WritesAndLeavesNoTempOnFailure) {
  const auto dir = std::filesystem::temp_directory_path() / "srlab_core_test";
  std::filesystem::remove_all(dir);
  srlab::core::write_file_atomic(dir / "a.txt", "hello");
  EXPECT_EQ(srlab::core::read_file(dir / "a.txt"), "hello");
  EXPECT_THROW(srlab::core::write_atomic_with(dir / "b.txt",
                                              [](const std::filesystem::path& tmp) {
                                                std::ofstream(tmp) << "partial";
                                                throw Error("simulated failure");
                                              }),
               Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "b.txt"));
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // only a.txt: the temp file was removed
  std::filesystem::remove_all(dir);
}

TEST(Paths, SharedDataFoundOrClearError) {
  // CI and developers run next to shared/data; the error path is checked with a bogus SRLAB_DATA.
  const char* old = std::getenv("SRLAB_DATA");
  setenv("SRLAB_DATA", "/definitely/not/here", 1);
  const std::string msg = error_of([] { srlab::core::shared_data_dir(); });
  EXPECT_NE(msg.find("/definitely/not/here"), std::string::npos) << msg;
  if (old) setenv("SRLAB_DATA", old, 1); else unsetenv("SRLAB_DATA");
  EXPECT_TRUE(std::filesystem::exists(srlab::core::shared_data_dir() / "benchmarks"));
  EXPECT_EQ(srlab::core::expand_data_path("plain/path"), "plain/path");
}
