// The one write path (core/fs.h, core/torch_io.h): atomic replace / keep, disk-full errors (tmpfs),
// stale temporary files, non-regular files, folder locks and memory budgets (issue 16).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/folder_lock.h"
#include "core/fs.h"
#include "core/memory.h"
#include "core/torch_io.h"
#include "tests/test_util.h"
#include "tests/tmpfs.h"

namespace fs = std::filesystem;
using srlab::testing::error_of;
using namespace srlab::core;

namespace test_fs_test {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("srlab_fs_test_" + std::to_string(::getpid()) + "_" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The PID of a process that has exited and been reaped (so no process has it, barring reuse).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(WritePath, KeepRefusesAnExistingTargetAndReplaceReplacesIt) {
  TempDir t;
  const fs::path f = t.path / "a.txt";
  write_file_atomic(f, "one");
  const std::string msg = error_of([&] { write_file_atomic(f, "two", Existing::kKeep); });
  EXPECT_NE(msg.find("'" + f.string() + "' already exists; pass --overwrite"), std::string::npos) << msg;
  EXPECT_EQ(read_file(f), "one");
  write_file_atomic(f, "three", Existing::kReplace);
  EXPECT_EQ(read_file(f), "three");
  EXPECT_EQ(names_in(t.path), std::vector<std::string>{"a.txt"});
}

TEST(WritePath, KeepNeverReplacesAFileAnotherProcessCreatedMeanwhile) {
  TempDir t;
  const fs::path f = t.path / "img.png";
  const std::string msg = error_of([&] {
    write_atomic_with(
        f,
        [&](const fs::path& tmp) {
          std::ofstream(tmp) << "mine";
          std::ofstream(f) << "theirs";  // the other run wins the race after our existence check
        },
        Existing::kKeep);
  });
  EXPECT_NE(msg.find("another process wrote it meanwhile"), std::string::npos) << msg;
  EXPECT_EQ(read_file(f), "theirs");
  EXPECT_EQ(names_in(t.path), std::vector<std::string>{"img.png"});  // our temporary file is gone
}

TEST(WritePath, ForeignExceptionsOfAWriterBecomeAWriteFailure) {
  TempDir t;
  const fs::path f = t.path / "x.bin";
  const std::string msg = error_of([&] {
    write_atomic_with(f, [](const fs::path& tmp) {
      std::ofstream(tmp) << "partial";
      throw std::runtime_error("encoder said no\nbacktrace line");
    });
  });
  EXPECT_EQ(msg, "failed writing '" + f.string() + "' (disk full?): encoder said no");
  EXPECT_TRUE(names_in(t.path).empty());
}

TEST(WritePath, DiskFullIsAClearErrorAndLeavesTheOldFileAndNoTemp) {
  srlab::testing::SmallTmpfs disk("1m");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a 1 MiB tmpfs";
  const fs::path f = disk.path() / "report.json";
  write_file_atomic(f, "old");
  const std::string big(3 << 20, 'x');
  const std::string msg = error_of([&] { write_file_atomic(f, big); });
  EXPECT_EQ(msg, "failed writing '" + f.string() + "' (disk full?): No space left on device");
  EXPECT_EQ(read_file(f), "old");
  EXPECT_EQ(names_in(disk.path()), std::vector<std::string>{"report.json"});
}

TEST(WritePath, LibTorchArchiveOnAFullDiskThrowsInsteadOfAborting) {
  srlab::testing::SmallTmpfs disk("1m");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a 1 MiB tmpfs";
  const fs::path f = disk.path() / "best.pt";
  torch::serialize::OutputArchive ar;
  ar.write("weights", torch::rand({1 << 19}));  // 2 MiB: does not fit
  const std::string msg = error_of([&] { save_archive_atomic(ar, f); });
  EXPECT_NE(msg.find("failed writing '" + f.string() + "' (disk full?)"), std::string::npos) << msg;
  EXPECT_TRUE(names_in(disk.path()).empty());
  // A small archive still fits and reads back.
  torch::serialize::OutputArchive small;
  small.write("w", torch::arange(10, torch::kFloat32));
  save_archive_atomic(small, f);
  torch::serialize::InputArchive in;
  in.load_from(f.string());
  torch::Tensor w;
  in.read("w", w);
  EXPECT_TRUE(torch::equal(w, torch::arange(10, torch::kFloat32)));
}

TEST(WritePath, StaleTempsOfDeadProcessesAreRemovedOthersKept) {
  TempDir t;
  const pid_t dead = dead_pid();
  const std::string ours = std::to_string(::getpid());
  for (const std::string& n : std::vector<std::string>{"best.pt.tmp." + std::to_string(dead) + ".3",
                                                       "t.h5.tmp-" + std::to_string(dead) + "-0",
                                                       "live.pt.tmp." + ours + ".1", "notes.tmp.txt", "keep.pt"})
    std::ofstream(t.path / n) << "x";
  const auto removed = remove_stale_temps(t.path);
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_EQ(names_in(t.path), (std::vector<std::string>{"keep.pt", "live.pt.tmp." + ours + ".1", "notes.tmp.txt"}));
  EXPECT_TRUE(remove_stale_temps(t.path / "missing").empty());
}

TEST(WritePath, NonRegularFilesAreRefusedNotReadForever) {
  TempDir t;
  const fs::path fifo = t.path / "cfg.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string msg = error_of([&] { Config::load_file(fifo); });
  EXPECT_NE(msg.find("config file '" + fifo.string() + "' is a FIFO (named pipe), not a regular file"), std::string::npos)
      << msg;
  EXPECT_NE(error_of([&] { read_file(t.path); }).find("is a folder; expected a file"), std::string::npos);
}

TEST(FolderLock, SecondLockerGetsAnErrorNamingTheHolderPid) {
  TempDir t;
  {
    FolderLock a = FolderLock::try_acquire(t.path, "run folder", "pick another name");
    EXPECT_TRUE(a.held());
    const std::string msg = error_of([&] { FolderLock::try_acquire(t.path, "run folder", "pick another name"); });
    EXPECT_EQ(msg, "run folder '" + t.path.string() + "' is in use by another srlab process (PID " +
                       std::to_string(::getpid()) + "); wait for it to finish, or pick another name");
  }
  EXPECT_TRUE(FolderLock::try_acquire(t.path, "run folder", "x").held());  // released with its owner
}

TEST(FolderLock, AnotherProcessHoldingTheLockIsNamed) {
  TempDir t;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    FolderLock l = FolderLock::try_acquire(t.path, "run folder", "x");
    char c = 1;
    (void)!::write(ready[1], &c, 1);
    ::sleep(30);  // killed by the parent
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::string msg = error_of([&] { FolderLock::try_acquire(t.path, "run folder", "x"); });
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_NE(msg.find("(PID " + std::to_string(child) + ")"), std::string::npos) << msg;
  EXPECT_TRUE(FolderLock::try_acquire(t.path, "run folder", "x").held());  // kill -9 released it
}

TEST(Memory, BudgetRefusesImpossibleRequestsWithTheFigure) {
  const std::string msg = error_of([] { check_memory_budget(uint64_t{1} << 60, "upscaling 'a.png'", "lower --outscale"); });
  EXPECT_NE(msg.find("upscaling 'a.png' needs about 1073741824.0 GiB of memory but only"), std::string::npos) << msg;
  EXPECT_NE(msg.find("; lower --outscale"), std::string::npos);
  EXPECT_NO_THROW(check_memory_budget(1024, "x", "y"));
  EXPECT_EQ(format_bytes(uint64_t{3} << 29), "1.5 GiB");
}

namespace {
TEST(PathKind, FoldersAndFilesAreNamedForWhatTheyAre) {
  TempDir t;
  const fs::path file = t.path / "f.txt";
  std::ofstream(file) << "x";
  EXPECT_NO_THROW(require_path_kind(file, PathKind::kFile, "input"));
  EXPECT_NO_THROW(require_path_kind(t.path, PathKind::kFolder, "input"));
  EXPECT_NO_THROW(require_path_kind(t.path / "missing", PathKind::kFile, "input"));
  EXPECT_EQ(error_of([&] { require_path_kind(t.path, PathKind::kFile, "--out", false, "give a file name"); }),
            "--out '" + t.path.string() + "' is a folder; expected a file; give a file name");
  EXPECT_EQ(error_of([&] { require_path_kind(file, PathKind::kFolder, "image folder"); }),
            "image folder '" + file.string() + "' is a file; expected a folder");
  EXPECT_EQ(error_of([&] { require_path_kind(t.path / "missing", PathKind::kFolder, "-d", true); }),
            "-d '" + (t.path / "missing").string() + "' does not exist");
  // Outputs: a folder in the way is named as such whatever the overwrite policy.
  for (const Existing e : {Existing::kKeep, Existing::kReplace})
    EXPECT_NE(error_of([&] { write_file_atomic(t.path, "data", e); }).find("is a folder; expected a file"),
              std::string::npos);
  EXPECT_NE(error_of([&] { create_output_folder(file, "output folder"); }).find("is a file; expected a folder"),
            std::string::npos);
  create_output_folder(t.path / "a" / "b", "output folder");
  EXPECT_TRUE(fs::is_directory(t.path / "a" / "b"));
}
}  // namespace

}  // namespace test_fs_test
