#include "io/model_config.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/mapped_file.h"

namespace lorax {

using nlohmann::json;

Activation parse_activation(const std::string& name) {
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast")
    return Activation::GeluTanh;
  if (name == "gelu") return Activation::GeluErf;
  fail("unsupported activation '", name, "' (supported: silu, gelu_pytorch_tanh, gelu)");
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::Silu:
      return "silu";
    case Activation::GeluTanh:
      return "gelu_pytorch_tanh";
    case Activation::GeluErf:
      return "gelu";
  }
  return "?";
}

const char* rope_type_name(RopeScaling::Type type) {
  switch (type) {
    case RopeScaling::Type::Default:
      return "default";
    case RopeScaling::Type::Linear:
      return "linear";
    case RopeScaling::Type::Dynamic:
      return "dynamic";
    case RopeScaling::Type::Llama3:
      return "llama3";
    case RopeScaling::Type::Yarn:
      return "yarn";
  }
  return "?";
}

namespace {

// Field readers that name the file and field in every error.
class Fields {
 public:
  Fields(const json& object, std::string source) : object_(object), source_(std::move(source)) {}

  bool has(const char* key) const { return object_.contains(key) && !object_[key].is_null(); }

  int64_t integer(const char* key) const {
    LORAX_CHECK(has(key), source_, ": missing field \"", key, "\"");
    return integer_or(key, 0);
  }
  int64_t integer_or(const char* key, int64_t fallback) const {
    if (!has(key)) return fallback;
    const json& v = object_[key];
    LORAX_CHECK(v.is_number_integer(), source_, ": field \"", key, "\" must be an integer, got ",
                v.dump());
    return v.get<int64_t>();
  }
  double number_or(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const json& v = object_[key];
    LORAX_CHECK(v.is_number(), source_, ": field \"", key, "\" must be a number, got ", v.dump());
    return v.get<double>();
  }
  std::optional<double> optional_number(const char* key) const {
    if (!has(key)) return std::nullopt;
    return number_or(key, 0.0);
  }
  bool boolean_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = object_[key];
    LORAX_CHECK(v.is_boolean(), source_, ": field \"", key, "\" must be true or false, got ",
                v.dump());
    return v.get<bool>();
  }
  std::string string_or(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& v = object_[key];
    LORAX_CHECK(v.is_string(), source_, ": field \"", key, "\" must be a string, got ", v.dump());
    return v.get<std::string>();
  }
  // An id or a list of ids (eos_token_id).
  std::vector<int32_t> ids(const char* key) const {
    std::vector<int32_t> out;
    if (!has(key)) return out;
    const json& v = object_[key];
    auto one = [&](const json& x) {
      LORAX_CHECK(x.is_number_integer(), source_, ": field \"", key,
                  "\" must be a token id or a list of them, got ", v.dump());
      out.push_back(x.get<int32_t>());
    };
    if (v.is_array()) {
      for (const auto& x : v) one(x);
    } else {
      one(v);
    }
    return out;
  }

 private:
  const json& object_;
  std::string source_;
};

RopeScaling parse_rope_scaling(const json& params, const std::string& source) {
  const std::string where = source + " rope scaling";
  LORAX_CHECK(params.is_object(), where, " must be an object, got ", params.dump());
  Fields f(params, where);
  std::string type = f.string_or("rope_type", f.string_or("type", "default"));
  RopeScaling rope;
  if (type == "default") {
    rope.type = RopeScaling::Type::Default;
  } else if (type == "linear") {
    rope.type = RopeScaling::Type::Linear;
  } else if (type == "dynamic") {
    rope.type = RopeScaling::Type::Dynamic;
  } else if (type == "llama3") {
    rope.type = RopeScaling::Type::Llama3;
  } else if (type == "yarn") {
    rope.type = RopeScaling::Type::Yarn;
  } else {
    fail(where, ": unsupported rope type '", type,
         "' (supported: default, linear, dynamic, llama3, yarn)");
  }
  rope.factor = f.number_or("factor", 1.0);
  if (rope.type != RopeScaling::Type::Default)
    LORAX_CHECK(f.has("factor") && rope.factor > 0, where, ": '", type,
                "' scaling needs a positive \"factor\"");
  rope.low_freq_factor = f.number_or("low_freq_factor", 1.0);
  rope.high_freq_factor = f.number_or("high_freq_factor", 4.0);
  rope.original_max_position_embeddings = f.integer_or("original_max_position_embeddings", 0);
  rope.attention_factor = f.optional_number("attention_factor");
  rope.beta_fast = f.number_or("beta_fast", 32.0);
  rope.beta_slow = f.number_or("beta_slow", 1.0);
  rope.mscale = f.optional_number("mscale");
  rope.mscale_all_dim = f.optional_number("mscale_all_dim");
  rope.truncate = f.boolean_or("truncate", true);
  if (rope.type == RopeScaling::Type::Llama3) {
    LORAX_CHECK(f.has("original_max_position_embeddings"), where,
                ": llama3 scaling needs \"original_max_position_embeddings\"");
    LORAX_CHECK(rope.high_freq_factor != rope.low_freq_factor, where,
                ": llama3 scaling needs high_freq_factor != low_freq_factor");
  }
  return rope;
}

}  // namespace

ModelConfig ModelConfig::from_json(const json& root, const std::string& source) {
  LORAX_CHECK(root.is_object(), source, ": not a JSON object");
  Fields f(root, source);
  ModelConfig c;
  c.model_type = f.string_or("model_type", "");
  LORAX_CHECK(!c.model_type.empty(), source, ": missing field \"model_type\"");
  c.vocab_size = f.integer("vocab_size");
  c.hidden_size = f.integer("hidden_size");
  c.intermediate_size = f.integer("intermediate_size");
  c.num_layers = f.integer("num_hidden_layers");
  c.num_heads = f.integer("num_attention_heads");
  c.num_kv_heads = f.integer_or("num_key_value_heads", c.num_heads);
  LORAX_CHECK(c.num_heads > 0, source, ": num_attention_heads must be positive");
  c.head_dim = f.integer_or("head_dim", c.hidden_size / c.num_heads);
  c.max_position_embeddings = f.integer_or("max_position_embeddings", 2048);
  c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", c.model_type == "gemma");
  std::string act = f.string_or("hidden_activation", "");
  if (act.empty()) act = f.string_or("hidden_act", "silu");
  try {
    c.activation = parse_activation(act);
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
  const std::string dtype = f.string_or("torch_dtype", f.string_or("dtype", ""));
  if (!dtype.empty()) {
    try {
      c.checkpoint_dtype = parse_dtype(dtype);
    } catch (const Error&) {
      // informational only: an unusual value does not stop loading
    }
  }
  if (f.has("bos_token_id")) c.bos_token_id = int32_t(f.integer("bos_token_id"));
  c.eos_token_ids = f.ids("eos_token_id");
  LORAX_CHECK(!f.boolean_or("attention_bias", false), source,
              ": attention_bias=true is not supported");
  LORAX_CHECK(!f.boolean_or("mlp_bias", false), source, ": mlp_bias=true is not supported");

  // Rope: transformers v5 writes "rope_parameters" (theta inside); older files "rope_theta" and
  // "rope_scaling" (with "type" or "rope_type").
  if (f.has("rope_parameters")) {
    const json& params = root["rope_parameters"];
    c.rope = parse_rope_scaling(params, source);
    c.rope_theta = Fields(params, source + " rope_parameters")
                       .number_or("rope_theta", f.number_or("rope_theta", 10000.0));
  } else {
    c.rope_theta = f.number_or("rope_theta", 10000.0);
    if (f.has("rope_scaling")) c.rope = parse_rope_scaling(root["rope_scaling"], source);
  }
  if (c.rope.original_max_position_embeddings == 0)
    c.rope.original_max_position_embeddings = c.max_position_embeddings;
  c.validate(source);
  return c;
}

void ModelConfig::validate(const std::string& source) const {
  LORAX_CHECK(model_type == "llama" || model_type == "gemma", source, ": unsupported model_type '",
              model_type, "' (supported: llama, gemma)");
  auto positive = [&](int64_t v, const char* name) {
    LORAX_CHECK(v > 0 && v < (int64_t(1) << 31), source, ": ", name, " must be positive, got ", v);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_layers, "num_hidden_layers");
  positive(num_heads, "num_attention_heads");
  positive(num_kv_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  positive(max_position_embeddings, "max_position_embeddings");
  LORAX_CHECK(num_heads % num_kv_heads == 0, source, ": num_attention_heads (", num_heads,
              ") must be a multiple of num_key_value_heads (", num_kv_heads, ")");
  LORAX_CHECK(head_dim % 2 == 0, source, ": head_dim must be even for rotary embeddings");
  LORAX_CHECK(rms_norm_eps > 0, source, ": rms_norm_eps must be positive");
  LORAX_CHECK(rope_theta > 1, source, ": rope_theta must be greater than 1");
}

ModelConfig ModelConfig::from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string path = (fs::path(dir) / "config.json").string();
  LORAX_CHECK(fs::is_directory(dir), dir, ": not a checkpoint directory");
  json root;
  try {
    root = json::parse(read_text_file(path));
  } catch (const json::exception& e) {
    fail(path, ": malformed JSON: ", e.what());
  }
  ModelConfig config = from_json(root, path);
  const fs::path generation = fs::path(dir) / "generation_config.json";
  if (fs::exists(generation)) {
    json gen;
    try {
      gen = json::parse(read_text_file(generation.string()));
    } catch (const json::exception& e) {
      fail(generation.string(), ": malformed JSON: ", e.what());
    }
    LORAX_CHECK(gen.is_object(), generation.string(), ": not a JSON object");
    for (int32_t id : Fields(gen, generation.string()).ids("eos_token_id"))
      if (std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), id) ==
          config.eos_token_ids.end())
        config.eos_token_ids.push_back(id);
  }
  return config;
}

}  // namespace lorax
