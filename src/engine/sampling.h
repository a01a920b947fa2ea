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

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy (argmax, lowest id on ties)
  int top_k = 0;             // 0: no limit
  float top_p = 1.0f;        // nucleus mass kept
  uint64_t seed = 0;
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

// Chooses the next token from raw logits.
int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     std::mt19937_64& rng);

// Log-probability of `id` in the row, with its top-k alternatives.
TokenLogprob describe_token(const float* logits, int64_t vocab, int32_t id, int top_k);

}  // namespace lorax
