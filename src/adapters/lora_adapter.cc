#include "adapters/lora_adapter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "io/confined_file.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"

namespace lorax {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One projection of the base model an adapter may target.
struct Module {
  std::string path;  // "model.layers.3.self_attn.q_proj" or "lm_head"
  int64_t layer;     // -1 for lm_head
  LoraTarget target;
  int64_t in, out;
};

std::vector<Module> base_modules(const ModelConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  struct Shape3 {
    LoraTarget target;
    const char* block;
    int64_t in, out;
  };
  const Shape3 shapes[] = {
      {LoraTarget::QProj, "self_attn", H, q},  {LoraTarget::KProj, "self_attn", H, kv},
      {LoraTarget::VProj, "self_attn", H, kv}, {LoraTarget::OProj, "self_attn", q, H},
      {LoraTarget::GateProj, "mlp", H, I},     {LoraTarget::UpProj, "mlp", H, I},
      {LoraTarget::DownProj, "mlp", I, H}};
  std::vector<Module> out;
  for (int64_t l = 0; l < c.num_layers; ++l)
    for (const auto& s : shapes)
      out.push_back({"model.layers." + std::to_string(l) + "." + s.block + "." +
                         std::string(lora_target_name(s.target)),
                     l, s.target, s.in, s.out});
  out.push_back({"lm_head", -1, LoraTarget::LmHead, H, c.vocab_size});
  return out;
}

// The parts of adapter_config.json that decide which modules are adapted and how strongly.
struct AdapterConfig {
  std::string where;  // "adapter 'x' (dir/adapter_config.json)" for messages
  int64_t r = 8;
  double lora_alpha = 8;
  bool use_rslora = false;
  std::optional<std::vector<std::string>> target_list;
  std::optional<std::string> target_regex;
  std::optional<std::set<int64_t>> layers;
  std::vector<std::pair<std::string, int64_t>> rank_pattern;
  std::vector<std::pair<std::string, double>> alpha_pattern;
};

bool truthy(const json& j, const char* key) {
  return j.contains(key) && !j[key].is_null() && j[key] != false;
}

void reject_unsupported(const json& j, const std::string& where) {
  if (j.contains("peft_type") && j["peft_type"].is_string())
    LORAX_CHECK(j["peft_type"] == "LORA", where, ": peft_type '", j["peft_type"].get<std::string>(),
                "' is not supported (only LORA)");
  LORAX_CHECK(!truthy(j, "use_dora"), where, ": DoRA adapters (use_dora) are not supported");
  LORAX_CHECK(!j.contains("modules_to_save") || j["modules_to_save"].is_null() ||
                  (j["modules_to_save"].is_array() && j["modules_to_save"].empty()),
              where, ": modules_to_save is not supported (it replaces base weights per adapter)");
  if (j.contains("bias") && !j["bias"].is_null())
    LORAX_CHECK(j["bias"] == "none", where, ": bias '", j["bias"].dump(),
                "' is not supported (only \"none\")");
  LORAX_CHECK(!truthy(j, "lora_bias"), where, ": lora_bias is not supported");
  LORAX_CHECK(!truthy(j, "fan_in_fan_out"), where, ": fan_in_fan_out is not supported");
}

AdapterConfig parse_config(const json& j, const std::string& where) {
  LORAX_CHECK(j.is_object(), where, ": not a JSON object");
  reject_unsupported(j, where);
  AdapterConfig c;
  c.where = where;
  if (j.contains("r")) {
    LORAX_CHECK(j["r"].is_number_integer() && j["r"].get<int64_t>() > 0, where,
                ": r must be a positive integer, got ", j["r"].dump());
    c.r = j["r"].get<int64_t>();
  }
  c.lora_alpha = double(c.r);
  if (j.contains("lora_alpha")) {
    LORAX_CHECK(j["lora_alpha"].is_number(), where, ": lora_alpha must be a number");
    c.lora_alpha = j["lora_alpha"].get<double>();
  }
  c.use_rslora = truthy(j, "use_rslora");
  LORAX_CHECK(j.contains("target_modules") && !j["target_modules"].is_null(), where,
              ": target_modules is missing");
  const json& t = j["target_modules"];
  if (t.is_string()) {
    c.target_regex = t.get<std::string>();
  } else {
    LORAX_CHECK(t.is_array(), where, ": target_modules must be a list or a regex string");
    c.target_list.emplace();
    for (const auto& m : t) {
      LORAX_CHECK(m.is_string(), where, ": target_modules entries must be strings");
      c.target_list->push_back(m.get<std::string>());
    }
  }
  if (j.contains("layers_to_transform") && !j["layers_to_transform"].is_null()) {
    const json& l = j["layers_to_transform"];
    c.layers.emplace();
    if (l.is_number_integer()) {
      c.layers->insert(l.get<int64_t>());
    } else {
      LORAX_CHECK(l.is_array(), where, ": layers_to_transform must be an int or a list");
      for (const auto& x : l) {
        LORAX_CHECK(x.is_number_integer(), where, ": layers_to_transform holds a non-integer");
        c.layers->insert(x.get<int64_t>());
      }
    }
  }
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    LORAX_CHECK(j[key].is_object(), where, ": ", key, " must be an object");
    for (const auto& [pattern, value] : j[key].items()) {
      LORAX_CHECK(value.is_number(), where, ": ", key, " value for '", pattern,
                  "' is not a number");
      if (std::string(key) == "rank_pattern") {
        LORAX_CHECK(value.is_number_integer() && value.get<int64_t>() > 0, where,
                    ": rank_pattern rank for '", pattern, "' must be a positive integer");
        c.rank_pattern.emplace_back(pattern, value.get<int64_t>());
      } else {
        c.alpha_pattern.emplace_back(pattern, value.get<double>());
      }
    }
  }
  return c;
}

// PEFT's get_pattern_key: a pattern applies to a module whose name ends with it (as a regex).
template <typename T>
std::optional<T> pattern_value(const std::vector<std::pair<std::string, T>>& patterns,
                               const std::string& module, const std::string& where) {
  for (const auto& [pattern, value] : patterns) {
    try {
      if (std::regex_match(module, std::regex("(.*\\.)?(" + pattern + ")"))) return value;
    } catch (const std::regex_error&) {
      fail(where, ": invalid pattern '", pattern, "'");
    }
  }
  return std::nullopt;
}

bool is_targeted(const AdapterConfig& c, const Module& m) {
  bool found = false;
  if (c.target_regex) {
    try {
      found = std::regex_match(m.path, std::regex(*c.target_regex));
    } catch (const std::regex_error&) {
      fail(c.where, ": target_modules is not a valid regex: ", *c.target_regex);
    }
  } else {
    for (const auto& t : *c.target_list)
      found = found || m.path == t || (m.path.size() > t.size() && m.path.ends_with("." + t));
  }
  // With layers_to_transform, modules outside the numbered layers (the LM head) are not adapted.
  if (found && c.layers) found = m.layer >= 0 && c.layers->count(m.layer) != 0;
  return found;
}

void check_target_names(const AdapterConfig& c) {
  if (!c.target_list) return;
  static const std::set<std::string> known = {"q_proj",    "k_proj",  "v_proj",    "o_proj",
                                              "gate_proj", "up_proj", "down_proj", "lm_head"};
  for (const auto& t : *c.target_list) {
    const std::string last = t.substr(t.find_last_of('.') + 1);
    LORAX_CHECK(last != "embed_tokens", c.where,
                ": embedding LoRA (embed_tokens) is not supported");
    LORAX_CHECK(known.count(last), c.where, ": target module '", t,
                "' is not a projection of this model (q/k/v/o/gate/up/down_proj, lm_head)");
  }
}

// The tensor widened to f32 in one pass that also refuses NaN and infinite values (which would
// turn every token's logits into NaN) and measures the largest |value| into `max_abs`.
Tensor widened_finite(const Tensor& t, const std::string& where, const std::string& tensor,
                      double& max_abs) {
  Tensor out = t.dtype() == DType::F32 ? t.clone() : Tensor::empty(t.shape(), DType::F32);
  float* values = out.data<float>();
  float largest = 0.0f;
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype() != DType::F32) {
      const uint16_t bits = t.data<uint16_t>()[i];
      values[i] = t.dtype() == DType::BF16 ? bf16_to_f32(bits) : f16_to_f32(bits);
    }
    const float v = std::fabs(values[i]);
    if (!(v <= std::numeric_limits<float>::max()))
      fail(where, ": tensor '", tensor, "' holds ", std::isnan(v) ? "NaN" : "an infinite value",
           " (element ", i, "); an adapter's weights must be finite");
    largest = std::max(largest, v);
  }
  max_abs = largest;
  return out;
}

// Refuses a projection's scale, and weights, that could overflow float32 outputs from finite
// inputs (see kMaxLoraScale and kMaxLoraGain).
void check_gain(const std::string& where, const std::string& module, const char* alpha_source,
                double alpha, int64_t r, double scale, int64_t in, double max_a, double max_b) {
  LORAX_CHECK(std::isfinite(scale) && std::fabs(scale) <= kMaxLoraScale, where, ": ", alpha_source,
              " ", alpha, " with rank ", r, " gives '", module, "' the scale ", scale,
              "; |scale| must be at most ", kMaxLoraScale);
  const double to_rank = double(in) * max_a;
  const double gain = std::fabs(scale) * double(r) * max_b * to_rank;
  const std::string tensor = "base_model.model." + module + ".lora_";
  LORAX_CHECK(to_rank <= kMaxLoraGain, where, ": tensor '", tensor, "A.weight' has values up to ",
              max_a, ": its outputs could overflow float32");
  LORAX_CHECK(gain <= kMaxLoraGain, where, ": tensor '", tensor, "B.weight' (values up to ", max_b,
              ") with lora_A values up to ", max_a, " and scale ", scale,
              " could overflow float32 outputs (gain ", gain, " > ", kMaxLoraGain, ")");
}

// Splits "base_model.model.<module>.lora_A.weight" into module and "A"/"B".
std::optional<std::pair<std::string, char>> parse_tensor_name(const std::string& name) {
  const std::string prefix = "base_model.model.";
  for (char which : {'A', 'B'}) {
    const std::string suffix = std::string(".lora_") + which + ".weight";
    if (name.starts_with(prefix) && name.ends_with(suffix) &&
        name.size() > prefix.size() + suffix.size())
      return std::make_pair(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()),
                            which);
  }
  return std::nullopt;
}

// How messages name an adapter: by its id (printable), never by where it lives on the server.
std::string adapter_label(const std::string& name) {
  return "adapter '" + printable(name) + "'";
}

// An adapter's directory, its files opened by their names in it: beneath the confining root
// (symlinks that stay inside it are followed), or anywhere symlinks lead when allowed. Errors
// name the file as it is named in the adapter's directory.
class AdapterDir {
 public:
  AdapterDir(const std::string& where, const std::string& dir, const LoraAdapter::Files& files)
      : where_(where), dir_(dir), files_(files) {
    if (files_.follow_symlinks_anywhere) return;
    root_ = files_.root.empty() ? dir_ : files_.root;
    std::error_code error;
    const fs::path base = fs::canonical(root_, error);
    LORAX_CHECK(!error, where_, ": its directory cannot be read: ", error.message());
    const fs::path real = fs::canonical(dir_, error);
    LORAX_CHECK(!error && fs::is_directory(real), where_, ": not a directory");
    subdir_ = real.lexically_relative(base);
    LORAX_CHECK(!subdir_.empty() && *subdir_.begin() != "..", where_,
                ": its directory lies outside the adapter root");
  }

  std::optional<FileHandle> open(const std::string& file) const {
    try {
      if (files_.follow_symlinks_anywhere)
        return open_regular_file((fs::path(dir_) / file).string(), file);
      const fs::path relative = subdir_ == "." ? fs::path(file) : subdir_ / file;
      return open_beneath(root_, relative.string());
    } catch (const Error& e) {
      fail(where_, ": ", e.what());
    }
  }

 private:
  const std::string& where_;
  const std::string& dir_;
  const LoraAdapter::Files& files_;
  std::string root_;
  fs::path subdir_;
};

// adapter_config.json is a few hundred bytes; a rank_pattern for every module of a large model
// is still far below this.
constexpr size_t kMaxAdapterConfigBytes = size_t{16} << 20;

size_t medusa_bytes(const MedusaHeads& heads) {
  size_t n = 0;
  for (const auto& blocks : heads.blocks)
    for (const MedusaHeads::Block& b : blocks) n += b.weight.nbytes() + b.bias.nbytes();
  for (const Tensor& out : heads.outputs) n += out.nbytes();
  return n;
}

std::shared_ptr<const MedusaHeads> read_medusa(const std::string& name,
                                               const AdapterDir& adapter_dir,
                                               const ModelConfig& base,
                                               const LoraAdapter::Files& files) {
  const std::string where = adapter_label(name);
  const auto heads_file = adapter_dir.open("medusa_lm_head.safetensors");
  if (!heads_file) return nullptr;
  const auto config_file = adapter_dir.open("config.json");
  LORAX_CHECK(config_file, where, ": medusa_lm_head.safetensors without the heads' config.json");
  const uint64_t file_bytes = file_size(*heads_file);
  LORAX_CHECK(file_bytes <= files.max_file_bytes, where, ": medusa_lm_head.safetensors is ",
              file_bytes, " bytes, more than the ", files.max_file_bytes, " an adapter may have");
  try {
    const std::string config = read_all(*config_file, "config.json", kMaxAdapterConfigBytes);
    SafetensorsFile tensors =
        SafetensorsFile::parse(MappedFile::map(*heads_file, "medusa_lm_head.safetensors"));
    return MedusaHeads::parse(
        name, config, "config.json",
        CheckpointTensors::from_file(std::move(tensors), "medusa_lm_head.safetensors"), base);
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

}  // namespace

std::shared_ptr<const LoraAdapter> LoraAdapter::load(const std::string& name,
                                                     const std::string& dir,
                                                     const ModelConfig& base, const Files& files) {
  const auto start = std::chrono::steady_clock::now();
  const std::string where = adapter_label(name);
  const AdapterDir adapter_dir(where, dir, files);
  const auto config_file = adapter_dir.open("adapter_config.json");
  // LoRAX's Medusa adapters: heads alone (config.json + medusa_lm_head.safetensors) or beside
  // a LoRA adapter's files.
  std::shared_ptr<const MedusaHeads> medusa = read_medusa(name, adapter_dir, base, files);
  if (!config_file && medusa) {
    auto adapter = std::make_shared<LoraAdapter>(Key{});
    adapter->name_ = name;
    adapter->dir_ = dir;
    auto weights = std::make_shared<LoraWeightSet>();
    weights->layers.resize(size_t(base.num_layers));
    adapter->weights_ = std::move(weights);
    adapter->nbytes_ = medusa_bytes(*medusa);
    adapter->medusa_ = std::move(medusa);
    log_info("loaded adapter '", name, "' from ", dir, ": Medusa heads alone");
    return adapter;
  }
  LORAX_CHECK(config_file, where, ": no adapter_config.json");
  const auto weights_file = adapter_dir.open("adapter_model.safetensors");
  if (!weights_file) {
    LORAX_CHECK(!adapter_dir.open("adapter_model.bin"), where,
                ": only adapter_model.bin (a pickle) is present; convert it to "
                "adapter_model.safetensors");
    fail(where, ": no adapter_model.safetensors");
  }
  const uint64_t file_bytes = file_size(*weights_file);
  LORAX_CHECK(file_bytes <= files.max_file_bytes, where, ": adapter_model.safetensors is ",
              file_bytes, " bytes, more than the ", files.max_file_bytes, " an adapter may have");
  std::string config_text;
  std::map<std::string, std::string> prompt_files;
  SafetensorsFile weights = [&] {
    try {
      config_text = read_all(*config_file, "adapter_config.json", kMaxAdapterConfigBytes);
      for (const char* side : {"tokenizer_config.json", "generation_config.json",
                               "chat_template.json", "chat_template.jinja"})
        if (const auto file = adapter_dir.open(side))
          prompt_files[side] = read_all(*file, side, kMaxAdapterConfigBytes);
      return SafetensorsFile::parse(MappedFile::map(*weights_file, "adapter_model.safetensors"));
    } catch (const Error& e) {
      fail(where, ": ", e.what());
    }
  }();
  auto adapter = build(name, dir, config_text, weights, base);
  adapter->prompt_files_ = std::move(prompt_files);
  if (medusa) adapter->nbytes_ += medusa_bytes(*medusa);  // the store's budget counts them
  adapter->medusa_ = std::move(medusa);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  log_info("loaded adapter '", name, "' from ", dir, ": ", adapter->projections_,
           " projections, rank <= ", adapter->max_rank_, ", ", adapter->nbytes_ / 1024, " KiB in ",
           ms, " ms");
  return adapter;
}

std::shared_ptr<const LoraAdapter> LoraAdapter::parse(const std::string& name,
                                                      const std::string& dir,
                                                      std::string_view config_json,
                                                      const SafetensorsFile& file,
                                                      const ModelConfig& base) {
  return build(name, dir, config_json, file, base);
}

std::shared_ptr<LoraAdapter> LoraAdapter::build(const std::string& name, const std::string& dir,
                                                std::string_view config_json,
                                                const SafetensorsFile& file,
                                                const ModelConfig& base) {
  const std::string where = adapter_label(name);
  json raw;
  try {
    raw = json::parse(config_json);
  } catch (const json::parse_error& e) {
    fail(where, ": adapter_config.json is malformed JSON (error at byte ", e.byte, ")");
  }
  const AdapterConfig config = parse_config(raw, where + ": adapter_config.json");
  check_target_names(config);

  std::map<std::string, std::pair<std::optional<Tensor>, std::optional<Tensor>>> pairs;
  for (const auto& tensor : file.names()) {
    if (tensor.ends_with(".base_layer.weight")) continue;  // PEFT's copy of the base weight
    const auto parsed = parse_tensor_name(tensor);
    LORAX_CHECK(parsed, where, ": unsupported tensor '", printable(tensor),
                "' (only lora_A/lora_B weights of linear projections are supported)");
    const Tensor t = file.get(tensor);
    LORAX_CHECK(is_float(t.dtype()) && t.dtype() != DType::F8E4M3 && t.dtype() != DType::F8E5M2 &&
                    t.ndim() == 2,
                where, ": tensor '", printable(tensor), "' must be a 2-D f32/bf16/f16 matrix, got ",
                t.describe());
    auto& slot = pairs[parsed->first];
    (parsed->second == 'A' ? slot.first : slot.second) = t;
  }

  auto adapter = std::make_shared<LoraAdapter>(Key{});
  adapter->name_ = name;
  adapter->dir_ = dir;
  auto weights = std::make_shared<LoraWeightSet>();
  weights->layers.resize(size_t(base.num_layers));
  adapter->weights_ = weights;
  std::set<std::string> targets;
  size_t used = 0;
  for (const Module& m : base_modules(base)) {
    auto it = pairs.find(m.path);
    if (!is_targeted(config, m)) {
      LORAX_CHECK(it == pairs.end(), where, ": holds weights for '", m.path,
                  "' which adapter_config.json does not target");
      continue;
    }
    LORAX_CHECK(it != pairs.end() && it->second.first && it->second.second, where,
                ": missing tensor 'base_model.model.", m.path, ".lora_",
                (it == pairs.end() || !it->second.first) ? "A" : "B", ".weight'");
    ++used;
    const int64_t r = pattern_value(config.rank_pattern, m.path, where).value_or(config.r);
    const std::optional<double> own_alpha = pattern_value(config.alpha_pattern, m.path, where);
    const double alpha = own_alpha.value_or(config.lora_alpha);
    const Tensor& a = *it->second.first;
    const Tensor& b = *it->second.second;
    LORAX_CHECK(a.shape() == Shape({r, m.in}), where, ": tensor 'base_model.model.", m.path,
                ".lora_A.weight' has shape ", shape_string(a.shape()), ", expected ",
                shape_string({r, m.in}), " (rank ", r, ", base in_features ", m.in, ")");
    LORAX_CHECK(b.shape() == Shape({m.out, r}), where, ": tensor 'base_model.model.", m.path,
                ".lora_B.weight' has shape ", shape_string(b.shape()), ", expected ",
                shape_string({m.out, r}), " (base out_features ", m.out, ", rank ", r, ")");
    const double scale = config.use_rslora ? alpha / std::sqrt(double(r)) : alpha / double(r);
    double max_a = 0, max_b = 0;
    LoraWeights w;
    w.a = widened_finite(a, where, "base_model.model." + m.path + ".lora_A.weight", max_a);
    w.b = widened_finite(b, where, "base_model.model." + m.path + ".lora_B.weight", max_b);
    check_gain(where, m.path, own_alpha ? "alpha_pattern" : "lora_alpha", alpha, r, scale, m.in,
               max_a, max_b);
    w.scale = float(scale);
    adapter->nbytes_ += w.a.nbytes() + w.b.nbytes();
    adapter->max_rank_ = std::max(adapter->max_rank_, r);
    targets.insert(std::string(lora_target_name(m.target)));
    if (m.layer < 0) {
      weights->lm_head = std::move(w);
    } else {
      weights->layers[size_t(m.layer)][size_t(m.target)] = std::move(w);
    }
  }
  if (used != pairs.size())
    for (const auto& [module, pair] : pairs) {
      bool known = false;
      for (const Module& m : base_modules(base)) known = known || m.path == module;
      LORAX_CHECK(known, where, ": tensor for module '", module,
                  "' does not match any projection of the base model (", base.num_layers,
                  " layers)");
    }
  LORAX_CHECK(used > 0, where, ": targets no projection of the base model");
  adapter->targets_.assign(targets.begin(), targets.end());
  adapter->projections_ = used;
  return adapter;
}

std::shared_ptr<const LoraAdapter> LoraAdapter::from_weights(
    const std::string& name, std::shared_ptr<const LoraWeightSet> w) {
  auto adapter = std::make_shared<LoraAdapter>(Key{});
  adapter->name_ = name;
  for (const auto& layer : w->layers)
    for (const auto& pair : layer)
      if (pair.defined()) {
        adapter->nbytes_ += pair.a.nbytes() + pair.b.nbytes();
        adapter->max_rank_ = std::max(adapter->max_rank_, pair.rank());
      }
  adapter->weights_ = std::move(w);
  return adapter;
}

std::shared_ptr<const LoraWeightSet> random_lora_weights(const ModelConfig& base, int64_t rank,
                                                         uint64_t seed, float strength,
                                                         const std::vector<LoraTarget>& targets) {
  auto set = std::make_shared<LoraWeightSet>();
  set->layers.resize(size_t(base.num_layers));
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  auto fill = [&](const Shape& shape, float scale) {
    Tensor t = Tensor::empty(shape, DType::F32);
    for (int64_t i = 0; i < t.numel(); ++i) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;  // xorshift64
      t.data<float>()[i] = (float(state >> 40) / float(1 << 24) * 2.0f - 1.0f) * scale;
    }
    return t;
  };
  for (const Module& m : base_modules(base)) {
    if (m.layer < 0) continue;
    if (!targets.empty() && std::find(targets.begin(), targets.end(), m.target) == targets.end())
      continue;
    LoraWeights w;
    w.a = fill({rank, m.in}, 1.0f / std::sqrt(float(m.in)));
    w.b = fill({m.out, rank}, strength);
    w.scale = 2.0f;
    set->layers[size_t(m.layer)][size_t(m.target)] = std::move(w);
  }
  return set;
}

}  // namespace lorax
