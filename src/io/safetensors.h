// safetensors checkpoints, memory-mapped: tensors are views into the mapping, never copied.
//
// Format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section. Every entry is validated when the file is opened (known dtype, offsets
// inside the file, byte count equal to shape x dtype size) so later reads cannot go out of bounds.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "io/mapped_file.h"

namespace lorax {

struct TensorInfo {
  DType dtype;
  Shape shape;
  size_t begin = 0;  // offsets within the data section
  size_t end = 0;
};

class SafetensorsFile {
 public:
  // Throws lorax::Error naming the file (and tensor) when the file is missing or malformed.
  static SafetensorsFile open(const std::string& path);
  // Parses from memory already mapped; `mapping` keeps it alive.
  static SafetensorsFile parse(std::shared_ptr<MappedFile> mapping);

  const std::string& path() const { return mapping_->path(); }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  std::vector<std::string> names() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorInfo& info(const std::string& name) const;
  // A zero-copy view of the tensor's bytes.
  Tensor get(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> mapping_;
  size_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint directory: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json` ("weight_map": tensor name -> shard file).
class CheckpointTensors {
 public:
  static CheckpointTensors open_dir(const std::string& dir);
  // A single file (tests, adapters).
  static CheckpointTensors open_file(const std::string& path);
  // A file already open and parsed; `source` names it in messages.
  static CheckpointTensors from_file(SafetensorsFile file, const std::string& source);

  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  std::vector<std::string> names() const;
  const TensorInfo& info(const std::string& name) const;
  Tensor get(const std::string& name) const;  // throws naming the tensor and directory if absent
  // The file a tensor lives in (for error messages).
  const std::string& file_of(const std::string& name) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;  // directory or file, for messages
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index in files_
};

// model.safetensors.index.json: its "weight_map" (tensor name -> shard file name), every shard
// a plain file name (no directories, so an index cannot reach outside its checkpoint).
std::map<std::string, std::string> parse_safetensors_index(std::string_view text,
                                                           const std::string& source);

}  // namespace lorax
