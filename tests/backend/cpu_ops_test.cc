// CPU ops against straightforward float64 loops on random inputs at several sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/linear.h"

namespace lorax {
namespace {

Tensor random_f32(const Shape& shape, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t = Tensor::empty(shape, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor convert(const Tensor& t, DType dtype) {
  if (dtype == DType::F32) return t;
  Tensor out = Tensor::empty(t.shape(), dtype);
  for (int64_t i = 0; i < t.numel(); ++i)
    out.data<uint16_t>()[i] =
        dtype == DType::BF16 ? f32_to_bf16(t.data<float>()[i]) : f32_to_f16(t.data<float>()[i]);
  return out;
}

float widen(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::BF16:
      return bf16_to_f32(t.data<uint16_t>()[i]);
    case DType::F16:
      return f16_to_f32(t.data<uint16_t>()[i]);
    default:
      return t.data<float>()[i];
  }
}

TEST(CpuLinear, MatchesFloat64AcrossShapesAndDtypes) {
  std::mt19937 rng(1);
  CpuBackend backend(2);
  for (DType dtype : {DType::F32, DType::BF16, DType::F16})
    for (auto [M, N, K] : {std::tuple{1, 1, 1},
                           {1, 37, 15},
                           {3, 64, 64},
                           {5, 130, 33},
                           {17, 67, 257},
                           {70, 20, 100}}) {
      const Tensor x = random_f32({M, K}, rng);
      const Tensor w = convert(random_f32({N, K}, rng), dtype);
      Tensor y = Tensor::empty({M, N}, DType::F32);
      backend.linear(x, w, y);
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          double ref = 0;
          for (int k = 0; k < K; ++k)
            ref += double(x.data<float>()[m * K + k]) * widen(w, n * K + k);
          ASSERT_NEAR(y.data<float>()[m * N + n], ref, 1e-5 * std::sqrt(double(K)) + 1e-6)
              << dtype_name(dtype) << " " << M << "x" << N << "x" << K;
        }
    }
}

TEST(CpuLinear, RowResultsDoNotDependOnBatchSize) {
  std::mt19937 rng(2);
  CpuBackend backend(2);
  const Tensor x = random_f32({9, 300}, rng);
  const Tensor w = convert(random_f32({50, 300}, rng), DType::BF16);
  Tensor all = Tensor::empty({9, 50}, DType::F32);
  backend.linear(x, w, all);
  for (int m = 0; m < 9; ++m) {
    Tensor one = Tensor::empty({1, 50}, DType::F32);
    backend.linear(x.rows(m, m + 1), w, one);
    for (int n = 0; n < 50; ++n) ASSERT_EQ(one.data<float>()[n], all.data<float>()[m * 50 + n]);
  }
}

TEST(CpuOps, RmsNormWithAndWithoutGemmaOffset) {
  std::mt19937 rng(3);
  CpuBackend backend(2);
  const Tensor x = random_f32({4, 33}, rng);
  const Tensor w = random_f32({33}, rng);
  for (float offset : {0.0f, 1.0f}) {
    Tensor out = Tensor::empty({4, 33}, DType::F32);
    backend.rms_norm(x, w, 1e-6f, offset, out);
    for (int r = 0; r < 4; ++r) {
      double ss = 0;
      for (int i = 0; i < 33; ++i)
        ss += double(x.data<float>()[r * 33 + i]) * x.data<float>()[r * 33 + i];
      const double inv = 1.0 / std::sqrt(ss / 33 + 1e-6);
      for (int i = 0; i < 33; ++i)
        EXPECT_NEAR(out.data<float>()[r * 33 + i],
                    x.data<float>()[r * 33 + i] * inv * (offset + w.data<float>()[i]), 1e-5);
    }
  }
}

TEST(CpuOps, PagedAttentionMatchesPrefillAttentionOnTheLastToken) {
  std::mt19937 rng(4);
  CpuBackend backend(2);
  const HeadLayout heads{4, 2, 8};
  const int64_t len = 21, block = 4;
  const Tensor qkv = random_f32({len, heads.qkv_width()}, rng);
  Tensor prefill_out = Tensor::empty({len, heads.q_width()}, DType::F32);
  Tensor cu = backend.upload_i32({0, int32_t(len)});
  backend.prefill_attention(qkv, cu, heads, 0.35f, prefill_out);
  KvCacheLayer cache{Tensor::zeros({8, block, 2, 8}, DType::F32),
                     Tensor::zeros({8, block, 2, 8}, DType::F32)};
  // scattered, out-of-order blocks
  const std::vector<int32_t> table = {6, 2, 7, 0, 5, 1};
  std::vector<int32_t> slots;
  for (int64_t p = 0; p < len; ++p) slots.push_back(table[p / block] * block + int32_t(p % block));
  backend.kv_write(qkv, backend.upload_i32(slots), heads, cache);
  Tensor decode_out = Tensor::empty({1, heads.q_width()}, DType::F32);
  const Tensor last = qkv.rows(len - 1, len).clone();
  backend.paged_attention(last, cache, backend.upload_i32(table).reshape({1, 6}),
                          backend.upload_i32({int32_t(len)}), heads, 0.35f, decode_out);
  for (int64_t i = 0; i < heads.q_width(); ++i)
    EXPECT_NEAR(decode_out.data<float>()[i],
                prefill_out.data<float>()[(len - 1) * heads.q_width() + i], 1e-5);
}

}  // namespace
}  // namespace lorax
