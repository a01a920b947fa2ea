#include "io/safetensors.h"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lorax {

namespace {

constexpr size_t kMaxHeaderBytes = size_t(100) << 20;  // the format's own limit is 100 MB

DType safetensors_dtype(const std::string& name, const std::string& path,
                        const std::string& tensor) {
  if (name == "F32") return DType::F32;
  if (name == "BF16") return DType::BF16;
  if (name == "F16") return DType::F16;
  if (name == "F8_E4M3") return DType::F8E4M3;
  if (name == "F8_E5M2") return DType::F8E5M2;
  if (name == "I32") return DType::I32;
  if (name == "I64") return DType::I64;
  if (name == "U8") return DType::U8;
  fail(path, ": tensor '", printable(tensor), "' has unsupported dtype '", printable(name, 16),
       "'");
}

TensorInfo parse_entry(const nlohmann::json& entry, const std::string& path,
                       const std::string& name, size_t data_size) {
  auto where = [&] { return path + ": tensor '" + printable(name) + "'"; };
  LORAX_CHECK(entry.is_object(), where(), " is not an object");
  LORAX_CHECK(entry.contains("dtype") && entry["dtype"].is_string(), where(), " has no dtype");
  LORAX_CHECK(entry.contains("shape") && entry["shape"].is_array(), where(), " has no shape");
  LORAX_CHECK(entry.contains("data_offsets") && entry["data_offsets"].is_array() &&
                  entry["data_offsets"].size() == 2,
              where(), " has no data_offsets [begin, end]");
  TensorInfo info;
  info.dtype = safetensors_dtype(entry["dtype"].get<std::string>(), path, name);
  size_t numel = 1;
  for (const auto& d : entry["shape"]) {
    LORAX_CHECK(d.is_number_unsigned(), where(), " has a dimension that is not a count");
    const uint64_t dim = d.get<uint64_t>();
    LORAX_CHECK(dim < (uint64_t(1) << 40) && (dim == 0 || numel <= (uint64_t(1) << 50) / dim),
                where(), " has an absurd shape");
    numel *= dim;
    info.shape.push_back(int64_t(dim));
  }
  for (const auto& offset : entry["data_offsets"])
    LORAX_CHECK(offset.is_number_unsigned(), where(), " has a data offset that is not a count");
  info.begin = entry["data_offsets"][0].get<size_t>();
  info.end = entry["data_offsets"][1].get<size_t>();
  LORAX_CHECK(info.begin <= info.end && info.end <= data_size, where(), " data [", info.begin, ", ",
              info.end, ") lies outside the file's ", data_size, "-byte data section (truncated?)");
  LORAX_CHECK(info.end - info.begin == numel * dtype_size(info.dtype), where(), " holds ",
              info.end - info.begin, " bytes but shape ", shape_string(info.shape), " of ",
              printable(entry["dtype"].get<std::string>(), 16), " needs ",
              numel * dtype_size(info.dtype));
  return info;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  return parse(MappedFile::open(path));
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<MappedFile> mapping) {
  const std::string& path = mapping->path();
  const size_t size = mapping->size();
  LORAX_CHECK(size >= 8, path, ": not a safetensors file (", size, " bytes, no header)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | uint8_t(mapping->data()[i]);
  // What a broken file says is never quoted: its bytes may be anything (another file's secrets
  // behind a planted link), so messages give counts and positions.
  LORAX_CHECK(header_len <= kMaxHeaderBytes && header_len <= size - 8, path,
              ": not a safetensors file (its header length, ", header_len, ", exceeds the file's ",
              size, " bytes: truncated, or another kind of file)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(mapping->data() + 8, mapping->data() + 8 + header_len);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": not a safetensors file (malformed safetensors header: its ", header_len,
         " bytes of JSON have an error at byte ", e.byte, ")");
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not a safetensors file (malformed safetensors header: JSON error ", e.id, ")");
  }
  LORAX_CHECK(header.is_object(), path, ": safetensors header is not a JSON object");

  SafetensorsFile file;
  file.data_start_ = 8 + header_len;
  const size_t data_size = size - file.data_start_;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      LORAX_CHECK(entry.is_object(), path, ": __metadata__ is not an object");
      for (const auto& [key, value] : entry.items())
        if (value.is_string()) file.metadata_[key] = value.get<std::string>();
      continue;
    }
    file.tensors_[name] = parse_entry(entry, path, name, data_size);
  }
  file.mapping_ = std::move(mapping);
  return file;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : tensors_) out.push_back(name);
  return out;
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  LORAX_CHECK(it != tensors_.end(), path(), ": no tensor '", printable(name), "'");
  return it->second;
}

Tensor SafetensorsFile::get(const std::string& name) const {
  const TensorInfo& meta = info(name);
  auto* data = const_cast<char*>(mapping_->data() + data_start_ + meta.begin);
  Tensor view = Tensor::borrow(data, meta.shape, meta.dtype, mapping_);
  // The format does not promise alignment (writers pad the header to 8 bytes, most do). A
  // tensor whose data is not aligned for its element type is copied once into aligned memory
  // rather than read through misaligned pointers.
  if (reinterpret_cast<uintptr_t>(data) % dtype_size(meta.dtype) != 0) return view.clone();
  return view;
}

CheckpointTensors CheckpointTensors::open_file(const std::string& path) {
  CheckpointTensors out;
  out.source_ = path;
  out.files_.push_back(SafetensorsFile::open(path));
  for (const auto& name : out.files_[0].names()) out.where_[name] = 0;
  return out;
}

CheckpointTensors CheckpointTensors::from_file(SafetensorsFile file, const std::string& source) {
  CheckpointTensors out;
  out.source_ = source;
  out.files_.push_back(std::move(file));
  for (const auto& name : out.files_[0].names()) out.where_[name] = 0;
  return out;
}

CheckpointTensors CheckpointTensors::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  const fs::path single = root / "model.safetensors";
  const fs::path index = root / "model.safetensors.index.json";
  if (fs::exists(single)) {
    CheckpointTensors out = open_file(single.string());
    out.source_ = dir;
    return out;
  }
  LORAX_CHECK(fs::exists(index), dir, ": no model.safetensors or model.safetensors.index.json");
  const auto weight_map = parse_safetensors_index(read_text_file(index.string()), index.string());
  CheckpointTensors out;
  out.source_ = dir;
  std::map<std::string, size_t> shard_index;
  for (const auto& [name, file] : weight_map) {
    auto [it, inserted] = shard_index.emplace(file, out.files_.size());
    if (inserted) out.files_.push_back(SafetensorsFile::open((root / file).string()));
    LORAX_CHECK(out.files_[it->second].contains(name), index.string(), ": tensor '", name,
                "' is listed in ", file, " but that shard does not hold it");
    out.where_[name] = it->second;
  }
  return out;
}

std::map<std::string, std::string> parse_safetensors_index(std::string_view text,
                                                           const std::string& source) {
  nlohmann::json map;
  try {
    map = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, ": malformed JSON (error at byte ", e.byte, ")");
  }
  LORAX_CHECK(map.is_object() && map.contains("weight_map") && map["weight_map"].is_object(),
              source, ": no \"weight_map\" object");
  std::map<std::string, std::string> out;
  for (const auto& [name, shard] : map["weight_map"].items()) {
    LORAX_CHECK(shard.is_string(), source, ": weight_map entry '", name, "' is not a file name");
    std::string file = shard.get<std::string>();
    LORAX_CHECK(file.find('/') == std::string::npos && file != ".." && file != "." && !file.empty(),
                source, ": shard name '", file, "' must be a plain file name");
    out.emplace(name, std::move(file));
  }
  return out;
}

std::vector<std::string> CheckpointTensors::names() const {
  std::vector<std::string> out;
  for (const auto& [name, index] : where_) out.push_back(name);
  return out;
}

const std::string& CheckpointTensors::file_of(const std::string& name) const {
  auto it = where_.find(name);
  LORAX_CHECK(it != where_.end(), source_, ": missing tensor '", name, "'");
  return files_[it->second].path();
}

const TensorInfo& CheckpointTensors::info(const std::string& name) const {
  auto it = where_.find(name);
  LORAX_CHECK(it != where_.end(), source_, ": missing tensor '", name, "'");
  return files_[it->second].info(name);
}

Tensor CheckpointTensors::get(const std::string& name) const {
  auto it = where_.find(name);
  LORAX_CHECK(it != where_.end(), source_, ": missing tensor '", name, "'");
  return files_[it->second].get(name);
}

}  // namespace lorax
