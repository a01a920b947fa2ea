#include "io/confined_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>) && defined(SYS_openat2)
#include <linux/openat2.h>
#define LORAX_HAVE_OPENAT2 1
#endif

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace lorax {

namespace {

namespace fs = std::filesystem;

// O_NONBLOCK: opening a FIFO planted where a file is expected returns at once (and is then
// refused as not a regular file) instead of blocking the thread.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::optional<FileHandle> regular(FileHandle file, const std::string& name) {
  struct stat info {};
  LORAX_CHECK(::fstat(file.fd(), &info) == 0 && S_ISREG(info.st_mode), name,
              ": not a regular file");
  return file;
}

// The file `relative` beneath the directory `dir`, resolved by the kernel without leaving it:
// -1 with errno set when it cannot (EXDEV for a path that would leave it, ENOSYS before 5.6).
int open_resolved_beneath(int dir, const std::string& relative) {
#ifdef LORAX_HAVE_OPENAT2
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return int(::syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof how));
#else
  (void)dir, (void)relative;
  errno = ENOSYS;  // headers older than the call: the real-path check stands in
  return -1;
#endif
}

// Whether `path` is `base` or lies under it, compared by whole components (so /a/bc is not
// under /a/b).
bool inside(const fs::path& base, const fs::path& path) {
  auto p = path.begin();
  for (auto b = base.begin(); b != base.end(); ++b, ++p)
    if (p == path.end() || *p != *b) return false;
  return true;
}

}  // namespace

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

void check_relative(const std::string& relative) {
  const fs::path rel(relative);
  LORAX_CHECK(relative.find('\0') == std::string::npos && !rel.empty() && !rel.is_absolute(),
              "a file name must be a path relative to its directory");
}

[[noreturn]] void leads_outside(const std::string& relative) {
  fail(relative, ": a symlink on this path leads outside the directory it must stay in");
}

// The real path of `relative` (every symlink resolved) relative to the real path of `root`;
// nullopt when nothing is there. Throws when it lies outside the root.
std::optional<fs::path> real_path_inside(const std::string& root, const std::string& relative) {
  std::error_code ec;
  const fs::path base = fs::canonical(root, ec);
  LORAX_CHECK(!ec, relative, ": its directory cannot be resolved: ", ec.message());
  const fs::path real = fs::canonical(base / relative, ec);
  if (ec == std::errc::no_such_file_or_directory) return std::nullopt;
  LORAX_CHECK(!ec, relative, ": cannot be resolved: ", ec.message());
  if (!inside(base, real) || real == base) leads_outside(relative);
  return real.lexically_relative(base);
}

}  // namespace

std::optional<FileHandle> open_beneath(const std::string& root, const std::string& relative) {
  check_relative(relative);
  const FileHandle dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  LORAX_CHECK(dir.fd() >= 0, relative, ": its directory cannot be opened");
  int fd = open_resolved_beneath(dir.fd(), relative);
  if (fd >= 0) return regular(FileHandle(fd), relative);
  int error = errno;
  if (error == ENOENT) return std::nullopt;
  if (error == ENOSYS || error == EPERM) return open_beneath_by_real_path(root, relative);
  if (error != EXDEV) fail(relative, ": cannot open: ", errno_text(error));
  // EXDEV: the path leaves the root, or holds an absolute symlink (refused beneath a root even
  // when it points inside). Its real path decides; being free of symlinks, the kernel still keeps
  // it beneath the root should one be swapped in meanwhile.
  const std::optional<fs::path> inner = real_path_inside(root, relative);
  if (!inner) return std::nullopt;
  fd = open_resolved_beneath(dir.fd(), inner->string());
  if (fd >= 0) return regular(FileHandle(fd), relative);
  error = errno;
  if (error == ENOENT) return std::nullopt;
  if (error == EXDEV) leads_outside(relative);
  fail(relative, ": cannot open: ", errno_text(error));
}

std::optional<FileHandle> open_beneath_by_real_path(const std::string& root,
                                                    const std::string& relative) {
  check_relative(relative);
  const std::optional<fs::path> inner = real_path_inside(root, relative);
  if (!inner) return std::nullopt;
  const int fd = ::open((fs::path(root) / *inner).c_str(), kOpenFlags | O_NOFOLLOW);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return std::nullopt;
    fail(relative, ": cannot open: ", errno_text(error));
  }
  return regular(FileHandle(fd), relative);
}

std::optional<FileHandle> open_regular_file(const std::string& path, const std::string& name) {
  LORAX_CHECK(path.find('\0') == std::string::npos, name, ": the path holds a NUL byte");
  const int fd = ::open(path.c_str(), kOpenFlags);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return std::nullopt;
    fail(name, ": cannot open: ", errno_text(error));
  }
  return regular(FileHandle(fd), name);
}

uint64_t file_size(const FileHandle& file) {
  struct stat info {};
  LORAX_CHECK(::fstat(file.fd(), &info) == 0, "cannot read the size of an open file");
  return uint64_t(info.st_size);
}

std::string read_all(const FileHandle& file, const std::string& name, size_t max_bytes) {
  const uint64_t size = file_size(file);
  LORAX_CHECK(size <= max_bytes, name, " is ", size, " bytes, more than the ", max_bytes,
              " this file may have");
  std::string out(size_t(size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(file.fd(), out.data() + done, out.size() - done, off_t(done));
    if (n < 0 && errno == EINTR) continue;
    LORAX_CHECK(n >= 0, name, ": read error: ", errno_text(errno));
    if (n == 0) break;  // shrank meanwhile
    done += size_t(n);
  }
  out.resize(done);
  return out;
}

}  // namespace lorax
