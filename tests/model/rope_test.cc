// Rotary inverse frequencies of every scaling type against transformers' formulas, written out
// here independently (fixtures cover default, linear and llama3 end to end; these cover the rest).
#include "model/rope.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lorax {
namespace {

ModelConfig config_with(RopeScaling::Type type, double factor) {
  ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 10, c.hidden_size = 128, c.intermediate_size = 64, c.num_layers = 1;
  c.num_heads = 2, c.num_kv_heads = 2, c.head_dim = 64, c.max_position_embeddings = 4096;
  c.rope_theta = 10000.0;
  c.rope.type = type;
  c.rope.factor = factor;
  c.rope.original_max_position_embeddings = 1024;
  return c;
}

double base_freq(double theta, int64_t i, int64_t dim) {
  return 1.0 / std::pow(theta, double(2 * i) / double(dim));
}

TEST(Rope, DefaultAndLinear) {
  const auto def = rope_frequencies(config_with(RopeScaling::Type::Default, 1.0));
  const auto lin = rope_frequencies(config_with(RopeScaling::Type::Linear, 4.0));
  ASSERT_EQ(def.inv_freq.size(), 32u);
  for (int64_t i = 0; i < 32; ++i) {
    EXPECT_DOUBLE_EQ(def.inv_freq[i], base_freq(10000.0, i, 64));
    EXPECT_DOUBLE_EQ(lin.inv_freq[i], base_freq(10000.0, i, 64) / 4.0);
  }
  EXPECT_EQ(def.attention_scaling, 1.0);
}

TEST(Rope, DynamicNtkGrowsTheBaseOnlyPastTheOriginalContext) {
  const ModelConfig c = config_with(RopeScaling::Type::Dynamic, 2.0);
  const auto short_seq = rope_frequencies(c, 500);
  for (int64_t i = 0; i < 32; ++i) EXPECT_DOUBLE_EQ(short_seq.inv_freq[i], base_freq(1e4, i, 64));
  // transformers: base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
  const double seq_len = 3000;
  const double base = 1e4 * std::pow(2.0 * seq_len / 1024.0 - 1.0, 64.0 / 62.0);
  const auto long_seq = rope_frequencies(c, int64_t(seq_len));
  for (int64_t i = 0; i < 32; ++i) EXPECT_NEAR(long_seq.inv_freq[i], base_freq(base, i, 64), 1e-15);
  EXPECT_LT(long_seq.inv_freq[31], short_seq.inv_freq[31]);
}

TEST(Rope, Llama3BlendsThreeBands) {
  ModelConfig c = config_with(RopeScaling::Type::Llama3, 8.0);
  c.rope_theta = 500000.0;
  c.rope.low_freq_factor = 1.0;
  c.rope.high_freq_factor = 4.0;
  c.rope.original_max_position_embeddings = 8192;
  const auto f = rope_frequencies(c);
  int high = 0, low = 0, medium = 0;
  for (int64_t i = 0; i < 32; ++i) {
    const double orig = base_freq(500000.0, i, 64);
    const double wavelen = 2 * M_PI / orig;
    if (wavelen < 8192.0 / 4.0) {
      EXPECT_DOUBLE_EQ(f.inv_freq[i], orig);
      ++high;
    } else if (wavelen > 8192.0 / 1.0) {
      EXPECT_DOUBLE_EQ(f.inv_freq[i], orig / 8.0);
      ++low;
    } else {
      const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
      EXPECT_NEAR(f.inv_freq[i], (1 - smooth) * orig / 8.0 + smooth * orig, 1e-18);
      ++medium;
    }
  }
  EXPECT_GT(high, 0);
  EXPECT_GT(low, 0);
  EXPECT_GT(medium, 0);
}

TEST(Rope, YarnRampsFromExtrapolationToInterpolation) {
  ModelConfig c = config_with(RopeScaling::Type::Yarn, 4.0);
  c.rope.original_max_position_embeddings = 1024;
  const auto f = rope_frequencies(c);
  // correction range: dim * ln(orig / (rotations * 2 pi)) / (2 ln base), floored/ceiled
  auto correction = [](double rotations) {
    return 64.0 * std::log(1024.0 / (rotations * 2 * M_PI)) / (2 * std::log(1e4));
  };
  const double low = std::max(std::floor(correction(32.0)), 0.0);
  const double high = std::min(std::ceil(correction(1.0)), 63.0);
  for (int64_t i = 0; i < 32; ++i) {
    const double extrapolation = base_freq(1e4, i, 64);
    const double interpolation = extrapolation / 4.0;
    const double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
    const double mix = 1.0 - ramp;  // extrapolation weight
    EXPECT_NEAR(f.inv_freq[i], interpolation * (1 - mix) + extrapolation * mix, 1e-15) << i;
  }
  EXPECT_DOUBLE_EQ(f.inv_freq[0], base_freq(1e4, 0, 64));          // fastest: unchanged
  EXPECT_DOUBLE_EQ(f.inv_freq[31], base_freq(1e4, 31, 64) / 4.0);  // slowest: interpolated
  EXPECT_NEAR(f.attention_scaling, 0.1 * std::log(4.0) + 1.0, 1e-15);
  c.rope.attention_factor = 1.5;
  EXPECT_EQ(rope_frequencies(c).attention_scaling, 1.5);
  c.rope.attention_factor.reset();
  c.rope.mscale = 1.0;
  c.rope.mscale_all_dim = 0.5;
  EXPECT_NEAR(rope_frequencies(c).attention_scaling,
              (0.1 * std::log(4.0) + 1.0) / (0.05 * std::log(4.0) + 1.0), 1e-15);
}

TEST(Rope, TableHoldsScaledCosAndSin) {
  ModelConfig c = config_with(RopeScaling::Type::Yarn, 4.0);
  c.max_position_embeddings = 64;
  const Tensor table = rope_cos_sin_table(c);
  ASSERT_EQ(table.shape(), (Shape{64, 64}));
  const auto f = rope_frequencies(c);
  const float* row = table.data<float>() + 10 * 64;
  EXPECT_NEAR(row[3], std::cos(10 * f.inv_freq[3]) * f.attention_scaling, 1e-6);
  EXPECT_NEAR(row[32 + 3], std::sin(10 * f.inv_freq[3]) * f.attention_scaling, 1e-6);
}

}  // namespace
}  // namespace lorax
