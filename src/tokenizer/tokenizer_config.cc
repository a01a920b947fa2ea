#include "tokenizer/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

using nlohmann::json;

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  LORAX_CHECK(in.good(), "cannot open '", path.string(), "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json parse_json_text(const std::string& text, const std::string& name) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  LORAX_CHECK(!doc.is_discarded(), name, ": invalid JSON");
  LORAX_CHECK(doc.is_object(), name, ": expected a JSON object");
  return doc;
}

// A special token written as "<s>" or as {"content": "<s>", ...}.
std::optional<std::string> token_string(const json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  LORAX_CHECK(it->is_object() && it->contains("content") && (*it)["content"].is_string(),
              "tokenizer_config.json: field '", key,
              "' must be a string or an object with a string 'content'");
  return (*it)["content"].get<std::string>();
}

std::optional<bool> optional_flag(const json& doc, const char* key, const char* file) {
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  LORAX_CHECK(it->is_boolean(), file, ": field '", key, "' must be true or false");
  return it->get<bool>();
}

std::optional<int32_t> optional_id(const json& v, const char* key) {
  if (v.is_null()) return std::nullopt;
  LORAX_CHECK(v.is_number_integer(), "generation_config.json: field '", key,
              "' must be an integer or a list of integers");
  return v.get<int32_t>();
}

void read_chat_templates(const json& value, std::map<std::string, std::string>& out) {
  if (value.is_null()) return;
  if (value.is_string()) {
    out[TokenizerConfig::kDefaultTemplate] = value.get<std::string>();
    return;
  }
  LORAX_CHECK(value.is_array(), "tokenizer_config.json: field 'chat_template' must be a string ",
              "or a list of {\"name\", \"template\"}");
  for (const json& entry : value) {
    const bool ok = entry.is_object() && entry.contains("name") && entry["name"].is_string() &&
                    entry.contains("template") && entry["template"].is_string();
    LORAX_CHECK(ok, "tokenizer_config.json: each chat_template entry needs string fields ",
                "'name' and 'template'");
    out[entry["name"].get<std::string>()] = entry["template"].get<std::string>();
  }
}

void read_tokenizer_config(const json& doc, TokenizerConfig& c) {
  c.bos_token = token_string(doc, "bos_token");
  c.eos_token = token_string(doc, "eos_token");
  c.pad_token = token_string(doc, "pad_token");
  c.unk_token = token_string(doc, "unk_token");
  c.add_bos_token = optional_flag(doc, "add_bos_token", "tokenizer_config.json");
  c.add_eos_token = optional_flag(doc, "add_eos_token", "tokenizer_config.json");
  c.clean_up_tokenization_spaces =
      optional_flag(doc, "clean_up_tokenization_spaces", "tokenizer_config.json").value_or(false);
  // transformers writes "no limit" as 1e30, which does not fit an integer.
  if (const auto it = doc.find("model_max_length"); it != doc.end() && it->is_number_integer()) {
    c.model_max_length = it->get<int64_t>();
  }
  read_chat_templates(doc.value("chat_template", json()), c.chat_templates);
}

void read_generation_config(const json& doc, TokenizerConfig& c) {
  c.bos_token_id = optional_id(doc.value("bos_token_id", json()), "bos_token_id");
  c.pad_token_id = optional_id(doc.value("pad_token_id", json()), "pad_token_id");
  const json eos = doc.value("eos_token_id", json());
  if (eos.is_array()) {
    for (const json& id : eos) c.eos_token_ids.push_back(*optional_id(id, "eos_token_id"));
  } else if (const auto id = optional_id(eos, "eos_token_id")) {
    c.eos_token_ids.push_back(*id);
  }
}

}  // namespace

const std::string* TokenizerConfig::chat_template(const std::string& name) const {
  const auto it = chat_templates.find(name);
  return it == chat_templates.end() ? nullptr : &it->second;
}

std::vector<int32_t> TokenizerConfig::stop_token_ids(const Tokenizer& tokenizer) const {
  std::vector<int32_t> ids = eos_token_ids;
  if (eos_token) {
    const std::optional<int32_t> id = tokenizer.token_to_id(*eos_token);
    if (id && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
  }
  return ids;
}

TokenizerConfig TokenizerConfig::from_json(const json* tokenizer_config,
                                           const json* generation_config) {
  TokenizerConfig c;
  if (tokenizer_config) read_tokenizer_config(*tokenizer_config, c);
  if (generation_config) read_generation_config(*generation_config, c);
  return c;
}

TokenizerConfig TokenizerConfig::from_model_dir(const std::string& dir) {
  const std::filesystem::path root(dir);
  std::map<std::string, std::string> files;
  for (const char* name : {"tokenizer_config.json", "generation_config.json", "chat_template.json",
                           "chat_template.jinja"})
    if (auto text = read_text_file(root / name)) files[name] = std::move(*text);
  return from_files(files, dir);
}

TokenizerConfig TokenizerConfig::from_files(const std::map<std::string, std::string>& files,
                                            const std::string& source) {
  auto document = [&](const std::string& name) -> std::optional<json> {
    const auto it = files.find(name);
    if (it == files.end()) return std::nullopt;
    return parse_json_text(it->second, source + "/" + name);
  };
  const std::optional<json> tokenizer_config = document("tokenizer_config.json");
  const std::optional<json> generation_config = document("generation_config.json");
  TokenizerConfig c;
  try {
    c = from_json(tokenizer_config ? &*tokenizer_config : nullptr,
                  generation_config ? &*generation_config : nullptr);
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
  // Newer transformers save the template beside the config; it then wins over the config's.
  if (const auto chat_json = document("chat_template.json")) {
    try {
      read_chat_templates(chat_json->value("chat_template", json()), c.chat_templates);
    } catch (const Error& e) {
      fail(source, "/chat_template.json: ", e.what());
    }
  }
  if (const auto jinja = files.find("chat_template.jinja"); jinja != files.end())
    c.chat_templates[kDefaultTemplate] = jinja->second;
  return c;
}

}  // namespace lorax
