// Log-probabilities in OpenAI's two formats.
//
// Legacy completions: {"tokens", "token_logprobs", "top_logprobs": [{text: logprob}],
// "text_offset"}, prompt tokens first when echoed (the first has null entries: nothing precedes
// it). As vLLM does, each top_logprobs dict also holds the chosen token. Chat:
// {"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}.
//
// With return_tokens_as_token_ids (vLLM) every token string is "token_id:<id>", which stays
// unambiguous where texts are not (byte fallback pieces, tokens with equal text).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backend/sampling.h"
#include "server/generation_run.h"
#include "server/json_body.h"
#include "server/token_text.h"

namespace lorax {

class CompletionLogprobs {
 public:
  // `offset`: where the first listed token's text starts in the returned text.
  CompletionLogprobs(const TokenTexts& texts, bool token_ids, size_t offset = 0)
      : texts_(texts), token_ids_(token_ids), offset_(offset) {}

  void add_prompt(const std::vector<int32_t>& ids,
                  const std::vector<std::optional<TokenLogprob>>& logprobs);
  void add_generated(const GeneratedToken& token, int32_t previous);
  // The accumulated lists, then empty lists (the offset carries on): one call per stream chunk.
  Json take();

 private:
  std::string name(int32_t id, const std::string& text) const;
  void add(int32_t id, const std::string& text, const std::optional<TokenLogprob>& lp,
           int32_t previous);

  const TokenTexts& texts_;
  bool token_ids_;
  size_t offset_;
  Json tokens_ = Json::array(), logprobs_ = Json::array(), top_ = Json::array(),
       offsets_ = Json::array();
};

// One chat logprobs entry for a generated token.
Json chat_logprob_entry(const GeneratedToken& token, int32_t previous, int top_logprobs,
                        const TokenTexts& texts, bool token_ids);

}  // namespace lorax
