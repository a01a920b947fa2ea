// What a Hugging Face model directory says about its tokenizer beyond tokenizer.json:
// tokenizer_config.json (special token strings, add_bos/eos flags, chat templates),
// generation_config.json (eos ids) and, when present, chat_template.jinja / chat_template.json.
//
// Templates are kept as Jinja source; rendering them is the chat template engine's job.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lorax {

class Tokenizer;

struct TokenizerConfig {
  static constexpr const char* kDefaultTemplate = "default";

  // tokenizer_config.json. Special tokens may be written as strings or as AddedToken objects
  // {"content": "<s>", ...}; both give the content string here.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  std::optional<std::string> unk_token;
  std::optional<bool> add_bos_token;  // absent: the file does not say (the post-processor decides)
  std::optional<bool> add_eos_token;
  bool clean_up_tokenization_spaces = false;  // a transformers decode option; reported only
  std::optional<int64_t> model_max_length;    // absent when missing or the "no limit" sentinel

  // Chat templates by name. A single "chat_template" string is named "default"; a list of
  // {"name", "template"} keeps every name. chat_template.jinja, when present, is "default".
  std::map<std::string, std::string> chat_templates;

  // generation_config.json; "eos_token_id" may be one id or a list.
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> pad_token_id;
  std::vector<int32_t> eos_token_ids;

  // The template named `name`, or null.
  const std::string* chat_template(const std::string& name = kDefaultTemplate) const;

  // Ids that end generation: generation_config's eos ids, then the id of eos_token if the
  // tokenizer knows it and it is not already listed.
  std::vector<int32_t> stop_token_ids(const Tokenizer& tokenizer) const;

  // Reads the files of `dir` that exist; a file that exists but is malformed throws lorax::Error
  // naming it. A directory with none of them gives an empty config.
  static TokenizerConfig from_model_dir(const std::string& dir);

  // The same from the files' contents already read (file name -> text, absent files left out);
  // `source` names them in errors.
  static TokenizerConfig from_files(const std::map<std::string, std::string>& files,
                                    const std::string& source);

  // The same from already parsed documents (null pointers for absent files).
  static TokenizerConfig from_json(const nlohmann::json* tokenizer_config,
                                   const nlohmann::json* generation_config);
};

}  // namespace lorax
