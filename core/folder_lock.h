#pragma once
// Exclusive locks on folders (flock(2) on a lock file inside), so that two SRLab processes never write
// into the same run folder at once.
#include <filesystem>
#include <string>

namespace srlab::core {

/// Holds an exclusive flock(2) on "<folder>/.srlab.lock" (which holds the owner's PID) while alive;
/// the lock is released when the object is destroyed or the process dies (also on kill -9). The lock
/// file is left in place (removing it would race with the next locker). Movable, not copyable.
class FolderLock {
 public:
  FolderLock() = default;
  ~FolderLock();
  FolderLock(FolderLock&& other) noexcept;
  FolderLock& operator=(FolderLock&& other) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  /// Locks `folder` (which must exist) without waiting. Throws srlab::Error
  /// "<what> 'folder' is in use by another srlab process (PID n); wait for it to finish, or <advice>"
  /// when another process (or another FolderLock of this one) holds it, or naming the lock file when it
  /// cannot be created.
  static FolderLock try_acquire(const std::filesystem::path& folder, const std::string& what,
                                const std::string& advice);

  bool held() const { return fd_ >= 0; }
  /// Releases the lock now (no-op when not held).
  void release() noexcept;

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Blocks until an exclusive flock(2) on the folder itself (its directory file descriptor) is held:
/// a short critical section among processes creating, archiving or locking sub-folders of `folder`.
/// Released on destruction. Throws srlab::Error naming the folder when it cannot be opened.
class FolderMutex {
 public:
  explicit FolderMutex(const std::filesystem::path& folder);
  ~FolderMutex();
  FolderMutex(const FolderMutex&) = delete;
  FolderMutex& operator=(const FolderMutex&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace srlab::core
