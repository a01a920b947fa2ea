// Turning one row of logits into a token and its log-probabilities.
//
// Reported log-probabilities are those of the model's own distribution (log-softmax of the raw
// logits), whatever temperature or filtering chose the token, as vLLM reports them by default:
// they say what the model thought, and greedy and sampled runs stay comparable.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace lorax {

// Applied in this order (as transformers' and TGI's logits processors): repetition penalty,
// frequency and presence penalties, temperature, top-k, top-p, typical-p, then a draw.
struct SamplingParams {
  float temperature = 0.0f;         // 0: greedy (argmax, lowest id on ties)
  int top_k = 0;                    // 0: no limit
  float top_p = 1.0f;               // nucleus mass kept
  float typical_p = 1.0f;           // locally typical sampling mass kept
  float repetition_penalty = 1.0f;  // CTRL-style, over prompt and generated tokens
  float frequency_penalty = 0.0f;   // OpenAI-style, per occurrence in generated tokens
  float presence_penalty = 0.0f;    // OpenAI-style, once per generated token present
  uint64_t seed = 0;
  bool penalised() const {
    return repetition_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f;
  }
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // best first; ties broken by lower id
};

// log-softmax of one row, accumulated in f64.
void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out);

// The k most likely tokens of a log-softmax row.
std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logprobs, int k);

// Chooses the next token from raw logits. `tokens` is the sequence so far (prompt, then
// generated from index prompt_len on), used by the penalties.
int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     std::mt19937_64& rng, const std::vector<int32_t>& tokens = {},
                     size_t prompt_len = 0);

// Log-probability of `id` in the row, with its top-k alternatives.
TokenLogprob describe_token(const float* logits, int64_t vocab, int32_t id, int top_k);

}  // namespace lorax
