#include "model/medusa.h"

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "model/weights.h"

namespace lorax {

namespace {

using nlohmann::json;

json read_config(const std::string& dir) {
  const std::string path = dir + "/config.json";
  LORAX_CHECK(std::filesystem::is_regular_file(path), dir, ": no config.json");
  try {
    json j = json::parse(read_text_file(path));
    LORAX_CHECK(j.is_object(), path, ": not a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw Error(path + ": not valid JSON (" + e.what() + ")");
  }
}

int64_t count_field(const json& config, const std::string& path, const char* key, int64_t least) {
  LORAX_CHECK(config.contains(key), path, ": missing \"", key, "\"");
  const json& v = config[key];
  LORAX_CHECK(v.is_number_integer() && v.get<int64_t>() >= least && v.get<int64_t>() <= 64, path,
              ": \"", key, "\" must be an integer from ", least, " to 64, got ", v.dump());
  return v.get<int64_t>();
}

// A bias as f32, whatever the file stores.
Tensor f32_vector(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i)
    out.data<float>()[i] = t.dtype() == DType::F32    ? t.data<float>()[i]
                           : t.dtype() == DType::BF16 ? bf16_to_f32(t.data<uint16_t>()[i])
                                                      : f16_to_f32(t.data<uint16_t>()[i]);
  return out;
}

// A copy that outlives the mapped file.
Tensor owned(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  std::memcpy(out.raw(), t.raw(), t.nbytes());
  return out;
}

}  // namespace

bool MedusaHeads::is_medusa_dir(const std::string& dir) {
  try {
    return read_config(dir).contains("medusa_num_heads");
  } catch (const Error&) {
    return false;
  }
}

std::shared_ptr<const MedusaHeads> MedusaHeads::load(const std::string& name,
                                                     const std::string& dir,
                                                     const ModelConfig& config, Backend& backend,
                                                     DType activation) {
  return read(name, dir, config)->upload(backend, activation);
}

std::shared_ptr<const MedusaHeads> MedusaHeads::upload(Backend& backend, DType activation) const {
  auto heads = std::make_shared<MedusaHeads>(*this);
  for (auto& blocks : heads->blocks)
    for (Block& b : blocks) {
      b.weight = upload_matrix(backend, b.weight, activation);
      b.bias = backend.upload(b.bias);
    }
  for (Tensor& out : heads->outputs) out = upload_matrix(backend, out, activation);
  return heads;
}

std::shared_ptr<const MedusaHeads> MedusaHeads::read(const std::string& name,
                                                     const std::string& dir,
                                                     const ModelConfig& config) {
  const std::string file = dir + "/medusa_lm_head.safetensors";
  const std::string config_path = dir + "/config.json";
  read_config(dir);  // names a missing or broken config.json before the weights
  const std::string text = read_text_file(config_path);
  configured_heads(name, text, config_path, config);  // and a config that does not fit
  LORAX_CHECK(std::filesystem::is_regular_file(file), dir, ": no medusa_lm_head.safetensors");
  return parse(name, text, config_path, CheckpointTensors::open_file(file), config);
}

std::shared_ptr<MedusaHeads> MedusaHeads::configured_heads(const std::string& name,
                                                           std::string_view config_json,
                                                           const std::string& config_path,
                                                           const ModelConfig& config) {
  json c;
  try {
    c = json::parse(config_json);
  } catch (const json::parse_error& e) {
    throw Error(config_path + ": not valid JSON (" + e.what() + ")");
  }
  LORAX_CHECK(c.is_object(), config_path, ": not a JSON object");
  auto heads = std::make_shared<MedusaHeads>();
  heads->name = name;
  heads->blocks.resize(size_t(count_field(c, config_path, "medusa_num_heads", 1)));
  heads->num_layers = count_field(c, config_path, "medusa_num_layers", 0);
  // TGI's first Medusa checkpoints had no version: they are version 1 (own output matrices).
  const json version = c.value("version", json(1));
  LORAX_CHECK(version == 1 || version == 2, config_path, ": \"version\" must be 1 or 2, got ",
              version.dump());
  heads->version = version.get<int>();
  for (const char* key : {"hidden_size", "vocab_size"})
    if (c.contains(key)) {
      const int64_t want =
          std::string(key) == "hidden_size" ? config.hidden_size : config.vocab_size;
      LORAX_CHECK(c[key] == want, config_path, ": \"", key, "\" is ", c[key].dump(),
                  " but the model's is ", want);
    }
  return heads;
}

std::shared_ptr<const MedusaHeads> MedusaHeads::parse(const std::string& name,
                                                      std::string_view config_json,
                                                      const std::string& config_path,
                                                      const CheckpointTensors& tensors,
                                                      const ModelConfig& config) {
  std::shared_ptr<MedusaHeads> heads = configured_heads(name, config_json, config_path, config);
  const int64_t H = config.hidden_size, V = config.vocab_size;
  for (int64_t i = 0; i < heads->num_heads(); ++i) {
    const std::string head = std::to_string(i) + ".";
    std::vector<Block>& blocks = heads->blocks[size_t(i)];
    for (int64_t l = 0; l < heads->num_layers; ++l) {
      const std::string p = head + std::to_string(l) + ".linear.";
      Block b;
      b.weight = owned(checked_weight(tensors, p + "weight", {H, H}));
      b.bias = f32_vector(checked_weight(tensors, p + "bias", {H}));
      blocks.push_back(std::move(b));
    }
    if (heads->version == 1) {
      const std::string out = head + std::to_string(heads->num_layers) + ".weight";
      heads->outputs.push_back(owned(checked_weight(tensors, out, {V, H})));
    }
  }
  log_info("loaded Medusa heads '", name, "' (", tensors.source(), "): ", heads->num_heads(),
           " heads of ", heads->num_layers, " layers, version ", heads->version);
  return heads;
}

}  // namespace lorax
