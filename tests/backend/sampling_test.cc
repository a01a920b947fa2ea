// The reference sampling op (backend/sampling.h) and its counter-based RNG (core/philox.h).
#include "backend/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "backend/sampling_math.h"
#include "core/error.h"
#include "core/philox.h"

namespace lorax {
namespace {

namespace sm = sampling_math;

// ---- Philox ----------------------------------------------------------------------------------

// Random123's known-answer vectors for Philox4x32-10 (tests/kat_vectors and the dokat calls of
// its C++ tests): counter words, key words, expected output words.
TEST(Philox, MatchesRandom123KnownAnswers) {
  struct Kat {
    Philox4x32Block counter;
    uint32_t k0, k1;
    Philox4x32Block expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffff,
       0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0xa4093822,
       0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& kat : kats) {
    const Philox4x32Block out = philox4x32_10(kat.counter, kat.k0, kat.k1);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(out.x[w], kat.expected.x[w]) << "word " << w;
  }
}

TEST(Philox, SeedIsTheKeyAndTheCounterTheLowWords) {
  // (seed, counter) = (0x299f31d0'a4093822, 0x85a308d3'243f6a88): the third vector's key and
  // first two counter words, with the last two counter words 0.
  const Philox4x32Block block = philox_block(0x299f31d0a4093822ull, 0x85a308d3243f6a88ull);
  const Philox4x32Block direct =
      philox4x32_10({{0x243f6a88, 0x85a308d3, 0, 0}}, 0xa4093822, 0x299f31d0);
  for (int w = 0; w < 4; ++w) EXPECT_EQ(block.x[w], direct.x[w]);
  // The uniform is the top 24 bits of the first word of the all-zero vector.
  EXPECT_EQ(philox_uniform(0, 0), float(0x6627e8d5u >> 8) / 16777216.0f);
}

TEST(Philox, UniformsAreInRangeAndEvenlySpread) {
  // Fixed seeds: the statistic is a fixed number, so the bound cannot flake.
  for (uint64_t seed : {0ull, 1ull, 0xdeadbeefcafef00dull}) {
    constexpr int kBins = 16, kDraws = 64000;
    int counts[kBins] = {};
    double sum = 0.0;
    for (uint64_t c = 0; c < kDraws; ++c) {
      const float u = philox_uniform(seed, c);
      ASSERT_GE(u, 0.0f);
      ASSERT_LT(u, 1.0f);
      sum += u;
      ++counts[int(u * kBins)];
    }
    EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
    double chi2 = 0.0;
    const double expected = double(kDraws) / kBins;
    for (int b = 0; b < kBins; ++b)
      chi2 += (counts[b] - expected) * (counts[b] - expected) / expected;
    EXPECT_LT(chi2, 37.7) << "seed " << seed;  // 15 degrees of freedom, p = 0.001
  }
  // Neighbouring seeds and counters give unrelated numbers.
  EXPECT_NE(philox_uniform(1, 0), philox_uniform(2, 0));
  EXPECT_NE(philox_uniform(1, 0), philox_uniform(1, 1));
  EXPECT_NE(philox_uniform(1ull << 32, 0), philox_uniform(1, 0));
  EXPECT_NE(philox_uniform(0, 1ull << 32), philox_uniform(0, 1));
}

// ---- The shared float steps ------------------------------------------------------------------

TEST(SamplingMath, ExpIsCloseToTheLibraryAndExactAtTheEnds) {
  EXPECT_EQ(sm::exp_nonpositive(0.0f), 1.0f);
  EXPECT_EQ(sm::exp_nonpositive(-0.0f), 1.0f);
  EXPECT_EQ(sm::exp_nonpositive(-80.5f), 0.0f);
  EXPECT_EQ(sm::exp_nonpositive(-INFINITY), 0.0f);
  EXPECT_EQ(sm::exp_nonpositive(NAN), 0.0f);
  double worst = 0.0;
  for (float x = -80.0f; x <= 0.0f; x = std::nextafter(x + 0.0007f, 1.0f)) {
    const double ref = std::exp(double(x));
    worst = std::max(worst, std::fabs(sm::exp_nonpositive(x) - ref) / ref);
  }
  EXPECT_LT(worst, 3e-7);  // a couple of float ulps
  // Monotone where it matters most: just below the best candidate.
  EXPECT_LE(sm::exp_nonpositive(-1e-3f), sm::exp_nonpositive(-1e-4f));
}

TEST(SamplingMath, SortKeyOrdersLogitsDescendingWithSignedZerosEqual) {
  const float values[] = {INFINITY, 3.5f, 1.0f, 1e-40f, 0.0f, -0.0f, -1e-40f, -1.0f, -INFINITY};
  for (float a : values)
    for (float b : values) {
      const uint32_t ka = sm::descending_logit_key(a), kb = sm::descending_logit_key(b);
      EXPECT_EQ(a > b, ka < kb) << a << " " << b;
      EXPECT_EQ(a == b, ka == kb) << a << " " << b;
    }
}

TEST(SamplingMath, PenaltiesMatchTheEngineFormulas) {
  EXPECT_EQ(sm::penalise(3.0f, true, 0, 2.0f, 0.0f, 0.0f), 1.5f);
  EXPECT_EQ(sm::penalise(-3.0f, true, 0, 2.0f, 0.0f, 0.0f), -6.0f);
  EXPECT_EQ(sm::penalise(3.0f, false, 0, 2.0f, 0.0f, 0.0f), 3.0f);
  EXPECT_EQ(sm::penalise(3.0f, true, 2, 1.0f, 0.5f, 0.25f), 3.0f - (0.5f * 2 + 0.25f));
  EXPECT_EQ(sm::penalise(3.0f, true, 0, 1.0f, 0.5f, 0.25f), 3.0f);  // prompt-only token
}

// A serial build of the tree of sampling_math.h (as the reference does).
struct Tree {
  std::vector<float> run, tree;
  float total;
  explicit Tree(const std::vector<float>& a) : run(a.size()) {
    const int64_t n = int64_t(a.size());
    tree.resize(size_t(sm::sum_tree_floats(n)));
    for (int64_t g = 0; g < sm::sum_groups(n); ++g)
      tree[size_t(g)] = sm::sum_leaf_group(a.data(), n, g, run.data());
    int64_t offset = 0;
    for (int64_t count = sm::sum_groups(n); count > 1; count = sm::sum_groups(count)) {
      float* level = tree.data() + offset;
      for (int64_t g = 0; g < sm::sum_groups(count); ++g)
        level[2 * count + g] = sm::sum_inner_group(level, count, g, level + count);
      offset += 2 * count;
    }
    total = tree[size_t(offset)];
  }
};

TEST(SamplingMath, PrefixMassIsTheTotalOfTheTruncatedArray) {
  std::mt19937 rng(3);
  std::exponential_distribution<float> dist(1.0f);
  for (int n : {1, 2, 31, 32, 33, 1023, 1024, 1025, 40000}) {
    std::vector<float> a(static_cast<size_t>(n));
    for (float& v : a) v = dist(rng);
    const Tree full(a);
    double exact = 0.0;
    for (float v : a) exact += v;
    EXPECT_NEAR(full.total, exact, 1e-5 * exact) << n;
    EXPECT_EQ(sm::prefix_mass(n - 1, n, full.run.data(), full.tree.data()), full.total) << n;
    float previous = 0.0f;
    for (int i = 0; i < n; i += (n > 2000 ? 97 : 1)) {
      std::vector<float> cut = a;
      std::fill(cut.begin() + i + 1, cut.end(), 0.0f);
      const float mass = sm::prefix_mass(i, n, full.run.data(), full.tree.data());
      ASSERT_EQ(mass, Tree(cut).total) << n << " " << i;  // bit for bit
      ASSERT_GE(mass, previous);
      previous = mass;
    }
  }
}

// ---- The sampler -----------------------------------------------------------------------------

SampleRow sampled(float temperature, uint64_t seed = 7) {
  SampleRow row;
  row.params.temperature = temperature;
  row.params.seed = seed;
  return row;
}

int32_t pick(const std::vector<float>& logits, const SampleRow& row) {
  return sample_row(logits.data(), int64_t(logits.size()), row).id;
}

// Tokens drawn at draw indices 0..draws-1.
std::map<int32_t, int> histogram(const std::vector<float>& logits, SampleRow row, int draws) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < draws; ++i) {
    row.draw_index = uint64_t(i);
    ++counts[pick(logits, row)];
  }
  return counts;
}

TEST(Sampling, GreedyTakesTheLowestIdOnTiesAndIgnoresNaN) {
  SampleRow row;
  EXPECT_EQ(pick({0.5f, 2.0f, 2.0f, -1.0f}, row), 1);
  EXPECT_EQ(pick({NAN, 0.5f, 2.0f, NAN}, row), 2);
  EXPECT_EQ(pick({-INFINITY, -INFINITY}, row), 0);
  EXPECT_EQ(pick({-0.0f, 0.0f}, row), 0);  // signed zeros tie
  row.params.temperature = -1.0f;          // not > 0: greedy
  EXPECT_EQ(pick({0.5f, 2.0f, 2.0f, -1.0f}, row), 1);
}

TEST(Sampling, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SampleRow row;
  row.params.repetition_penalty = 2.0f;
  const std::vector<int32_t> zero = {0}, two = {2}, twice = {0, 0};
  // token 0 (logit 3, seen in the prompt) becomes 1.5 < token 1's 2
  row.history = zero;
  row.prompt_len = 1;
  EXPECT_EQ(pick({3.0f, 2.0f, -1.0f}, row), 1);
  // a seen negative logit gets more negative: -0.9 * 2 loses to -1
  row.history = two;
  EXPECT_EQ(pick({-1.0f, -1.5f, -0.9f}, row), 0);
  // applied once however often the token occurs: 3 / 2 = 1.5 still beats 1.4
  row.history = twice;
  EXPECT_EQ(pick({3.0f, 1.4f}, row), 0);
}

TEST(Sampling, FrequencyAndPresencePenaltiesCountGeneratedTokensOnly) {
  SampleRow row;
  row.params.frequency_penalty = 0.6f;
  const std::vector<float> logits = {2.0f, 1.0f};
  const std::vector<int32_t> prompt_only = {0, 0}, generated_twice = {1, 0, 0},
                             generated_once = {1, 0}, out_of_range = {5, -1, 5};
  row.history = prompt_only;
  row.prompt_len = 2;
  EXPECT_EQ(pick(logits, row), 0);  // no penalty for prompt tokens
  row.history = generated_twice;
  row.prompt_len = 1;
  EXPECT_EQ(pick(logits, row), 1);  // 2 - 2 * 0.6 = 0.8 < 1
  row.history = generated_once;
  EXPECT_EQ(pick(logits, row), 0);  // 2 - 0.6 = 1.4 > 1
  row.history = out_of_range;
  row.prompt_len = 0;
  EXPECT_EQ(pick(logits, row), 0);  // ids outside the vocabulary are skipped
  SampleRow presence;
  presence.params.presence_penalty = 1.5f;
  presence.history = generated_once;
  presence.prompt_len = 1;
  EXPECT_EQ(pick(logits, presence), 1);  // 2 - 1.5 < 1
  presence.history = generated_twice;
  EXPECT_EQ(pick(logits, presence), 1);  // once per token, not per occurrence: 0.5 < 1
  presence.params.presence_penalty = 0.9f;
  EXPECT_EQ(pick(logits, presence), 0);  // 1.1 > 1 (it would be 0.2 per occurrence)
}

TEST(Sampling, PenaltiesAlsoShapeSampledRows) {
  SampleRow row = sampled(1.0f);
  row.params.presence_penalty = 100.0f;
  const std::vector<int32_t> history = {0, 1};
  row.history = history;
  row.prompt_len = 1;  // token 1 was generated: excluded in effect
  const auto counts = histogram({1.0f, 3.0f, 1.0f}, row, 500);
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_TRUE(counts.count(0) && counts.count(2));
}

TEST(Sampling, LogitBiasForcesAndBansTokensInGreedyRows) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.5f};
  SampleRow row;
  EXPECT_EQ(pick(logits, row), 1);
  const std::vector<LogitBias> force = {{3, 100.0f}}, ban = {{1, -100.0f}},
                               nudge = {{0, 2.5f}, {1, -0.25f}}, outside = {{7, 100.0f}};
  row.logit_bias = force;
  EXPECT_EQ(pick(logits, row), 3);
  row.logit_bias = ban;
  EXPECT_EQ(pick(logits, row), 2);  // the next best
  row.logit_bias = nudge;
  EXPECT_EQ(pick(logits, row), 0);  // 1 + 2.5 = 3.5 > 3 - 0.25
  row.logit_bias = outside;
  EXPECT_EQ(pick(logits, row), 1);  // ids outside the vocabulary are skipped
}

TEST(Sampling, LogitBiasForcesAndBansTokensInSeededRows) {
  const std::vector<float> logits = {1.0f, 1.2f, 0.8f, 1.1f};
  SampleRow row = sampled(1.0f, 11);
  const auto plain = histogram(logits, row, 400);
  EXPECT_EQ(plain.size(), 4u);  // every token is drawn without a bias
  const std::vector<LogitBias> force = {{2, 100.0f}}, ban = {{1, -100.0f}, {3, -100.0f}};
  row.logit_bias = force;
  const auto forced = histogram(logits, row, 400);
  ASSERT_EQ(forced.size(), 1u);
  EXPECT_EQ(forced.begin()->first, 2);
  row.logit_bias = ban;
  const auto banned = histogram(logits, row, 400);
  EXPECT_EQ(banned.count(1) + banned.count(3), 0u);
  EXPECT_TRUE(banned.count(0) && banned.count(2));
  // The same seed and draw index give the same token again: the bias is deterministic.
  row.draw_index = 5;
  EXPECT_EQ(pick(logits, row), pick(logits, row));
}

TEST(Sampling, LogitBiasComesBeforeThePenaltiesAndLeavesLogprobsRaw) {
  // Token 0 (logit 2) is seen, repetition penalty 2, bias -4: biased first it is
  // (2 - 4) * 2 = -4 and loses to token 1's -3.5; penalised first it would be 2 / 2 - 4 = -3.
  SampleRow row;
  row.params.repetition_penalty = 2.0f;
  const std::vector<int32_t> history = {0};
  row.history = history;
  row.prompt_len = 1;
  const std::vector<LogitBias> bias = {{0, -4.0f}};
  row.logit_bias = bias;
  const std::vector<float> logits = {2.0f, -3.5f};
  const TokenLogprob t = sample_row(logits.data(), 2, row);
  EXPECT_EQ(t.id, 1);
  std::vector<float> lp;
  log_softmax(logits.data(), 2, lp);
  EXPECT_EQ(t.logprob, lp[1]);  // the raw distribution's
}

TEST(Sampling, DrawIsTheInverseCdfOverCandidatesInLogitOrder) {
  // Two equal logits weigh 1 each (and token 0 nothing): the lower id owns u in [0, 0.5), the
  // higher [0.5, 1).
  SampleRow row = sampled(1.0f, 42);
  for (uint64_t i = 0; i < 200; ++i) {
    row.draw_index = i;
    const float u = philox_uniform(42, i);
    EXPECT_EQ(pick({-100.0f, 5.0f, 5.0f}, row), u < 0.5f ? 1 : 2) << u;
  }
  // Weights 1, 1/2 (logit ln 0.5 lower), listed best first whatever the ids: 2/3 | 1/3.
  const float half = std::log(0.5f);
  for (uint64_t i = 0; i < 200; ++i) {
    row.draw_index = i;
    const float u = philox_uniform(42, i);
    const float e1 = sm::exp_nonpositive(sm::scaled_logit(half, 0.0f, 1.0f));
    const bool first = sm::mul(u, sm::add(1.0f, e1)) < 1.0f;
    EXPECT_EQ(pick({half, 0.0f}, row), first ? 1 : 0) << u;
  }
}

// Pearson's statistic of the counts against the probabilities (every token expected).
double chi_square(const std::map<int32_t, int>& counts, const std::vector<double>& probs,
                  int draws) {
  double chi2 = 0.0;
  for (size_t id = 0; id < probs.size(); ++id) {
    const auto it = counts.find(int32_t(id));
    const double seen = it == counts.end() ? 0.0 : it->second;
    const double expected = probs[id] * draws;
    chi2 += (seen - expected) * (seen - expected) / expected;
  }
  return chi2;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
  std::vector<double> p;
  double sum = 0.0;
  for (float l : logits) sum += std::exp(l / temperature);
  for (float l : logits) p.push_back(std::exp(l / temperature) / sum);
  return p;
}

TEST(Sampling, DrawsFollowTheTemperedDistribution) {
  const std::vector<float> logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.5f, 1.1f, 0.7f};
  constexpr int kDraws = 20000;
  // Fixed seeds: deterministic statistics, tested against the p = 0.001 bound (7 degrees of
  // freedom: 24.3) so that a working sampler passes with room to spare.
  for (uint64_t seed : {1ull, 99ull, 123456789ull})
    for (float temperature : {1.0f, 0.5f, 2.0f}) {
      SampleRow row = sampled(temperature, seed);
      const auto counts = histogram(logits, row, kDraws);
      EXPECT_LT(chi_square(counts, softmax(logits, temperature), kDraws), 24.3)
          << "seed " << seed << " temperature " << temperature;
    }
  // A wrong distribution fails the same bound: the check has teeth.
  const auto counts = histogram(logits, sampled(1.0f, 1), kDraws);
  EXPECT_GT(chi_square(counts, softmax(logits, 1.3), kDraws), 24.3);
}

TEST(Sampling, TemperatureSharpensTheDistribution) {
  const std::vector<float> logits = {1.0f, 0.0f};
  EXPECT_GT(histogram(logits, sampled(2.0f), 2000)[1], histogram(logits, sampled(0.25f), 2000)[1]);
}

TEST(Sampling, TopKKeepsTheBestAndBreaksTiesByLowerId) {
  const std::vector<float> logits = {0.5f, 2.0f, 1.0f, 1.0f, -1.0f};
  SampleRow row = sampled(1.0f);
  EXPECT_EQ(histogram(logits, row, 2000).size(), 5u);
  row.params.top_k = 2;  // ids 1 and 2 (2 beats 3 on the tie)
  const auto counts = histogram(logits, row, 2000);
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_TRUE(counts.count(1) && counts.count(2));
  // Among the kept the odds stay the model's: e^2 : e^1.
  EXPECT_NEAR(double(counts.at(2)) / 2000, 1.0 / (1.0 + std::exp(1.0)), 0.03);
  row.params.top_k = 1;
  EXPECT_EQ(histogram(logits, row, 200).size(), 1u);
  row.params.top_k = 100;  // more than the vocabulary: everything
  EXPECT_EQ(histogram(logits, row, 2000).size(), 5u);
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingTheMass) {
  // Probabilities 0.5, 0.3, 0.2 (weights 1, 0.6, 0.4).
  const std::vector<float> logits = {std::log(0.3f), std::log(0.5f), std::log(0.2f)};
  SampleRow row = sampled(1.0f);
  row.params.top_p = 0.45f;
  EXPECT_EQ(histogram(logits, row, 500).size(), 1u);
  row.params.top_p = 0.6f;  // 0.5 < 0.6 <= 0.8: the two best
  const auto two = histogram(logits, row, 4000);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(double(two.at(0)) / 4000, 0.3 / 0.8, 0.03);
  row.params.top_p = 0.9f;
  EXPECT_EQ(histogram(logits, row, 4000).size(), 3u);
  row.params.top_p = 0.0f;  // at least one
  EXPECT_EQ(histogram(logits, row, 200), (std::map<int32_t, int>{{1, 200}}));
}

TEST(Sampling, TypicalKeepsTokensNearTheEntropyEvenWithoutTheBest) {
  // p = 0.4, 0.3, 0.2, 0.1: entropy 1.280 nats; surprisals 0.916, 1.204, 1.609, 2.303, so the
  // typical order is 0.3, 0.2, 0.4, 0.1 (ids 1, 2, 0, 3).
  const std::vector<float> logits = {std::log(0.4f), std::log(0.3f), std::log(0.2f),
                                     std::log(0.1f)};
  SampleRow row = sampled(1.0f);
  row.params.typical_p = 0.25f;
  EXPECT_EQ(histogram(logits, row, 300), (std::map<int32_t, int>{{1, 300}}));
  row.params.typical_p = 0.45f;  // 0.3 < 0.45 <= 0.5: ids 1 and 2, the best one dropped
  const auto kept = histogram(logits, row, 4000);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NEAR(double(kept.at(1)) / 4000, 0.6, 0.03);
  row.params.typical_p = 0.75f;  // 0.5 < 0.75 <= 0.9: ids 1, 2 and 0
  const auto three = histogram(logits, row, 4000);
  EXPECT_EQ(three.size(), 3u);
  EXPECT_EQ(three.count(3), 0u);
}

TEST(Sampling, CutsApplyInOrderTopKThenTopPThenTypical) {
  // top_k = 3 leaves 0.4, 0.3, 0.2 (renormalised 4/9, 3/9, 2/9); top_p = 0.7 keeps the first
  // two (4/9 < 0.7 <= 7/9); typical over those two (4/7, 3/7) puts the likelier first, and
  // typical_p = 0.5 keeps only it.
  const std::vector<float> logits = {std::log(0.1f), std::log(0.2f), std::log(0.3f),
                                     std::log(0.4f)};
  SampleRow row = sampled(1.0f);
  row.params.top_k = 3;
  row.params.top_p = 0.7f;
  const auto two = histogram(logits, row, 2000);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_TRUE(two.count(3) && two.count(2));
  row.params.typical_p = 0.5f;
  EXPECT_EQ(histogram(logits, row, 300), (std::map<int32_t, int>{{3, 300}}));
  // Typical alone over 4/9, 3/9, 2/9: the middle one is the most typical.
  row.params.top_p = 1.0f;
  row.params.typical_p = 0.3f;
  EXPECT_EQ(histogram(logits, row, 300), (std::map<int32_t, int>{{2, 300}}));
}

TEST(Sampling, ForcedTokenIsReportedWithTheRawLogprob) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  SampleRow row = sampled(0.7f);
  row.forced_id = 0;
  row.top_logprobs = 2;
  row.params.repetition_penalty = 5.0f;
  for (uint64_t i = 0; i < 20; ++i) {
    row.draw_index = i;
    const TokenLogprob t = sample_row(logits.data(), 3, row);
    EXPECT_EQ(t.id, 0);
    EXPECT_NEAR(t.logprob, 1.0 - std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
    ASSERT_EQ(t.top.size(), 2u);
    EXPECT_EQ(t.top[0].first, 2);
  }
  row.forced_id = 3;
  EXPECT_THROW(sample_row(logits.data(), 3, row), Error);
}

TEST(Sampling, LogprobsAreTheRawDistributionWhateverChoseTheToken) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 0.5f};
  const std::vector<int32_t> history = {2};
  SampleRow row = sampled(3.0f);
  row.params.repetition_penalty = 1.7f;
  row.history = history;
  std::vector<float> lp;
  log_softmax(logits.data(), 4, lp);
  for (uint64_t i = 0; i < 50; ++i) {
    row.draw_index = i;
    const TokenLogprob t = sample_row(logits.data(), 4, row);
    EXPECT_EQ(t.logprob, lp[size_t(t.id)]);
  }
  double sum = 0.0;
  for (float v : lp) sum += std::exp(double(v));
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(Sampling, TopLogprobsAreBestFirstWithTiesByLowerId) {
  const std::vector<float> logits = {1.0f, 3.0f, NAN, 3.0f, 2.0f, -1.0f};
  SampleRow row;
  row.top_logprobs = 4;
  const TokenLogprob t = sample_row(logits.data(), 6, row);
  ASSERT_EQ(t.top.size(), 4u);
  EXPECT_EQ(t.top[0].first, 1);
  EXPECT_EQ(t.top[1].first, 3);
  EXPECT_EQ(t.top[2].first, 4);
  EXPECT_EQ(t.top[3].first, 0);
  // (A NaN logit makes the whole log-softmax NaN, as it always has: the values say so.)
  EXPECT_TRUE(std::isnan(t.top[0].second));
  row.top_logprobs = kMaxTopLogprobs;  // more than the vocabulary: all of it, NaN last
  const TokenLogprob all = sample_row(logits.data(), 6, row);
  ASSERT_EQ(all.top.size(), 6u);
  EXPECT_EQ(all.top[4].first, 5);
  EXPECT_EQ(all.top[5].first, 2);
  const std::vector<float> clean = {1.0f, 3.0f, 3.0f, 2.0f};
  row.top_logprobs = 3;
  const TokenLogprob c = sample_row(clean.data(), 4, row);
  ASSERT_EQ(c.top.size(), 3u);
  EXPECT_EQ(c.top[0], std::make_pair(1, c.top[1].second));
  EXPECT_EQ(c.top[1].first, 2);
  EXPECT_GT(c.top[1].second, c.top[2].second);
  EXPECT_NEAR(c.top[2].second, 2.0 - std::log(std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0)),
              1e-6);
  row.top_logprobs = kMaxTopLogprobs + 1;
  EXPECT_THROW(sample_row(logits.data(), 6, row), Error);
}

std::vector<float> random_logits(int64_t vocab, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(static_cast<size_t>(vocab));
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(Sampling, ADrawDependsOnlyOnItsRowSeedAndIndex) {
  std::mt19937 rng(5);
  constexpr int kRows = 6;
  constexpr int64_t kVocab = 3000;
  std::vector<std::vector<float>> batch;
  std::vector<SampleRow> rows;
  for (int r = 0; r < kRows; ++r) {
    batch.push_back(random_logits(kVocab, rng));
    SampleRow row = sampled(1.0f + 0.1f * float(r), 1000 + uint64_t(r % 3));
    row.draw_index = uint64_t(r);
    row.params.top_k = r % 2 ? 50 : 0;
    row.params.top_p = r % 3 ? 0.9f : 1.0f;
    rows.push_back(row);
  }
  std::vector<int32_t> alone;
  for (int r = 0; r < kRows; ++r)
    alone.push_back(sample_row(batch[size_t(r)].data(), kVocab, rows[size_t(r)]).id);
  // Again, in reverse order and interleaved with unrelated rows: the same tokens.
  for (int r = kRows - 1; r >= 0; --r) {
    const std::vector<float> other = random_logits(kVocab, rng);
    sample_row(other.data(), kVocab, sampled(0.9f, 1000));
    EXPECT_EQ(sample_row(batch[size_t(r)].data(), kVocab, rows[size_t(r)]).id, alone[size_t(r)]);
  }
  // The index is what varies a seeded row's draws.
  SampleRow a = rows[0];
  std::map<int32_t, int> seen;
  for (uint64_t i = 0; i < 40; ++i) {
    a.draw_index = i;
    ++seen[sample_row(batch[0].data(), kVocab, a).id];
  }
  EXPECT_GT(seen.size(), 5u);
}

TEST(Sampling, LargeVocabularyWithEveryParameter) {
  std::mt19937 rng(11);
  const std::vector<float> logits = random_logits(32000, rng);
  std::vector<float> lp;
  log_softmax(logits.data(), 32000, lp);
  const std::vector<int32_t> history = {5, 17, 17, 31999, 400};
  SampleRow row = sampled(0.8f, 77);
  row.params.top_k = 40;
  row.params.top_p = 0.95f;
  row.params.typical_p = 0.9f;
  row.params.repetition_penalty = 1.2f;
  row.params.frequency_penalty = 0.3f;
  row.params.presence_penalty = 0.2f;
  row.history = history;
  row.prompt_len = 2;
  row.top_logprobs = 20;
  const std::vector<std::pair<int32_t, float>> best = top_logprobs(lp, 20);
  std::map<int32_t, int> seen;
  for (uint64_t i = 0; i < 200; ++i) {
    row.draw_index = i;
    const TokenLogprob t = sample_row(logits.data(), 32000, row);
    EXPECT_EQ(t.logprob, lp[size_t(t.id)]);
    EXPECT_EQ(t.top, best);
    ++seen[t.id];
    EXPECT_EQ(sample_row(logits.data(), 32000, row).id, t.id);  // replayable
  }
  EXPECT_GT(seen.size(), 3u);
  EXPECT_LE(seen.size(), 40u);
}

// ---- Allowed-token masks (structured output) -------------------------------------------------

std::vector<uint32_t> mask_of(int64_t vocab, const std::vector<int32_t>& ids) {
  std::vector<uint32_t> bits(size_t((vocab + 31) / 32), 0u);
  for (int32_t id : ids) bits[size_t(id / 32)] |= 1u << (id % 32);
  return bits;
}

TEST(SamplingMask, GreedyAndSampledRowsChooseOnlyAllowedTokens) {
  std::mt19937 rng(11);
  constexpr int64_t kVocab = 1000;
  const std::vector<float> logits = random_logits(kVocab, rng);
  const std::vector<int32_t> ids = {3, 64, 65, 511, 999};
  const std::vector<uint32_t> bits = mask_of(kVocab, ids);
  SampleRow row;
  row.allowed = bits;
  int32_t best = ids[0];
  for (int32_t id : ids)
    if (logits[size_t(id)] > logits[size_t(best)]) best = id;
  EXPECT_EQ(pick(logits, row), best);
  row.params.temperature = 1.5f;
  row.params.top_k = 3;
  row.params.top_p = 0.9f;
  row.params.repetition_penalty = 1.3f;
  const std::vector<int32_t> history = {best, 64};
  row.history = history;
  std::map<int32_t, int> counts;
  for (uint64_t i = 0; i < 300; ++i) {
    row.draw_index = i;
    const int32_t id = pick(logits, row);
    EXPECT_TRUE(token_allowed(bits, id)) << id;
    ++counts[id];
  }
  EXPECT_GT(counts.size(), 1u);  // the draw still spreads over the allowed tokens
}

TEST(SamplingMask, LogprobsAreTheMaskedDistributionAndAlternativesAreAllowedOnly) {
  const std::vector<float> logits = {5.0f, 1.0f, 4.0f, 2.0f, 3.0f};
  const std::vector<uint32_t> bits = mask_of(5, {1, 3});
  SampleRow row = sampled(1.0f, 3);
  row.allowed = bits;
  row.top_logprobs = 4;  // more than are allowed: only the allowed come back
  const double norm = std::log(std::exp(1.0) + std::exp(2.0));
  for (uint64_t i = 0; i < 20; ++i) {
    row.draw_index = i;
    const TokenLogprob t = sample_row(logits.data(), 5, row);
    ASSERT_TRUE(t.id == 1 || t.id == 3) << t.id;
    EXPECT_NEAR(t.logprob, logits[size_t(t.id)] - norm, 1e-6);
    ASSERT_EQ(t.top.size(), 2u);
    EXPECT_EQ(t.top[0].first, 3);
    EXPECT_EQ(t.top[1].first, 1);
    EXPECT_NEAR(t.top[0].second, 2.0 - norm, 1e-6);
  }
}

TEST(SamplingMask, IdsPastTheMaskAreDisallowedAndForcedRowsIgnoreIt) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f, 9.0f};
  const std::vector<uint32_t> short_mask = {0b0101u};  // ids 0 and 2 of a mask shorter than vocab
  SampleRow row;
  row.allowed = short_mask;
  EXPECT_EQ(pick(logits, row), 2);
  EXPECT_FALSE(token_allowed(short_mask, 40));
  row.forced_id = 4;
  const TokenLogprob t = sample_row(logits.data(), 5, row);
  EXPECT_EQ(t.id, 4);
  std::vector<float> lp;
  log_softmax(logits.data(), 5, lp);
  EXPECT_EQ(t.logprob, lp[4]);  // the raw distribution, as every forced row
}

TEST(SamplingMask, AnAllOnesMaskChangesNothing) {
  std::mt19937 rng(2);
  const std::vector<float> logits = random_logits(300, rng);
  const std::vector<uint32_t> all(10, 0xffffffffu);
  SampleRow plain = sampled(0.9f, 5);
  plain.params.top_p = 0.8f;
  plain.top_logprobs = 5;
  SampleRow masked = plain;
  masked.allowed = all;
  for (uint64_t i = 0; i < 30; ++i) {
    plain.draw_index = masked.draw_index = i;
    const TokenLogprob a = sample_row(logits.data(), 300, plain);
    const TokenLogprob b = sample_row(logits.data(), 300, masked);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.logprob, b.logprob);
    EXPECT_EQ(a.top, b.top);
  }
}

}  // namespace
}  // namespace lorax
