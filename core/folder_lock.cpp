#include "core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace srlab::core {
namespace fs = std::filesystem;

namespace {
constexpr const char* kLockName = ".srlab.lock";

int flock_retry(int fd, int op) {
  int r;
  while ((r = ::flock(fd, op)) != 0 && errno == EINTR) {
  }
  return r;
}

std::string read_owner(int fd) {
  char buf[32] = {0};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown" : s;
}
}  // namespace

FolderLock::~FolderLock() { release(); }

FolderLock::FolderLock(FolderLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FolderLock& FolderLock::operator=(FolderLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void FolderLock::release() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);  // closing the last descriptor of the open file description drops the flock
  fd_ = -1;
}

FolderLock FolderLock::try_acquire(const fs::path& folder, const std::string& what, const std::string& advice) {
  const fs::path file = folder / kLockName;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error("cannot create lock file '" + file.string() + "': " + std::strerror(errno) +
                " (is the folder writable?)");
  if (flock_retry(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string owner = read_owner(fd);
    ::close(fd);
    if (err == EWOULDBLOCK)
      throw Error(what + " '" + folder.string() + "' is in use by another srlab process (PID " + owner +
                  "); wait for it to finish, or " + advice);
    throw Error("cannot lock '" + file.string() + "': " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock itself is held; only the PID note failed (e.g. disk full): keep going.
  }
  return FolderLock(fd);
}

FolderMutex::FolderMutex(const fs::path& folder) {
  fd_ = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot open folder '" + folder.string() + "': " + std::strerror(errno));
  if (flock_retry(fd_, LOCK_EX) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw Error("cannot lock folder '" + folder.string() + "': " + std::strerror(err));
  }
}

FolderMutex::~FolderMutex() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace srlab::core
