#include "core/dtype.h"

#include <cmath>

#include "core/error.h"

namespace lorax {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return 4;
    case DType::BF16:
      return 2;
    case DType::F16:
      return 2;
    case DType::F8E4M3:
      return 1;
    case DType::F8E5M2:
      return 1;
    case DType::I32:
      return 4;
    case DType::I64:
      return 8;
    case DType::U8:
      return 1;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "f32";
    case DType::BF16:
      return "bf16";
    case DType::F16:
      return "f16";
    case DType::F8E4M3:
      return "fp8_e4m3";
    case DType::F8E5M2:
      return "fp8_e5m2";
    case DType::I32:
      return "i32";
    case DType::I64:
      return "i64";
    case DType::U8:
      return "u8";
  }
  return "?";
}

DType parse_dtype(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "f32" || lower == "float32" || lower == "float") return DType::F32;
  if (lower == "bf16" || lower == "bfloat16") return DType::BF16;
  if (lower == "f16" || lower == "float16" || lower == "half") return DType::F16;
  if (lower == "f8_e4m3" || lower == "fp8_e4m3" || lower == "fp8" || lower == "float8_e4m3fn")
    return DType::F8E4M3;
  if (lower == "f8_e5m2" || lower == "fp8_e5m2" || lower == "float8_e5m2") return DType::F8E5M2;
  if (lower == "i32" || lower == "int32") return DType::I32;
  if (lower == "i64" || lower == "int64") return DType::I64;
  if (lower == "u8" || lower == "uint8") return DType::U8;
  fail("unknown dtype '", name, "'");
}

bool is_float(DType dtype) {
  return dtype == DType::F32 || dtype == DType::BF16 || dtype == DType::F16 ||
         dtype == DType::F8E4M3 || dtype == DType::F8E5M2;
}

namespace {

// Decodes a small float with `exp_bits` exponent and `man_bits` mantissa bits, IEEE-style bias.
float decode_minifloat(uint32_t bits, int exp_bits, int man_bits) {
  const uint32_t sign = bits >> (exp_bits + man_bits);
  const uint32_t exp = (bits >> man_bits) & ((1u << exp_bits) - 1);
  const uint32_t man = bits & ((1u << man_bits) - 1);
  const int bias = (1 << (exp_bits - 1)) - 1;
  float magnitude;
  if (exp == 0) {
    magnitude = std::ldexp(float(man), 1 - bias - man_bits);
  } else {
    magnitude = std::ldexp(float(man | (1u << man_bits)), int(exp) - bias - man_bits);
  }
  return sign ? -magnitude : magnitude;
}

// Rounds |value| to the nearest representable minifloat (ties to even) and returns its bits
// without sign; values past `max_bits` saturate to it.
uint32_t encode_minifloat_magnitude(float magnitude, int exp_bits, int man_bits,
                                    uint32_t max_bits) {
  const int bias = (1 << (exp_bits - 1)) - 1;
  const float max_value = decode_minifloat(max_bits, exp_bits, man_bits);
  if (magnitude >= max_value) return max_bits;
  int exponent;
  std::frexp(magnitude, &exponent);  // magnitude = f * 2^exponent, f in [0.5, 1)
  int unbiased = exponent - 1;
  const int min_normal = 1 - bias;
  if (unbiased < min_normal) unbiased = min_normal;  // subnormal range shares the min exponent
  // Scale so one unit in the last place is 1, then round to nearest even.
  const float scaled = std::ldexp(magnitude, man_bits - unbiased);
  float rounded = std::nearbyint(scaled);  // default rounding mode: nearest even
  uint32_t mantissa = uint32_t(rounded);
  int biased = unbiased + bias;
  if (mantissa >= (2u << man_bits)) {  // rounding overflowed into the next binade
    mantissa >>= 1;
    ++biased;
  }
  if (mantissa < (1u << man_bits)) return mantissa;  // subnormal (biased exponent 0)
  uint32_t bits = (uint32_t(biased) << man_bits) | (mantissa & ((1u << man_bits) - 1));
  return bits > max_bits ? max_bits : bits;
}

}  // namespace

float f16_to_f32(uint16_t bits) {
  const uint32_t exp = (bits >> 10) & 0x1f;
  if (exp == 0x1f) {
    const bool nan = (bits & 0x3ff) != 0;
    const float inf = INFINITY;
    return nan ? NAN : ((bits & 0x8000) ? -inf : inf);
  }
  return decode_minifloat(bits, 5, 10);
}

uint16_t f32_to_f16(float value) {
  const uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  if (std::isnan(value)) return 0x7e00;
  const float magnitude = std::fabs(value);
  if (magnitude >= 65520.0f) return sign | 0x7c00;  // rounds to infinity
  return sign | uint16_t(encode_minifloat_magnitude(magnitude, 5, 10, 0x7bff));
}

float f8e4m3_to_f32(uint8_t bits) {
  if ((bits & 0x7f) == 0x7f) return NAN;
  return decode_minifloat(bits, 4, 3);
}

uint8_t f32_to_f8e4m3(float value) {
  if (std::isnan(value)) return 0x7f;
  const uint8_t sign = std::signbit(value) ? 0x80 : 0;
  return sign | uint8_t(encode_minifloat_magnitude(std::fabs(value), 4, 3, 0x7e));
}

float f8e5m2_to_f32(uint8_t bits) {
  const uint32_t exp = (bits >> 2) & 0x1f;
  if (exp == 0x1f) {
    if (bits & 0x3) return NAN;
    return (bits & 0x80) ? -INFINITY : INFINITY;
  }
  return decode_minifloat(bits, 5, 2);
}

uint8_t f32_to_f8e5m2(float value) {
  if (std::isnan(value)) return 0x7f;
  const uint8_t sign = std::signbit(value) ? 0x80 : 0;
  return sign | uint8_t(encode_minifloat_magnitude(std::fabs(value), 5, 2, 0x7b));
}

}  // namespace lorax
