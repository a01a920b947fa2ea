#include "tokenizer/text_processor.h"

#include <filesystem>

#include "core/error.h"
#include "tokenizer/jinja/chat_template.h"

namespace lorax {

std::optional<TextProcessor> TextProcessor::from_model_dir(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "tokenizer.json").string();
  if (!std::filesystem::exists(path)) return std::nullopt;
  return TextProcessor(Tokenizer::from_file(path), TokenizerConfig::from_model_dir(dir));
}

TextProcessor::TextProcessor(Tokenizer tokenizer, TokenizerConfig config)
    : tokenizer_(std::make_shared<const Tokenizer>(std::move(tokenizer))),
      config_(std::move(config)) {
  nlohmann::ordered_json special = nlohmann::ordered_json::object();
  if (config_.bos_token) special["bos_token"] = *config_.bos_token;
  if (config_.eos_token) special["eos_token"] = *config_.eos_token;
  if (config_.pad_token) special["pad_token"] = *config_.pad_token;
  if (config_.unk_token) special["unk_token"] = *config_.unk_token;
  for (const auto& [name, source] : config_.chat_templates) {
    try {
      templates_[name].parsed = std::make_shared<const jinja::ChatTemplate>(source, special);
    } catch (const Error& e) {
      templates_[name].error = e.what();
    }
  }
}

std::vector<int32_t> TextProcessor::encode_prompt(std::string_view text,
                                                  bool add_special_tokens) const {
  return tokenizer_->encode(text, add_special_tokens);
}

std::string TextProcessor::render_chat(const nlohmann::ordered_json& messages,
                                       bool add_generation_prompt,
                                       const std::string& template_name) const {
  const std::string* source = config_.chat_template(template_name);
  LORAX_CHECK(
      source != nullptr, "this model has no chat template",
      template_name == TokenizerConfig::kDefaultTemplate ? "" : " named '" + template_name + "'");
  nlohmann::ordered_json special = nlohmann::ordered_json::object();
  if (config_.bos_token) special["bos_token"] = *config_.bos_token;
  if (config_.eos_token) special["eos_token"] = *config_.eos_token;
  if (config_.pad_token) special["pad_token"] = *config_.pad_token;
  if (config_.unk_token) special["unk_token"] = *config_.unk_token;
  return jinja::ChatTemplate(*source, special).apply(messages, add_generation_prompt);
}

std::vector<int32_t> TextProcessor::encode_chat(const nlohmann::ordered_json& messages,
                                                bool add_generation_prompt) const {
  return tokenizer_->encode(render_chat(messages, add_generation_prompt), false);
}

std::string TextProcessor::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  return tokenizer_->decode(ids, skip_special_tokens);
}

}  // namespace lorax
