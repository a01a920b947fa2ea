// A read-only memory mapping of a whole file, unmapped when the last owner lets go.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace lorax {

class MappedFile {
 public:
  // Maps `path` read-only. Throws lorax::Error naming the file if it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);

  struct Key {  // only open() can make one, so only open() constructs
   private:
    Key() = default;
    friend class MappedFile;
  };
  MappedFile(Key, std::string path, const char* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const char* data_;
  size_t size_;
};

// Reads a whole (small) text file; throws lorax::Error naming the file when it cannot.
std::string read_text_file(const std::string& path);

}  // namespace lorax
