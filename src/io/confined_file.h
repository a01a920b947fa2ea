// Files read from a directory a client may influence (adapter directories), opened so that no
// path component and no symlink leads outside it.
//
// On Linux 5.6+ the kernel resolves the path beneath the root itself (openat2 with
// RESOLVE_BENEATH), so a symlink swapped in between a check and the open cannot escape. A symlink
// that stays inside the root is followed; an absolute one is resolved by its real path and
// followed when that lies inside the root. Where openat2 is missing the real path of the file
// (every symlink resolved) is checked against the root's, component by component, before the
// file is opened.
#pragma once

#include <optional>
#include <string>

namespace lorax {

// An open file descriptor, closed when dropped.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Opens `relative` (a path relative to `root`) read-only, never leaving `root`, and checks that
// it is a regular file (never blocking on a FIFO). nullopt when nothing is there. Throws
// lorax::Error when the path or a symlink on it leads outside the root, when it is not a regular
// file, or when it cannot be opened; the message names `relative`, never the root or a target.
std::optional<FileHandle> open_beneath(const std::string& root, const std::string& relative);

// What open_beneath() does where openat2 is missing: the real path of the file is checked
// against the root's, then opened. A symlink swapped in between the two can escape; kernels
// from 5.6 on never take this path.
std::optional<FileHandle> open_beneath_by_real_path(const std::string& root,
                                                    const std::string& relative);

// Opens `path` read-only following every symlink (operator-chosen paths), with the same checks
// and errors naming `name`. nullopt when nothing is there.
std::optional<FileHandle> open_regular_file(const std::string& path, const std::string& name);

// The size in bytes of an open file.
uint64_t file_size(const FileHandle& file);

// The whole content of an open file of at most `max_bytes` (checked before reading); errors
// name `name`.
std::string read_all(const FileHandle& file, const std::string& name, size_t max_bytes);

}  // namespace lorax
