// Chat prompts the way transformers' tokenizer.apply_chat_template(..., tokenize=False) builds
// them: the template sees `messages`, `add_generation_prompt`, `tools` and `documents` (none when
// not given), the tokenizer's special tokens (`bos_token`, `eos_token`, ...) and any extra
// variables (`date_string`, `custom_tools`, `builtin_tools`, ...).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace lorax::jinja {

class ChatTemplate {
 public:
  // `special_tokens` maps names such as "bos_token" to their text.
  explicit ChatTemplate(std::string_view source,
                        nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object());

  // From a tokenizer_config.json: its `chat_template` (a string, or a list of {name, template}
  // from which `name` picks one) and its special tokens, written as strings or as
  // {"content": ...} objects. Throws lorax::Error when the config has no such template.
  static ChatTemplate from_tokenizer_config(const nlohmann::ordered_json& config,
                                            std::string_view name = "default");

  // Throws TemplateError when the template refuses the conversation (raise_exception), with
  // the template's own message.
  std::string apply(
      const nlohmann::ordered_json& messages, bool add_generation_prompt,
      const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object()) const;

 private:
  Template template_;
  nlohmann::ordered_json special_tokens_;
};

// One-shot form: parses `template_source` and renders it. `extra_context` carries bos_token,
// eos_token, date_string, tools, documents, ...
std::string apply_chat_template(const std::string& template_source,
                                const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                const nlohmann::ordered_json& extra_context);

}  // namespace lorax::jinja
