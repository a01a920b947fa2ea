#include "backend/cpu/linear.h"

#include <algorithm>

#include "core/error.h"

namespace lorax::cpu {

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

namespace {

template <typename Load>
void linear_block_generic(const float* x, int64_t K, Load load_w, float* y, int64_t N, int64_t m0,
                          int64_t m1, int64_t n0, int64_t n1) {
  for (int64_t m = m0; m < m1; ++m)
    for (int64_t n = n0; n < n1; ++n) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc += x[m * K + k] * load_w(n * K + k);
      y[m * N + n] = acc;
    }
}

void linear_block_portable(const float* x, int64_t K, const void* w, DType dtype, float* y,
                           int64_t N, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  switch (dtype) {
    case DType::F32: {
      const auto* p = static_cast<const float*>(w);
      linear_block_generic(
          x, K, [p](int64_t i) { return p[i]; }, y, N, m0, m1, n0, n1);
      return;
    }
    case DType::BF16: {
      const auto* p = static_cast<const uint16_t*>(w);
      linear_block_generic(
          x, K, [p](int64_t i) { return bf16_to_f32(p[i]); }, y, N, m0, m1, n0, n1);
      return;
    }
    case DType::F16: {
      const auto* p = static_cast<const uint16_t*>(w);
      linear_block_generic(
          x, K, [p](int64_t i) { return f16_to_f32(p[i]); }, y, N, m0, m1, n0, n1);
      return;
    }
    default:
      fail("linear: unsupported weight dtype ", dtype_name(dtype));
  }
}

}  // namespace

void linear(ThreadPool& pool, const Tensor& x, const Tensor& w, Tensor& y) {
  const int64_t K = x.dim(-1);
  const int64_t M = x.numel() / std::max<int64_t>(K, 1);
  const int64_t N = w.dim(0);
  LORAX_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::F32, "linear: x and y must be f32");
  LORAX_CHECK(w.ndim() == 2 && w.dim(1) == K, "linear: weight ", w.describe(),
              " does not match input ", x.describe());
  LORAX_CHECK(y.numel() == M * N, "linear: output ", y.describe(), " is not [", M, ", ", N, "]");
  if (M == 0 || N == 0) return;
  static const bool avx512 = cpu_has_avx512();  // a property of the processor, computed once

  // Split the output columns (weight rows) across threads: each weight byte is read once per
  // call, and every thread streams a disjoint part of the weights.
  const int64_t threads = pool.size();
  int64_t chunk = std::max<int64_t>(16, (N + threads * 4 - 1) / (threads * 4));
  chunk = (chunk + 15) / 16 * 16;
  const int64_t tasks = (N + chunk - 1) / chunk;
  // Long activations are walked in slabs of rows so a slab of x stays in cache for a chunk of w.
  const int64_t m_slab = 64;
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  pool.parallel_for(tasks, [&](int64_t task) {
    const int64_t n0 = task * chunk;
    const int64_t n1 = std::min(N, n0 + chunk);
    for (int64_t m0 = 0; m0 < M; m0 += m_slab) {
      const int64_t m1 = std::min(M, m0 + m_slab);
      if (!avx512 || !linear_avx512_block(xp, K, w.raw(), w.dtype(), yp, N, m0, m1, n0, n1))
        linear_block_portable(xp, K, w.raw(), w.dtype(), yp, N, m0, m1, n0, n1);
    }
  });
}

}  // namespace lorax::cpu
