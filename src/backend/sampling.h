// Turning rows of logits into tokens and log-probabilities: the sampling op's meaning, shared by
// every backend. sample_row() is the reference (the CPU backend runs it; the CUDA kernels are
// tested against it).
//
// Reported log-probabilities are those of the model's own distribution (log-softmax of the raw
// logits), whatever bias, penalties, temperature or filtering chose the token, as vLLM reports
// them by default: they say what the model thought, and greedy and sampled runs stay comparable.
//
// Random numbers come from a counter-based generator (Philox4x32-10, core/philox.h) keyed by
// (seed, draw_index): a seeded request draws the same number for its n-th token on every
// backend, whatever its batch, and a draw can be replayed (speculative verification).
//
// The algorithm, step for step (the CUDA kernels follow it exactly; the float steps are the
// helpers of backend/sampling_math.h, each rounded once, so a seeded draw gives the same token on
// both backends):
//  1. Forced row (forced_id >= 0): the token is forced_id; nothing below runs.
//  2. Working logits: w[i] = sanitize(penalise(biased[i], seen[i], generated[i], ...)), where
//     biased[i] = add(raw[i], bias) for a token of the row's logit_bias, raw[i] otherwise (the
//     bias comes before every other transformation, as in OpenAI's API and vLLM), seen means
//     anywhere in history, generated counts history[prompt_len:] (ids outside the vocab are
//     skipped, in the history as in the bias), and sanitize() turns NaN into -inf. Unpenalised
//     rows skip penalise().
//  3. Greedy (temperature not > 0): argmax of w, the lowest id on ties. Done.
//  4. Candidates: ids ordered by descending w, ties by lower id (+0 and -0 tie); the first
//     n = top_k of them if 0 < top_k < vocab, else all.
//     x[j] = scaled_logit(w[c_j], w[c_0], temperature), e[j] = exp_nonpositive(x[j]) (e[0] = 1).
//     Every sum below is the fixed-order tree sum of sampling_math.h over positions [0, n),
//     with M(j) its prefix mass.
//  5. top_p < 1: target = top_p * sum(e); n = 1 + the first j with M(j) >= target (n unchanged
//     if none).
//  6. typical_p < 1 (locally typical sampling, Meister et al.): S = sum(e),
//     W = sum(e[j] > 0 ? e[j] * x[j] : 0), xbar = W / S (the mean scaled logit; |-log p - H| of
//     transformers' warper is |x - xbar| up to rounding), d[j] = |x[j] - xbar|. Typical order:
//     ascending bits of d (d >= 0, so by value; NaN last), ties by position. Keep the shortest
//     prefix of that order, at least one, whose mass reaches target = typical_p * S, where the
//     mass of a set is sum(e[j] if kept else 0); set e[j] = 0 for the others.
//  7. Draw: u = philox_uniform(seed, draw_index), target = u * sum(e); the token is c_j for the
//     first j with M(j) > target; if none (rounding), the last j with e[j] > 0; if none, j = 0.
//  8. Report: logprob = log_softmax(raw)[token] (f64 accumulation, rounded to float), and the
//     top_logprobs best alternatives by raw logit (NaN as -inf), ties by lower id, with their
//     log-softmax values.
//
// Allowed-token masks (structured output): a row with a non-empty `allowed` mask first has every
// disallowed logit replaced by -inf, and `raw` above means that masked row from step 2 on, the
// report included: the log-probabilities are those of the masked distribution and the
// alternatives are allowed tokens only (fewer than top_logprobs when fewer are allowed). That is
// what vLLM reports (its grammar bitmask is applied to the logits before its sampler computes
// log-probabilities): the chosen token's log-probability is finite and the alternatives are
// tokens that could have been chosen. Forced rows ignore the mask.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace lorax {

// Applied after the row's logit bias, in this order (as transformers' and TGI's logits
// processors): repetition penalty, frequency and presence penalties, temperature, top-k, top-p,
// typical-p, then a draw.
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

// A bias added to one token's logit (OpenAI's logit_bias: -100 all but bans the token, +100
// all but forces it).
struct LogitBias {
  int32_t id = 0;
  float bias = 0.0f;
};

// One row of a sampling op.
struct SampleRow {
  SamplingParams params;
  uint64_t draw_index = 0;  // the RNG counter: index of this token among the sequence's generated
  std::span<const int32_t> history;  // prompt then generated tokens (the penalties read it)
  size_t prompt_len = 0;             // history[prompt_len:] are the generated tokens
  int top_logprobs = 0;              // alternatives to report, 0..kMaxTopLogprobs
  int32_t forced_id = -1;  // >= 0: report this token (a prompt token) instead of choosing one
  // Structured output: empty, every token may be chosen; else a packed bitmask over the vocabulary,
  // token id allowed when bit id % 32 of allowed[id / 32] is set (ids past the mask are not).
  std::span<const uint32_t> allowed;
  std::span<const LogitBias> logit_bias;  // distinct ids; added to the logits before all else
};

// Whether `id` may be chosen under a row's allowed mask (sampling.h's SampleRow::allowed).
inline bool token_allowed(std::span<const uint32_t> allowed, int64_t id) {
  if (allowed.empty()) return true;
  const uint64_t word = uint64_t(id) / 32;
  return word < allowed.size() && ((allowed[size_t(word)] >> (uint64_t(id) % 32)) & 1u) != 0;
}

// log-softmax of one row, accumulated in f64.
void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out);

// The k most likely tokens of a log-softmax row, best first, ties by lower id.
std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logprobs, int k);

// The reference sampler: chooses (or takes the forced) token of one row of raw logits and
// reports its log-probability and top alternatives.
TokenLogprob sample_row(const float* logits, int64_t vocab, const SampleRow& row);

}  // namespace lorax
