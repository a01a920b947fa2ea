// config.json (and generation_config.json) of a Hugging Face checkpoint, as one struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/dtype.h"

namespace lorax {

enum class Activation { Silu, GeluTanh, GeluErf };
Activation parse_activation(const std::string& name);  // HF ACT2FN names
const char* activation_name(Activation activation);

// Rotary scaling as transformers' modeling_rope_utils defines it.
struct RopeScaling {
  enum class Type { Default, Linear, Dynamic, Llama3, Yarn };
  Type type = Type::Default;
  double factor = 1.0;
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  // llama3, yarn, dynamic: the context length the model was pretrained with
  int64_t original_max_position_embeddings = 0;
  // yarn
  std::optional<double> attention_factor;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  bool truncate = true;
};
const char* rope_type_name(RopeScaling::Type type);

struct ModelConfig {
  std::string model_type;  // "llama" or "gemma"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // explicit `head_dim`, else hidden_size / num_heads
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope;
  bool tie_word_embeddings = false;
  Activation activation = Activation::Silu;
  std::optional<DType> checkpoint_dtype;  // `torch_dtype` / `dtype`, informational
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;  // config.json and generation_config.json, merged

  // Parses config.json content; `source` names the file in errors.
  static ModelConfig from_json(const nlohmann::json& json, const std::string& source);
  // Reads DIR/config.json and, when present, DIR/generation_config.json.
  static ModelConfig from_dir(const std::string& dir);
  // Throws lorax::Error if the numbers do not make a valid model.
  void validate(const std::string& source) const;
};

}  // namespace lorax
