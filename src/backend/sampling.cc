// The reference sampler: the steps listed in sampling.h, one row at a time. This file is built
// with -ffp-contract=off (see CMakeLists.txt) so that its float steps round as the device's do.
#include "backend/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "backend/sampling_math.h"
#include "core/error.h"
#include "core/philox.h"

namespace lorax {

namespace sm = sampling_math;

void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out) {
  float max = -INFINITY;
  for (int64_t i = 0; i < vocab; ++i) max = std::max(max, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - max);
  const double log_sum = std::log(sum) + max;
  out.resize(size_t(vocab));
  for (int64_t i = 0; i < vocab; ++i) out[size_t(i)] = float(double(logits[i]) - log_sum);
}

std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logprobs, int k) {
  const size_t n = std::min(logprobs.size(), size_t(std::max(k, 0)));
  std::vector<int32_t> ids(logprobs.size());
  std::iota(ids.begin(), ids.end(), 0);
  auto better = [&](int32_t a, int32_t b) {
    return logprobs[size_t(a)] > logprobs[size_t(b)] ||
           (logprobs[size_t(a)] == logprobs[size_t(b)] && a < b);
  };
  std::partial_sort(ids.begin(), ids.begin() + ptrdiff_t(n), ids.end(), better);
  std::vector<std::pair<int32_t, float>> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(ids[i], logprobs[size_t(ids[i])]);
  return out;
}

namespace {

// The first k ids of v (NaN-free) by descending value, ties by lower id, in that order.
std::vector<int32_t> best_ids(const std::vector<float>& v, int64_t k) {
  std::vector<int32_t> ids(v.size());
  std::iota(ids.begin(), ids.end(), 0);
  auto before = [&](int32_t a, int32_t b) {
    return v[size_t(a)] > v[size_t(b)] || (v[size_t(a)] == v[size_t(b)] && a < b);
  };
  const auto end = ids.begin() + ptrdiff_t(std::min<int64_t>(k, int64_t(ids.size())));
  std::partial_sort(ids.begin(), end, ids.end(), before);
  ids.erase(end, ids.end());
  return ids;
}

std::vector<float> working_logits(const float* raw, int64_t vocab, const SampleRow& row) {
  const SamplingParams& p = row.params;
  std::vector<float> w(raw, raw + vocab);
  for (const LogitBias& b : row.logit_bias)
    if (b.id >= 0 && b.id < vocab) w[size_t(b.id)] = sm::add(w[size_t(b.id)], b.bias);
  if (p.penalised()) {
    std::vector<uint8_t> seen(size_t(vocab), 0);
    std::vector<int32_t> generated(size_t(vocab), 0);
    for (size_t h = 0; h < row.history.size(); ++h) {
      const int32_t t = row.history[h];
      if (t < 0 || t >= vocab) continue;
      seen[size_t(t)] = 1;
      if (h >= row.prompt_len) ++generated[size_t(t)];
    }
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = sm::penalise(w[i], seen[i] != 0, generated[i], p.repetition_penalty,
                          p.frequency_penalty, p.presence_penalty);
  }
  for (float& v : w) v = sm::sanitize(v);
  return w;
}

// The tree sum of a[0, n) with its prefix masses (sampling_math.h), built serially.
class SumTree {
 public:
  SumTree(const std::vector<float>& a, int64_t n)
      : n_(n), run_(static_cast<size_t>(n)), tree_(size_t(sm::sum_tree_floats(n))) {
    for (int64_t g = 0; g < sm::sum_groups(n); ++g)
      tree_[size_t(g)] = sm::sum_leaf_group(a.data(), n, g, run_.data());
    int64_t offset = 0;
    for (int64_t count = sm::sum_groups(n); count > 1; count = sm::sum_groups(count)) {
      float* level = tree_.data() + offset;
      for (int64_t g = 0; g < sm::sum_groups(count); ++g)
        level[2 * count + g] = sm::sum_inner_group(level, count, g, level + count);
      offset += 2 * count;
    }
    total_ = tree_[size_t(offset)];
  }
  float total() const { return total_; }
  float prefix(int64_t i) const { return sm::prefix_mass(i, n_, run_.data(), tree_.data()); }

 private:
  int64_t n_;
  std::vector<float> run_, tree_;
  float total_ = 0.0f;
};

// Step 5: how many candidates the nucleus keeps.
int64_t nucleus(const std::vector<float>& e, int64_t n, float top_p) {
  const SumTree sums(e, n);
  const float target = sm::mul(top_p, sums.total());
  for (int64_t j = 0; j < n; ++j)
    if (sums.prefix(j) >= target) return j + 1;
  return n;
}

// Step 6: zeroes the weight of the candidates outside the locally typical set.
void keep_typical(std::vector<float>& e, const std::vector<float>& x, int64_t n, float typical_p) {
  const float total = SumTree(e, n).total();
  std::vector<float> ex(static_cast<size_t>(n));
  for (size_t j = 0; j < ex.size(); ++j) ex[j] = e[j] > 0.0f ? sm::mul(e[j], x[j]) : 0.0f;
  const float mean = sm::div(SumTree(ex, n).total(), total);
  std::vector<uint32_t> d(static_cast<size_t>(n));
  for (size_t j = 0; j < d.size(); ++j) d[j] = sm::float_bits(sm::abs(sm::sub(x[j], mean)));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return d[size_t(a)] < d[size_t(b)] || (d[size_t(a)] == d[size_t(b)] && a < b);
  });
  auto mass_of_first = [&](int64_t m) {
    std::vector<float> kept(size_t(n), 0.0f);
    for (int64_t r = 0; r < m; ++r) kept[size_t(order[size_t(r)])] = e[size_t(order[size_t(r)])];
    return SumTree(kept, n).total();
  };
  // The mass of a prefix of the order does not decrease as it grows: search the shortest.
  const float target = sm::mul(typical_p, total);
  int64_t lo = 1, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (mass_of_first(mid) >= target)
      hi = mid;
    else
      lo = mid + 1;
  }
  for (int64_t r = lo; r < n; ++r) e[size_t(order[size_t(r)])] = 0.0f;
}

// Step 7: the position drawn by inverse CDF.
int64_t draw(const std::vector<float>& e, int64_t n, float u) {
  const SumTree sums(e, n);
  const float target = sm::mul(u, sums.total());
  for (int64_t j = 0; j < n; ++j)
    if (sums.prefix(j) > target) return j;
  for (int64_t j = n - 1; j >= 0; --j)
    if (e[size_t(j)] > 0.0f) return j;
  return 0;
}

std::vector<float> masked_row(const float* raw, int64_t vocab, std::span<const uint32_t> allowed) {
  std::vector<float> out(raw, raw + vocab);
  for (int64_t i = 0; i < vocab; ++i)
    if (!token_allowed(allowed, i)) out[size_t(i)] = -INFINITY;
  return out;
}

int32_t choose(const float* raw, int64_t vocab, const SampleRow& row) {
  const SamplingParams& p = row.params;
  const std::vector<float> w = working_logits(raw, vocab, row);
  if (!(p.temperature > 0.0f)) return best_ids(w, 1)[0];
  const std::vector<int32_t> candidates =
      best_ids(w, p.top_k > 0 && p.top_k < vocab ? int64_t(p.top_k) : vocab);
  int64_t n = int64_t(candidates.size());
  std::vector<float> x(static_cast<size_t>(n)), e(static_cast<size_t>(n));
  const float best = w[size_t(candidates[0])];
  for (size_t j = 0; j < x.size(); ++j) {
    x[j] = sm::scaled_logit(w[size_t(candidates[j])], best, p.temperature);
    e[j] = sm::exp_nonpositive(x[j]);
  }
  if (p.top_p < 1.0f) n = nucleus(e, n, p.top_p);
  if (p.typical_p < 1.0f) keep_typical(e, x, n, p.typical_p);
  return candidates[size_t(draw(e, n, philox_uniform(p.seed, row.draw_index)))];
}

}  // namespace

TokenLogprob sample_row(const float* row_logits, int64_t vocab, const SampleRow& row) {
  LORAX_CHECK(vocab > 0, "sampling a row of ", vocab, " logits");
  LORAX_CHECK(row.top_logprobs >= 0 && row.top_logprobs <= kMaxTopLogprobs, "top_logprobs ",
              row.top_logprobs, " is outside [0, ", kMaxTopLogprobs, "]");
  LORAX_CHECK(row.forced_id < vocab, "forced token ", row.forced_id,
              " is outside the vocabulary of ", vocab);
  // A masked row: the disallowed logits become -inf and the masked row is the row (sampling.h).
  const bool masked = !row.allowed.empty() && row.forced_id < 0;
  std::vector<float> masked_logits;
  if (masked) masked_logits = masked_row(row_logits, vocab, row.allowed);
  const float* logits = masked ? masked_logits.data() : row_logits;
  std::vector<float> lp;
  log_softmax(logits, vocab, lp);
  TokenLogprob out;
  out.id = row.forced_id >= 0 ? row.forced_id : choose(logits, vocab, row);
  out.logprob = lp[size_t(out.id)];
  std::vector<float> ranked(logits, logits + vocab);
  for (float& v : ranked) v = sm::sanitize(v);
  for (int32_t id : best_ids(ranked, masked && row.top_logprobs > 0 ? vocab : row.top_logprobs)) {
    if (int(out.top.size()) == row.top_logprobs) break;
    if (masked && !token_allowed(row.allowed, id)) continue;
    out.top.emplace_back(id, lp[size_t(id)]);
  }
  return out;
}

}  // namespace lorax
