// config.json: parsed into a ModelConfig, validated, and (when valid) turned into rotary
// frequencies and a small cos/sin table, where scaling parameters become arithmetic.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/model_config.h"
#include "model/rope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  try {
    const lorax::ModelConfig config = lorax::ModelConfig::from_json(json, "config.json");
    config.validate("config.json");
    lorax::rope_frequencies(config);
    lorax::rope_frequencies(config, config.max_position_embeddings * 2);
    // The full table is positions x head_dim floats; build it only when it is small.
    if (lorax::rope_table_positions(config) * config.head_dim <= (int64_t(1) << 16))
      lorax::rope_cos_sin_table(config);
  } catch (const lorax::Error&) {
  }
  return 0;
}
