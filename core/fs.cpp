#include "core/fs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>

#include "core/error.h"
#include "core/log.h"

namespace srlab::core {
namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

void create_parent(const fs::path& target) {
  if (!target.has_parent_path()) return;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw Error("cannot create folder " + quoted(target.parent_path()) + ": " + ec.message());
}

// Fsyncs a file by name; returns 0 or the errno of open/fsync/close.
int fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

// The folder entry of a published file is made durable too (best effort: not every FS supports it).
void fsync_folder_quietly(const fs::path& target) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// The writing end of write_atomic_stream: remembers the first error, never throws, never short-writes.
struct FdSink {
  int fd = -1;
  int err = 0;
  size_t operator()(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    size_t left = err ? 0 : n;
    while (left > 0) {
      const ssize_t w = ::write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        err = w < 0 ? errno : EIO;
        break;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    return n;
  }
};

bool pid_alive(long pid) {
  if (pid <= 0) return true;  // not ours to judge
  if (pid == static_cast<long>(::getpid())) return true;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

fs::path temp_path_for(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  return fs::path(target.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++));
}

std::string write_failure_message(const fs::path& target, const std::string& detail) {
  std::string first = detail.substr(0, detail.find('\n'));
  return "failed writing " + quoted(target) + " (disk full?)" + (first.empty() ? "" : ": " + first);
}

void require_path_kind(const fs::path& path, PathKind expected, const std::string& what, bool must_exist,
                       const std::string& hint) {
  const std::string tail = hint.empty() ? "" : "; " + hint;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) {
    if (must_exist) throw Error(what + " " + quoted(path) + " does not exist" + tail);
    return;
  }
  const bool folder = fs::is_directory(st);
  if (expected == PathKind::kFolder) {
    if (!folder) throw Error(what + " " + quoted(path) + " is a file; expected a folder" + tail);
    return;
  }
  if (folder) throw Error(what + " " + quoted(path) + " is a folder; expected a file" + tail);
  if (!fs::is_regular_file(st)) {
    const char* kind = fs::is_fifo(st) ? "a FIFO (named pipe)" : fs::is_socket(st) ? "a socket" : "a device or special file";
    throw Error(what + " " + quoted(path) + " is " + kind + ", not a regular file; pass a file" + tail);
  }
}

void create_output_folder(const fs::path& dir, const std::string& what) {
  require_path_kind(dir, PathKind::kFolder, what);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + what + " " + quoted(dir) + ": " + ec.message());
}

void check_output_free(const fs::path& target, Existing existing) {
  require_path_kind(target, PathKind::kFile, "output", false, "give a file name (e.g. " + (target / "model.out").string() + ")");
  std::error_code ec;
  if (existing == Existing::kKeep && fs::exists(fs::symlink_status(target, ec)))
    throw Error("output " + quoted(target) + " already exists; pass --overwrite to replace it");
}

void publish_temp(const fs::path& tmp, const fs::path& target, Existing existing) {
  if (const int err = fsync_path(tmp)) throw Error(write_failure_message(target, std::strerror(err)));
  if (existing == Existing::kKeep) {
    if (::link(tmp.c_str(), target.c_str()) == 0) {
      ::unlink(tmp.c_str());
      fsync_folder_quietly(target);
      return;
    }
    const int err = errno;
    if (err == EEXIST)
      throw Error("output " + quoted(target) +
                  " already exists (another process wrote it meanwhile?); pass --overwrite to replace it");
    if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != EXDEV)
      throw Error("cannot move " + quoted(tmp) + " onto " + quoted(target) + ": " + std::strerror(err));
    check_output_free(target, existing);  // no hard links here (e.g. FAT): best effort
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) throw Error("cannot move " + quoted(tmp) + " onto " + quoted(target) + ": " + ec.message());
  fsync_folder_quietly(target);
}

void write_atomic_stream(const fs::path& target, const std::function<void(const ByteSink&)>& producer,
                         Existing existing) {
  check_output_free(target, existing);
  create_parent(target);
  const fs::path tmp = temp_path_for(target);
  FdSink sink;
  sink.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (sink.fd < 0) {
    const int err = errno;
    throw Error(err == ENOSPC || err == EDQUOT ? write_failure_message(target, std::strerror(err))
                                               : "cannot create " + quoted(tmp) + ": " + std::strerror(err) +
                                                     " (is the folder writable?)");
  }
  try {
    try {
      producer([&sink](const void* d, size_t n) { return sink(d, n); });
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(write_failure_message(target, e.what()));
    }
    if (sink.err == 0 && ::fsync(sink.fd) != 0) sink.err = errno;
    const int fd = sink.fd;
    sink.fd = -1;
    if (::close(fd) != 0 && sink.err == 0) sink.err = errno;
    if (sink.err) throw Error(write_failure_message(target, std::strerror(sink.err)));
    publish_temp(tmp, target, existing);
  } catch (...) {
    if (sink.fd >= 0) ::close(sink.fd);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_file_atomic(const fs::path& target, std::string_view content, Existing existing) {
  write_atomic_stream(target, [&](const ByteSink& sink) { sink(content.data(), content.size()); }, existing);
}

void write_atomic_with(const fs::path& target, const std::function<void(const fs::path&)>& writer,
                       Existing existing) {
  check_output_free(target, existing);
  create_parent(target);
  const fs::path tmp = temp_path_for(target);
  try {
    try {
      writer(tmp);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(write_failure_message(target, e.what()));
    }
    publish_temp(tmp, target, existing);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

std::vector<fs::path> remove_stale_temps(const fs::path& folder) {
  static const std::regex kTemp(R"(^.+(\.tmp\.(\d+)\.\d+|\.tmp-(\d+)-\d+)$)");
  std::vector<fs::path> removed;
  std::error_code ec;
  for (fs::directory_iterator it(folder.empty() ? fs::path(".") : folder, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, kTemp)) continue;
    const long pid = std::stol(m[2].matched ? m[2].str() : m[3].str());
    std::error_code e2;
    if (pid_alive(pid) || !it->is_regular_file(e2)) continue;
    const auto bytes = fs::file_size(it->path(), e2);
    if (fs::remove(it->path(), e2)) {
      log("removed stale temporary file {} ({} bytes) left by process {}, which no longer runs",
          it->path().string(), e2 ? 0 : bytes, pid);
      removed.push_back(it->path());
    }
  }
  return removed;
}

void require_regular_file_if_exists(const fs::path& path, const std::string& what) {
  require_path_kind(path, PathKind::kFile, what);
}

std::string read_file(const fs::path& path) {
  require_regular_file_if_exists(path, "file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot read file " + quoted(path) + ": it does not exist or is not readable");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw Error("cannot read file " + quoted(path) + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace srlab::core
