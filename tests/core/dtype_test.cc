#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace lorax {
namespace {

TEST(Bf16, WideningIsExactAndNarrowingRoundsToNearestEven) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3 * 2^-8 is halfway too; the even neighbour is 1 + 2^-6.
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  for (uint32_t bits = 0; bits < 0x10000; bits += 7) {
    const float v = bf16_to_f32(uint16_t(bits));
    if (std::isnan(v)) continue;
    EXPECT_EQ(f32_to_bf16(v), bits);
  }
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(F16, RoundTripsEveryFiniteValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const float v = f16_to_f32(uint16_t(bits));
    if (std::isnan(v)) continue;
    ASSERT_EQ(f32_to_f16(v), bits) << bits;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);  // overflows to infinity
}

TEST(Fp8E4M3, KnownEncodings) {
  EXPECT_EQ(f32_to_f8e4m3(1.0f), 0x38);
  EXPECT_EQ(f32_to_f8e4m3(0.5f), 0x30);
  EXPECT_EQ(f32_to_f8e4m3(448.0f), 0x7e);
  EXPECT_EQ(f32_to_f8e4m3(-448.0f), 0xfe);
  EXPECT_EQ(f32_to_f8e4m3(1e6f), 0x7e);                  // saturates, never NaN
  EXPECT_EQ(f32_to_f8e4m3(std::ldexp(1.0f, -9)), 0x01);  // smallest subnormal
  EXPECT_EQ(f32_to_f8e4m3(0.0f), 0x00);
  EXPECT_FLOAT_EQ(f8e4m3_to_f32(0x38), 1.0f);
  EXPECT_FLOAT_EQ(f8e4m3_to_f32(0x7e), 448.0f);
  EXPECT_FLOAT_EQ(f8e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0x7f)));
  // 1.0625 is halfway between 1.0 and 1.125: ties to even mantissa (1.0)
  EXPECT_EQ(f32_to_f8e4m3(1.0625f), 0x38);
  EXPECT_EQ(f32_to_f8e4m3(1.1f), 0x39);
}

TEST(Fp8E4M3, RoundTripsAndRoundsToNearest) {
  for (uint32_t bits = 0; bits < 256; ++bits) {
    const float v = f8e4m3_to_f32(uint8_t(bits));
    if (std::isnan(v)) continue;
    if (v == 0.0f && bits != 0) {  // negative zero
      EXPECT_EQ(f32_to_f8e4m3(v), 0x80);
      continue;
    }
    EXPECT_EQ(f32_to_f8e4m3(v), bits) << bits;
  }
  // Any value lands on one of its two neighbours, the nearer one.
  for (float x = -500.0f; x < 500.0f; x += 0.37f) {
    const float q = f8e4m3_to_f32(f32_to_f8e4m3(x));
    const float clamped = std::clamp(x, -448.0f, 448.0f);
    EXPECT_LE(std::fabs(q - clamped), std::fabs(clamped) * 0.0625f + 1e-3f) << x;
  }
}

TEST(Fp8E5M2, RoundTrips) {
  for (uint32_t bits = 0; bits < 256; ++bits) {
    const float v = f8e5m2_to_f32(uint8_t(bits));
    if (std::isnan(v) || std::isinf(v) || (v == 0.0f && bits != 0)) continue;
    EXPECT_EQ(f32_to_f8e5m2(v), bits) << bits;
  }
}

TEST(DType, ParsesNamesAndRejectsUnknown) {
  EXPECT_EQ(parse_dtype("bfloat16"), DType::BF16);
  EXPECT_EQ(parse_dtype("F32"), DType::F32);
  EXPECT_EQ(parse_dtype("fp8"), DType::F8E4M3);
  EXPECT_THROW(
      {
        try {
          parse_dtype("float128");
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("float128"), std::string::npos);
          throw;
        }
      },
      Error);
}

}  // namespace
}  // namespace lorax
