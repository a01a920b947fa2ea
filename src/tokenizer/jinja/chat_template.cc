#include "tokenizer/jinja/chat_template.h"

#include <array>

#include "core/error.h"

namespace lorax::jinja {
namespace {

using nlohmann::ordered_json;

// The special tokens transformers passes to every chat template (special_tokens_map).
constexpr std::array<std::string_view, 8> kSpecialTokenNames = {
    "bos_token", "eos_token", "unk_token",  "sep_token",
    "pad_token", "cls_token", "mask_token", "additional_special_tokens"};

// A token in tokenizer_config.json is a string or an AddedToken object {"content": ...}.
ordered_json token_text(const ordered_json& token) {
  if (token.is_object() && token.contains("content")) return token["content"];
  if (token.is_array()) {
    ordered_json out = ordered_json::array();
    for (const auto& t : token) out.push_back(token_text(t));
    return out;
  }
  return token;
}

std::string select_template(const ordered_json& config, std::string_view name) {
  LORAX_CHECK(config.contains("chat_template"), "tokenizer config has no chat_template");
  const ordered_json& chat_template = config["chat_template"];
  if (chat_template.is_string()) return chat_template.get<std::string>();
  LORAX_CHECK(chat_template.is_array(),
              "tokenizer config chat_template must be a string or a list");
  for (const auto& entry : chat_template) {
    const bool named = entry.is_object() && entry.contains("name") && entry["name"].is_string() &&
                       entry["name"].get_ref<const std::string&>() == name;
    if (named && entry.contains("template") && entry["template"].is_string()) {
      return entry["template"].get<std::string>();
    }
  }
  fail("tokenizer config has no chat template named '", name, "'");
}

}  // namespace

ChatTemplate::ChatTemplate(std::string_view source, ordered_json special_tokens)
    : template_(source), special_tokens_(std::move(special_tokens)) {
  LORAX_CHECK(special_tokens_.is_object(), "special tokens must be a JSON object");
}

ChatTemplate ChatTemplate::from_tokenizer_config(const ordered_json& config,
                                                 std::string_view name) {
  LORAX_CHECK(config.is_object(), "tokenizer config must be a JSON object");
  ordered_json special = ordered_json::object();
  for (std::string_view key : kSpecialTokenNames) {
    const auto it = config.find(std::string(key));
    if (it != config.end() && !it->is_null()) special[std::string(key)] = token_text(*it);
  }
  return ChatTemplate(select_template(config, name), std::move(special));
}

std::string ChatTemplate::apply(const ordered_json& messages, bool add_generation_prompt,
                                const ordered_json& extra_context) const {
  LORAX_CHECK(extra_context.is_object() || extra_context.is_null(),
              "chat template extra context must be a JSON object");
  ordered_json context = special_tokens_;
  if (extra_context.is_object()) {
    for (const auto& [key, value] : extra_context.items()) context[key] = value;
  }
  // transformers always passes these, as None when the caller gave none.
  if (!context.contains("tools")) context["tools"] = nullptr;
  if (!context.contains("documents")) context["documents"] = nullptr;
  context["messages"] = messages;
  context["add_generation_prompt"] = add_generation_prompt;
  return template_.render(context);
}

std::string apply_chat_template(const std::string& template_source, const ordered_json& messages,
                                bool add_generation_prompt, const ordered_json& extra_context) {
  return ChatTemplate(template_source).apply(messages, add_generation_prompt, extra_context);
}

}  // namespace lorax::jinja
