// Turning rows of logits into tokens and log-probabilities: the sampling op's meaning, shared by
// every backend. sample_row() is the reference (the CPU backend runs it; the CUDA kernels are
// tested against it).
//
// Reported log-probabilities are those of the model's own distribution (log-softmax of the raw
// logits), whatever penalties, temperature or filtering chose the token, as vLLM reports them
// by default: they say what the model thought, and greedy and sampled runs stay comparable.
//
// Random numbers come from a counter-based generator (Philox4x32-10, core/philox.h) keyed by
// (seed, draw_index): a seeded request draws the same number for its n-th token on every
// backend, whatever its batch, and a draw can be replayed (speculative verification).
#pragma once

#include <cstdint>
#include <span>
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

constexpr int kMaxTopLogprobs = 20;

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // best first; ties broken by lower id
};

// One row of a sampling op.
struct SampleRow {
  SamplingParams params;
  uint64_t draw_index = 0;  // the RNG counter: index of this token among the sequence's generated
  std::span<const int32_t> history;  // prompt then generated tokens (the penalties read it)
  size_t prompt_len = 0;             // history[prompt_len:] are the generated tokens
  int top_logprobs = 0;              // alternatives to report, 0..kMaxTopLogprobs
  int32_t forced_id = -1;  // >= 0: report this token (a prompt token) instead of choosing one
};

// log-softmax of one row, accumulated in f64.
void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out);

// The k most likely tokens of a log-softmax row, best first, ties by lower id.
std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logprobs, int k);

// The reference sampler: chooses (or takes the forced) token of one row of raw logits and
// reports its log-probability and top alternatives.
TokenLogprob sample_row(const float* logits, int64_t vocab, const SampleRow& row);

}  // namespace lorax
