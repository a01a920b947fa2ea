#include "server/openai_logprobs.h"

namespace lorax {

namespace {

Json bytes_of(const std::string& text) {
  Json bytes = Json::array();
  for (unsigned char c : text) bytes.push_back(int(c));
  return bytes;
}

std::string token_name(int32_t id, const std::string& text, bool token_ids) {
  return token_ids ? "token_id:" + std::to_string(id) : text;
}

}  // namespace

std::string CompletionLogprobs::name(int32_t id, const std::string& text) const {
  return token_name(id, text, token_ids_);
}

void CompletionLogprobs::add(int32_t id, const std::string& text,
                             const std::optional<TokenLogprob>& lp, int32_t previous) {
  tokens_.push_back(name(id, text));
  offsets_.push_back(offset_);
  offset_ += text.size();
  if (!lp) {
    logprobs_.push_back(nullptr);
    top_.push_back(nullptr);
    return;
  }
  logprobs_.push_back(lp->logprob);
  Json top = Json::object();
  for (const auto& [alt, value] : lp->top) top[name(alt, texts_.after(previous, alt))] = value;
  top[name(id, text)] = lp->logprob;  // the chosen token is always listed
  top_.push_back(std::move(top));
}

void CompletionLogprobs::add_prompt(const std::vector<int32_t>& ids,
                                    const std::vector<std::optional<TokenLogprob>>& logprobs) {
  const std::vector<std::string> pieces = texts_.pieces(ids);
  for (size_t j = 0; j < ids.size(); ++j) {
    const std::optional<TokenLogprob> lp =
        j > 0 && j < logprobs.size() ? logprobs[j] : std::nullopt;
    add(ids[j], pieces[j], lp, j > 0 ? ids[j - 1] : ids[j]);
  }
}

void CompletionLogprobs::add_generated(const GeneratedToken& token, int32_t previous) {
  add(token.id, token.text, TokenLogprob{token.id, token.logprob, token.top}, previous);
}

Json CompletionLogprobs::take() {
  Json out = {{"tokens", std::move(tokens_)},
              {"token_logprobs", std::move(logprobs_)},
              {"top_logprobs", std::move(top_)},
              {"text_offset", std::move(offsets_)}};
  tokens_ = Json::array();
  logprobs_ = Json::array();
  top_ = Json::array();
  offsets_ = Json::array();
  return out;
}

Json chat_logprob_entry(const GeneratedToken& token, int32_t previous, int top_logprobs,
                        const TokenTexts& texts, bool token_ids) {
  Json top = Json::array();
  for (size_t i = 0; i < token.top.size() && int(i) < top_logprobs; ++i) {
    const auto& [id, logprob] = token.top[i];
    const std::string text = texts.after(previous, id);
    top.push_back({{"token", token_name(id, text, token_ids)},
                   {"logprob", logprob},
                   {"bytes", bytes_of(text)}});
  }
  return {{"token", token_name(token.id, token.text, token_ids)},
          {"logprob", token.logprob},
          {"bytes", bytes_of(token.text)},
          {"top_logprobs", std::move(top)}};
}

}  // namespace lorax
