// adapter_config.json plus adapter_model.safetensors against a small Llama base. Input:
// the config's JSON, the separator line, then the whole safetensors file.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "fuzz_input.h"

namespace {

// Two layers, GQA (4 query heads over 2 kv heads of 4 dims), so every projection has its own
// shape and the shape checks have something to tell apart.
lorax::ModelConfig small_base() {
  const auto json = nlohmann::json::parse(R"({
    "model_type": "llama", "vocab_size": 32, "hidden_size": 16, "intermediate_size": 24,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "tie_word_embeddings": false})");
  return lorax::ModelConfig::from_json(json, "base config.json");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lorax::ModelConfig base = small_base();
  const auto parts = lorax::fuzz::split_parts(data, size, 2);
  if (parts.size() != 2) return 0;
  try {
    const auto weights = lorax::SafetensorsFile::parse(
        lorax::MappedFile::from_bytes("adapter_model.safetensors", std::string(parts[1])));
    lorax::LoraAdapter::parse("fuzz", "fuzz-adapter", parts[0], weights, base);
  } catch (const lorax::Error&) {
  }
  return 0;
}
