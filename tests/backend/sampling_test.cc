// The counter-based RNG of the sampling op (core/philox.h).
#include <gtest/gtest.h>

#include "core/philox.h"

namespace lorax {
namespace {

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

}  // namespace
}  // namespace lorax
