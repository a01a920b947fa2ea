// A read-only memory mapping of a whole file, unmapped when the last owner lets go.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "io/confined_file.h"

namespace lorax {

// JSON side files of a checkpoint or adapter (config.json, adapter_config.json, shard indexes)
// are kilobytes; tokenizer.json of a 256k vocabulary is ~35 MB. Anything past this is refused.
inline constexpr size_t kMaxTextFileBytes = size_t{256} << 20;

class MappedFile {
 public:
  // Maps `path` read-only. Throws lorax::Error naming the file if it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  // Maps a file already opened (open_beneath()); `name` stands in for its path in errors.
  static std::shared_ptr<MappedFile> map(const FileHandle& file, std::string name);
  // Bytes already in memory, owned by the result; `name` stands in for the path in errors.
  // (Fuzz targets and tests parse files this way without touching the disk.)
  static std::shared_ptr<MappedFile> from_bytes(std::string name, std::string bytes);

  struct Key {  // only open() can make one, so only open() constructs
   private:
    Key() = default;
    friend class MappedFile;
  };
  MappedFile(Key, std::string path, const char* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size), mapped_(data != nullptr) {}
  MappedFile(Key, std::string path, std::string bytes)
      : path_(std::move(path)),
        owned_(std::move(bytes)),
        data_(owned_.data()),
        size_(owned_.size()),
        mapped_(false) {}
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string owned_;  // from_bytes(): the bytes themselves
  const char* data_;
  size_t size_;
  bool mapped_;  // data_ is an mmap to undo
};

// Reads a whole (small) text file; throws lorax::Error naming the file when it cannot, or when
// it is larger than `max_bytes` (checked before reading, so a huge file costs nothing).
std::string read_text_file(const std::string& path, size_t max_bytes = kMaxTextFileBytes);

}  // namespace lorax
