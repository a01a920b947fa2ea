// CPU ops against straightforward float64 loops on random inputs at several sizes.
#include <gtest/gtest.h>

#include <algorithm>
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

// Causal attention over the paged cache, computed straight from the definition in float64.
std::vector<double> reference_attention(const Tensor& qkv, const HeadLayout& heads, float scale,
                                        int64_t row) {
  const int64_t D = heads.head_dim, width = heads.qkv_width();
  const int64_t group = heads.num_heads / heads.num_kv_heads;
  const float* x = qkv.data<float>();
  std::vector<double> out(size_t(heads.q_width()), 0.0);
  for (int64_t h = 0; h < heads.num_heads; ++h) {
    const int64_t kvh = h / group;
    std::vector<double> scores;
    for (int64_t j = 0; j <= row; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < D; ++d)
        dot += double(x[row * width + h * D + d]) * x[j * width + heads.q_width() + kvh * D + d];
      scores.push_back(dot * scale);
    }
    const double max = *std::max_element(scores.begin(), scores.end());
    double sum = 0;
    for (double& v : scores) sum += (v = std::exp(v - max));
    for (int64_t j = 0; j <= row; ++j)
      for (int64_t d = 0; d < D; ++d)
        out[size_t(h * D + d)] += scores[size_t(j)] / sum *
                                  x[j * width + heads.q_width() + heads.kv_width() + kvh * D + d];
  }
  return out;
}

// A prompt read in chunks (13 tokens, then 7 after them, then a decode of the last) over a
// cache in scattered blocks gives every row what causal attention over the whole prompt gives.
TEST(CpuOps, AttentionOverChunksAndDecodeMatchesTheDefinition) {
  std::mt19937 rng(4);
  CpuBackend backend(2);
  const HeadLayout heads{4, 2, 8};
  const int64_t len = 21, block = 4;
  const float scale = 0.35f;
  const Tensor qkv = random_f32({len, heads.qkv_width()}, rng);
  KvCacheLayer cache{Tensor::zeros({8, block, 2, 8}, DType::F32),
                     Tensor::zeros({8, block, 2, 8}, DType::F32)};
  const std::vector<int32_t> table = {6, 2, 7, 0, 5, 1};  // scattered, out-of-order blocks
  std::vector<int32_t> slots;
  for (int64_t p = 0; p < len; ++p) slots.push_back(table[p / block] * block + int32_t(p % block));
  // Every position 0 in a one-row table of cos 1, sin 0: the rotation leaves q and k as they are.
  const Tensor positions = backend.upload_i32(std::vector<int32_t>(size_t(len), 0));
  Tensor no_rotation = Tensor::zeros({1, 8}, DType::F32);
  for (int64_t d = 0; d < 4; ++d) no_rotation.data<float>()[d] = 1.0f;
  const int64_t chunks[][2] = {{0, 13}, {13, 20}, {20, 21}};
  for (const auto& [begin, end] : chunks) {
    Tensor rows = qkv.rows(begin, end).clone();
    backend.rotary_kv_write(rows, positions.rows(0, end - begin), no_rotation, heads,
                            backend.upload_i32({slots.begin() + begin, slots.begin() + end}),
                            cache);
    AttentionChunks c;
    c.cu_seqlens_q = backend.upload_i32({0, int32_t(end - begin)});
    c.seqlens_k = backend.upload_i32({int32_t(end)});
    c.block_tables = backend.upload_i32(table).reshape({1, 6});
    c.max_q = end - begin;
    c.max_s = end;
    Tensor out = Tensor::empty({end - begin, heads.q_width()}, DType::F32);
    backend.attention(rows, cache, c, heads, scale, out);
    for (int64_t r = begin; r < end; ++r) {
      const auto expected = reference_attention(qkv, heads, scale, r);
      for (int64_t i = 0; i < heads.q_width(); ++i)
        ASSERT_NEAR(out.data<float>()[(r - begin) * heads.q_width() + i], expected[size_t(i)],
                    1e-5)
            << "row " << r << " column " << i;
    }
  }
}

}  // namespace
}  // namespace lorax
