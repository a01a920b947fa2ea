#include "backend/sampling.h"

#include <random>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lorax {

void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out) {
  float max = -INFINITY;
  for (int64_t i = 0; i < vocab; ++i) max = std::max(max, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - max);
  const double log_sum = std::log(sum) + max;
  out.resize(size_t(vocab));
  for (int64_t i = 0; i < vocab; ++i) out[i] = float(double(logits[i]) - log_sum);
}

std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logprobs, int k) {
  const size_t n = std::min(logprobs.size(), size_t(std::max(k, 0)));
  std::vector<int32_t> ids(logprobs.size());
  std::iota(ids.begin(), ids.end(), 0);
  auto better = [&](int32_t a, int32_t b) {
    return logprobs[a] > logprobs[b] || (logprobs[a] == logprobs[b] && a < b);
  };
  std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), better);
  std::vector<std::pair<int32_t, float>> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(ids[i], logprobs[ids[i]]);
  return out;
}

namespace {

int32_t argmax(const float* logits, int64_t vocab) {
  int32_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = int32_t(i);
  return best;
}

}  // namespace

namespace {

void apply_penalties(std::vector<float>& logits, const SamplingParams& p,
                     const std::vector<int32_t>& tokens, size_t prompt_len) {
  const int64_t vocab = int64_t(logits.size());
  if (p.repetition_penalty != 1.0f) {
    std::vector<bool> seen(static_cast<size_t>(vocab), false);
    for (int32_t t : tokens)
      if (t >= 0 && t < vocab) seen[size_t(t)] = true;
    for (int64_t i = 0; i < vocab; ++i)
      if (seen[size_t(i)])
        logits[i] = logits[i] > 0 ? logits[i] / p.repetition_penalty
                                  : logits[i] * p.repetition_penalty;
  }
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
    std::vector<int32_t> counts(static_cast<size_t>(vocab), 0);
    for (size_t i = prompt_len; i < tokens.size(); ++i)
      if (tokens[i] >= 0 && tokens[i] < vocab) ++counts[size_t(tokens[i])];
    for (int64_t i = 0; i < vocab; ++i)
      if (counts[size_t(i)] > 0)
        logits[i] -= p.frequency_penalty * float(counts[size_t(i)]) + p.presence_penalty;
  }
}

// Keeps the smallest set of candidates (by descending probability) whose mass reaches `mass`.
size_t nucleus(const std::vector<double>& probs_sorted, double mass) {
  double total = 0.0;
  size_t keep = 0;
  while (keep < probs_sorted.size() && total < mass) total += probs_sorted[keep++];
  return std::max<size_t>(keep, 1);
}

// Locally typical sampling (Meister et al.; transformers' TypicalLogitsWarper): candidates
// ordered by |surprisal - entropy|, kept until their mass reaches typical_p.
std::vector<size_t> typical_order(const std::vector<double>& probs, double mass) {
  double entropy = 0.0;
  for (double p : probs)
    if (p > 0) entropy -= p * std::log(p);
  std::vector<size_t> order(probs.size());
  std::iota(order.begin(), order.end(), size_t(0));
  auto distance = [&](size_t i) {
    return probs[i] > 0 ? std::fabs(-std::log(probs[i]) - entropy) : INFINITY;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return distance(a) < distance(b); });
  double total = 0.0;
  size_t keep = 0;
  while (keep < order.size() && total < mass) total += probs[order[keep++]];
  order.resize(std::max<size_t>(keep, 1));
  return order;
}

}  // namespace

namespace {

int32_t choose(const float* raw, int64_t vocab, const SamplingParams& params, std::mt19937_64& rng,
               const std::vector<int32_t>& tokens, size_t prompt_len) {
  std::vector<float> logits(raw, raw + vocab);
  if (params.penalised()) apply_penalties(logits, params, tokens, prompt_len);
  if (params.temperature <= 0.0f) return argmax(logits.data(), vocab);
  // Candidates by descending logit, cut by top_k, then top_p, then typical_p.
  std::vector<int32_t> ids(static_cast<size_t>(vocab));
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  if (params.top_k > 0 && size_t(params.top_k) < ids.size()) ids.resize(size_t(params.top_k));
  std::vector<double> probs(ids.size());
  double total = 0.0;
  for (size_t i = 0; i < ids.size(); ++i) {
    probs[i] = std::exp((double(logits[ids[i]]) - logits[ids[0]]) / params.temperature);
    total += probs[i];
  }
  for (double& p : probs) p /= total;
  if (params.top_p < 1.0f) {
    ids.resize(nucleus(probs, params.top_p));
    probs.resize(ids.size());
  }
  if (params.typical_p < 1.0f) {
    double kept = 0.0;
    for (double p : probs) kept += p;
    for (double& p : probs) p /= kept;
    const std::vector<size_t> order = typical_order(probs, params.typical_p);
    std::vector<int32_t> typical_ids;
    std::vector<double> typical_probs;
    for (size_t i : order) {
      typical_ids.push_back(ids[i]);
      typical_probs.push_back(probs[i]);
    }
    ids = std::move(typical_ids);
    probs = std::move(typical_probs);
  }
  std::discrete_distribution<size_t> pick(probs.begin(), probs.end());
  return ids[pick(rng)];
}

}  // namespace

TokenLogprob sample_row(const float* logits, int64_t vocab, const SampleRow& row) {
  int32_t id = row.forced_id;
  if (id < 0) {
    std::mt19937_64 rng(row.params.seed ^ (row.draw_index * 0x9e3779b97f4a7c15ull));
    const std::vector<int32_t> tokens(row.history.begin(), row.history.end());
    id = choose(logits, vocab, row.params, rng, tokens, row.prompt_len);
  }
  std::vector<float> lp;
  log_softmax(logits, vocab, lp);
  TokenLogprob out;
  out.id = id;
  out.logprob = lp[size_t(id)];
  if (row.top_logprobs > 0) out.top = top_logprobs(lp, row.top_logprobs);
  return out;
}

}  // namespace lorax
