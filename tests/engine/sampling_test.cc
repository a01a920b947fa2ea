#include "engine/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace lorax {
namespace {

TEST(Sampling, GreedyTakesTheLowestIdOnTies) {
  std::mt19937_64 rng(0);
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(sample_token(logits.data(), 4, SamplingParams{}, rng), 1);
}

TEST(Sampling, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  std::mt19937_64 rng(0);
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  // token 0 (logit 3, seen) becomes 1.5 < token 1's 2: greedy switches to 1
  const std::vector<float> logits = {3.0f, 2.0f, -1.0f};
  EXPECT_EQ(sample_token(logits.data(), 3, p, rng, {0}, 1), 1);
  // a seen negative logit gets more negative: token 2 never wins
  const std::vector<float> close = {-1.0f, -1.5f, -0.9f};
  EXPECT_EQ(sample_token(close.data(), 3, p, rng, {2}, 1), 0);
}

TEST(Sampling, FrequencyAndPresencePenaltiesCountGeneratedTokensOnly) {
  std::mt19937_64 rng(0);
  SamplingParams p;
  p.frequency_penalty = 0.6f;
  const std::vector<float> logits = {2.0f, 1.0f};
  // token 0 in the prompt only: no penalty
  EXPECT_EQ(sample_token(logits.data(), 2, p, rng, {0, 0}, 2), 0);
  // generated twice: 2 - 1.2 = 0.8 < 1
  EXPECT_EQ(sample_token(logits.data(), 2, p, rng, {1, 0, 0}, 1), 1);
  SamplingParams presence;
  presence.presence_penalty = 1.5f;
  EXPECT_EQ(sample_token(logits.data(), 2, presence, rng, {0}, 0), 1);
}

std::map<int32_t, int> histogram(const std::vector<float>& logits, const SamplingParams& p) {
  std::mt19937_64 rng(p.seed);
  std::map<int32_t, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[sample_token(logits.data(), int64_t(logits.size()), p, rng)];
  return counts;
}

TEST(Sampling, TopKTopPAndTypicalCutTheCandidates) {
  const std::vector<float> logits = {2.0f, 1.9f, 1.0f, 0.0f, -1.0f};
  SamplingParams p;
  p.temperature = 1.0f;
  EXPECT_EQ(histogram(logits, p).size(), 5u);
  p.top_k = 2;
  const auto k = histogram(logits, p);
  EXPECT_EQ(k.size(), 2u);
  EXPECT_TRUE(k.count(0) && k.count(1));
  p.top_k = 0;
  p.top_p = 0.5f;  // the two best hold ~0.6 of the mass
  EXPECT_EQ(histogram(logits, p).size(), 2u);
  p.top_p = 1.0f;
  p.typical_p = 0.2f;
  EXPECT_LE(histogram(logits, p).size(), 2u);
}

TEST(Sampling, TemperatureSharpensTheDistribution) {
  const std::vector<float> logits = {1.0f, 0.0f};
  SamplingParams hot, cold;
  hot.temperature = 2.0f;
  cold.temperature = 0.25f;
  EXPECT_GT(histogram(logits, hot)[1], histogram(logits, cold)[1]);
}

TEST(Sampling, LogprobsAreTheRawDistribution) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  const TokenLogprob t = describe_token(logits.data(), 3, 0, 2);
  const double norm = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(t.logprob, 1.0 - norm, 1e-6);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].first, 2);
  EXPECT_EQ(t.top[1].first, 1);
}

}  // namespace
}  // namespace lorax
