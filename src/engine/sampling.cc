#include "engine/sampling.h"

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

int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     std::mt19937_64& rng) {
  if (params.temperature <= 0.0f) return argmax(logits, vocab);
  // Candidates by descending logit, cut by top_k, then by top_p mass.
  std::vector<int32_t> ids(static_cast<size_t>(vocab));
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  size_t keep = params.top_k > 0 ? std::min(size_t(params.top_k), ids.size()) : ids.size();
  std::vector<double> weights(keep);
  const double max = logits[ids[0]];
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    weights[i] = std::exp((double(logits[ids[i]]) - max) / params.temperature);
    total += weights[i];
  }
  if (params.top_p < 1.0f) {
    double mass = 0.0;
    size_t cut = 0;
    while (cut < keep && mass < params.top_p * total) mass += weights[cut++];
    keep = std::max<size_t>(cut, 1);
    weights.resize(keep);
  }
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  return ids[pick(rng)];
}

TokenLogprob describe_token(const float* logits, int64_t vocab, int32_t id, int top_k) {
  std::vector<float> lp;
  log_softmax(logits, vocab, lp);
  TokenLogprob out;
  out.id = id;
  out.logprob = lp[size_t(id)];
  if (top_k > 0) out.top = top_logprobs(lp, top_k);
  return out;
}

}  // namespace lorax
