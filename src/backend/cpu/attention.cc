#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/elementwise.h"
#include "core/error.h"

namespace lorax::cpu {

void rotary(ThreadPool& pool, Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
            const HeadLayout& heads) {
  const int64_t T = positions.numel();
  const int64_t D = heads.head_dim;
  const int64_t half = D / 2;
  const int64_t width = heads.qkv_width();
  const int64_t rotated_heads = heads.num_heads + heads.num_kv_heads;  // q heads then k heads
  LORAX_CHECK(qkv.numel() == T * width && cos_sin.dim(1) == D, "rotary: bad shapes ",
              qkv.describe(), " ", cos_sin.describe());
  const int32_t* pos = positions.data<int32_t>();
  float* data = qkv.data<float>();
  const float* table = cos_sin.data<float>();
  pool.parallel_for(T, [&](int64_t t) {
    const float* cos = table + int64_t(pos[t]) * D;
    const float* sin = cos + half;
    for (int64_t h = 0; h < rotated_heads; ++h) {
      float* x = data + t * width + h * D;
      for (int64_t i = 0; i < half; ++i) {
        const float a = x[i];
        const float b = x[i + half];
        x[i] = a * cos[i] - b * sin[i];
        x[i + half] = b * cos[i] + a * sin[i];
      }
    }
  });
}

namespace {

void store_row(const float* src, int64_t n, float scale, DType dtype, void* dst) {
  switch (dtype) {
    case DType::F32:
      std::copy(src, src + n, static_cast<float*>(dst));
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_f16(src[i]);
      return;
    case DType::F8E4M3: {
      const float inv = 1.0f / scale;
      for (int64_t i = 0; i < n; ++i) static_cast<uint8_t*>(dst)[i] = f32_to_f8e4m3(src[i] * inv);
      return;
    }
    default:
      fail("kv cache: unsupported dtype ", dtype_name(dtype));
  }
}

// Widens one cached head row to f32 (scaled back for fp8). f32 rows are used in place.
const float* load_row(const void* src, int64_t n, DType dtype, float scale, float* scratch) {
  if (dtype == DType::F32) return static_cast<const float*>(src);
  for (int64_t i = 0; i < n; ++i) scratch[i] = load_as_f32(src, dtype, i);
  if (dtype == DType::F8E4M3)
    for (int64_t i = 0; i < n; ++i) scratch[i] *= scale;
  return scratch;
}

inline float dot(const float* a, const float* b, int64_t n) {
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// Softmax in place over scores[0, n); returns nothing, leaves probabilities.
void softmax(float* scores, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, scores[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    scores[i] = std::exp(scores[i] - max);
    sum += scores[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) scores[i] *= inv;
}

}  // namespace

void kv_write(const Tensor& qkv, const Tensor& slots, const HeadLayout& heads,
              KvCacheLayer& cache) {
  const int64_t T = slots.numel();
  const int64_t kv = heads.kv_width();
  const size_t row_bytes = size_t(kv) * dtype_size(cache.k.dtype());
  const int32_t* slot = slots.data<int32_t>();
  const float* data = qkv.data<float>();
  for (int64_t t = 0; t < T; ++t) {
    if (slot[t] < 0) continue;
    const float* k = data + t * heads.qkv_width() + heads.q_width();
    const float* v = k + kv;
    store_row(k, kv, cache.k_scale, cache.k.dtype(),
              static_cast<char*>(cache.k.raw()) + size_t(slot[t]) * row_bytes);
    store_row(v, kv, cache.v_scale, cache.v.dtype(),
              static_cast<char*>(cache.v.raw()) + size_t(slot[t]) * row_bytes);
  }
}

void attention(ThreadPool& pool, const Tensor& qkv, const KvCacheLayer& cache,
               const AttentionChunks& chunks, const HeadLayout& heads, float scale, Tensor& out) {
  const int64_t B = chunks.num_sequences();
  const int64_t D = heads.head_dim;
  const int64_t width = heads.qkv_width();
  const int64_t group = heads.num_heads / heads.num_kv_heads;
  const int64_t block_size = cache.block_size();
  const int64_t max_blocks = chunks.block_tables.dim(1);
  const int64_t kv = heads.kv_width();
  const DType dtype = cache.k.dtype();
  const size_t elem = dtype_size(dtype);
  const int32_t* cu = chunks.cu_seqlens_q.data<int32_t>();
  const int32_t* lens = chunks.seqlens_k.data<int32_t>();
  const int32_t* tables = chunks.block_tables.data<int32_t>();
  const float* data = qkv.data<float>();
  float* op = out.data<float>();
  // One task per (sequence, query head): independent, and each walks the keys once per query.
  pool.parallel_for(B * heads.num_heads, [&](int64_t task) {
    const int64_t b = task / heads.num_heads;
    const int64_t h = task % heads.num_heads;
    const int64_t kvh = h / group;
    const int64_t q_len = cu[b + 1] - cu[b];
    const int64_t first_pos = lens[b] - q_len;  // position of the chunk's first query
    std::vector<float> scores(static_cast<size_t>(lens[b]));
    std::vector<float> scratch(static_cast<size_t>(D));
    auto row_offset = [&](int64_t pos) {
      const int64_t block = tables[b * max_blocks + pos / block_size];
      return (size_t(block * block_size + pos % block_size) * size_t(kv) + size_t(kvh * D)) * elem;
    };
    for (int64_t i = 0; i < q_len; ++i) {
      const int64_t row = cu[b] + i;
      const int64_t visible = first_pos + i + 1;  // causal: keys 0 .. own position
      const float* q = data + row * width + h * D;
      for (int64_t j = 0; j < visible; ++j) {
        const void* src = static_cast<const char*>(cache.k.raw()) + row_offset(j);
        scores[j] = dot(q, load_row(src, D, dtype, cache.k_scale, scratch.data()), D) * scale;
      }
      softmax(scores.data(), visible);
      float* o = op + row * heads.q_width() + h * D;
      std::fill(o, o + D, 0.0f);
      for (int64_t j = 0; j < visible; ++j) {
        const void* src = static_cast<const char*>(cache.v.raw()) + row_offset(j);
        const float* v = load_row(src, D, dtype, cache.v_scale, scratch.data());
        const float p = scores[j];
        for (int64_t d = 0; d < D; ++d) o[d] += p * v[d];
      }
    }
  });
}

}  // namespace lorax::cpu
