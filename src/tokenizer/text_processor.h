// Text in, text out for one model: its tokenizer, tokenizer_config.json/generation_config.json
// and chat template together, as the server and the CLI use them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"

namespace lorax {

namespace jinja {
class ChatTemplate;
}

class TextProcessor {
 public:
  // From DIR/tokenizer.json (+ tokenizer_config.json, generation_config.json); nullopt when the
  // checkpoint has no tokenizer.json. Throws lorax::Error for files that exist but are broken.
  static std::optional<TextProcessor> from_model_dir(const std::string& dir);
  TextProcessor(Tokenizer tokenizer, TokenizerConfig config);

  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const TokenizerConfig& config() const { return config_; }

  // A plain prompt, with the special tokens the tokenizer's post-processor adds (BOS, ...).
  std::vector<int32_t> encode_prompt(std::string_view text, bool add_special_tokens = true) const;
  // Renders the chat template (throws jinja::TemplateError with the template's own message when
  // it raises, lorax::Error when the model has no template).
  std::string render_chat(
      const nlohmann::ordered_json& messages, bool add_generation_prompt,
      const std::string& template_name = TokenizerConfig::kDefaultTemplate) const;
  // The rendered chat, tokenized as transformers' apply_chat_template(tokenize=True) does: the
  // template writes the special tokens itself, so none are added.
  std::vector<int32_t> encode_chat(const nlohmann::ordered_json& messages,
                                   bool add_generation_prompt) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const;
  bool has_chat_template() const { return config_.chat_template() != nullptr; }

 private:
  // A parsed chat template, or why it could not be parsed (reported when a chat needs it, so a
  // broken template does not stop plain prompts from being served).
  struct ParsedTemplate {
    std::shared_ptr<const jinja::ChatTemplate> parsed;
    std::string error;
  };

  std::shared_ptr<const Tokenizer> tokenizer_;  // shared: detokenizers hold references to it
  TokenizerConfig config_;
  std::map<std::string, ParsedTemplate> templates_;  // parsed once; rendering is thread-safe
};

}  // namespace lorax
