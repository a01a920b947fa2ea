#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace lorax {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  LORAX_CHECK(fd >= 0, "cannot open ", path, ": ", std::strerror(errno));
  return map(FileHandle(fd), path);
}

std::shared_ptr<MappedFile> MappedFile::map(const FileHandle& file, std::string name) {
  struct stat info {};
  LORAX_CHECK(::fstat(file.fd(), &info) == 0 && S_ISREG(info.st_mode), "cannot read ", name,
              ": not a regular file");
  const size_t size = size_t(info.st_size);
  const char* data = nullptr;
  if (size > 0) {
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd(), 0);
    LORAX_CHECK(mapped != MAP_FAILED, "cannot map ", name, ": ", std::strerror(errno));
    data = static_cast<const char*>(mapped);
  }
  return std::make_shared<MappedFile>(Key{}, std::move(name), data, size);
}

std::shared_ptr<MappedFile> MappedFile::from_bytes(std::string name, std::string bytes) {
  return std::make_shared<MappedFile>(Key{}, std::move(name), std::move(bytes));
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

std::string read_text_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  LORAX_CHECK(in.good(), "cannot open ", path, ": ", std::strerror(errno));
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  LORAX_CHECK(error || size <= max_bytes, path, " is ", size, " bytes, more than the ", max_bytes,
              " this file may have");
  std::ostringstream content;
  content << in.rdbuf();
  LORAX_CHECK(!in.bad(), "error reading ", path);
  return content.str();
}

}  // namespace lorax
