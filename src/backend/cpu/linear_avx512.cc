// AVX-512 micro-kernels for cpu::linear. This file alone is compiled with AVX-512 enabled and is
// only entered after a run-time check, so the binary still runs on processors without it.
#include <immintrin.h>

#include "backend/cpu/linear.h"

namespace lorax::cpu {

namespace {

struct F32Weights {
  using T = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load_masked(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};

struct BF16Weights {  // bf16 -> f32 is a 16-bit shift: exact
  using T = uint16_t;
  static __m512 load(const uint16_t* p) {
    __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
  }
  static __m512 load_masked(const uint16_t* p, __mmask16 m) {
    __m256i half = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
  }
};

struct F16Weights {
  using T = uint16_t;
  static __m512 load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load_masked(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};

// MR rows of x times NR rows of w, reduced over all of K. Each (m, n) accumulator sees the same
// sequence of operations whatever MR and NR are: the result does not depend on the tiling.
template <int MR, int NR, typename W>
inline void tile(const float* x, int64_t K, const typename W::T* w, float* y, int64_t N) {
  __m512 acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 wv[NR];
    for (int n = 0; n < NR; ++n) wv[n] = W::load(w + n * K + k);
    for (int m = 0; m < MR; ++m) {
      const __m512 xv = _mm512_loadu_ps(x + m * K + k);
      for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_fmadd_ps(xv, wv[n], acc[m][n]);
    }
  }
  if (k < K) {
    const __mmask16 mask = __mmask16((1u << (K - k)) - 1);
    __m512 wv[NR];
    for (int n = 0; n < NR; ++n) wv[n] = W::load_masked(w + n * K + k, mask);
    for (int m = 0; m < MR; ++m) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + m * K + k);
      for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_fmadd_ps(xv, wv[n], acc[m][n]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) y[m * N + n] = _mm512_reduce_add_ps(acc[m][n]);
}

template <int NR, typename W>
inline void rows_times_tile(const float* x, int64_t K, const typename W::T* w, float* y, int64_t N,
                            int64_t m0, int64_t m1) {
  int64_t m = m0;
  for (; m + 4 <= m1; m += 4) tile<4, NR, W>(x + m * K, K, w, y + m * N, N);
  switch (m1 - m) {
    case 3:
      tile<3, NR, W>(x + m * K, K, w, y + m * N, N);
      break;
    case 2:
      tile<2, NR, W>(x + m * K, K, w, y + m * N, N);
      break;
    case 1:
      tile<1, NR, W>(x + m * K, K, w, y + m * N, N);
      break;
    default:
      break;
  }
}

template <typename W>
void block(const float* x, int64_t K, const typename W::T* w, float* y, int64_t N, int64_t m0,
           int64_t m1, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) rows_times_tile<4, W>(x, K, w + n * K, y + n, N, m0, m1);
  for (; n < n1; ++n) rows_times_tile<1, W>(x, K, w + n * K, y + n, N, m0, m1);
}

}  // namespace

bool linear_avx512_block(const float* x, int64_t K, const void* w, DType w_dtype, float* y,
                         int64_t N, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  switch (w_dtype) {
    case DType::F32:
      block<F32Weights>(x, K, static_cast<const float*>(w), y, N, m0, m1, n0, n1);
      return true;
    case DType::BF16:
      block<BF16Weights>(x, K, static_cast<const uint16_t*>(w), y, N, m0, m1, n0, n1);
      return true;
    case DType::F16:
      block<F16Weights>(x, K, static_cast<const uint16_t*>(w), y, N, m0, m1, n0, n1);
      return true;
    default:
      return false;
  }
}

}  // namespace lorax::cpu
