// Element types of tensors and the scalar conversions between them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lorax {

enum class DType : uint8_t { F32, BF16, F16, F8E4M3, F8E5M2, I32, I64, U8 };

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
// Parses names as written by safetensors ("F32", "BF16", ...) and by users ("f32", "bf16", "fp8").
// Throws lorax::Error naming the unknown type.
DType parse_dtype(std::string_view name);
bool is_float(DType dtype);

// bf16 is the upper half of an f32: widening is exact, narrowing rounds to nearest even.
inline float bf16_to_f32(uint16_t bits) {
  uint32_t word = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

inline uint16_t f32_to_bf16(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  if ((word & 0x7fffffffu) > 0x7f800000u) return uint16_t((word >> 16) | 0x40);  // quiet NaN
  word += 0x7fffu + ((word >> 16) & 1u);
  return uint16_t(word >> 16);
}

float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);

// FP8 E4M3 ("e4m3fn": no infinities, max 448, NaN = S.1111.111), as used for KV caches.
// Narrowing saturates to +-448 and rounds to nearest even.
float f8e4m3_to_f32(uint8_t bits);
uint8_t f32_to_f8e4m3(float value);
// FP8 E5M2 (IEEE-like, with infinities); narrowing rounds to nearest even and saturates.
float f8e5m2_to_f32(uint8_t bits);
uint8_t f32_to_f8e5m2(float value);

}  // namespace lorax
