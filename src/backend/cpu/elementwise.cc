#include "backend/cpu/elementwise.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace lorax::cpu {

float load_as_f32(const void* data, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::F32:
      return static_cast<const float*>(data)[i];
    case DType::BF16:
      return bf16_to_f32(static_cast<const uint16_t*>(data)[i]);
    case DType::F16:
      return f16_to_f32(static_cast<const uint16_t*>(data)[i]);
    case DType::F8E4M3:
      return f8e4m3_to_f32(static_cast<const uint8_t*>(data)[i]);
    case DType::F8E5M2:
      return f8e5m2_to_f32(static_cast<const uint8_t*>(data)[i]);
    default:
      fail("expected a float tensor, got ", dtype_name(dtype));
  }
}

namespace {
// Rows per task so small ops do not pay for a thread hand-off per row.
int64_t rows_per_task(int64_t rows, int64_t row_cost) {
  const int64_t target = 1 << 14;  // elements of work per task
  int64_t per = std::max<int64_t>(1, target / std::max<int64_t>(row_cost, 1));
  return std::min(per, std::max<int64_t>(rows, 1));
}
}  // namespace

void rms_norm(ThreadPool& pool, const Tensor& x, const Tensor& w, float eps, float weight_offset,
              Tensor& out) {
  const int64_t H = x.dim(-1);
  const int64_t rows = x.numel() / H;
  LORAX_CHECK(w.numel() == H && out.numel() == x.numel(), "rms_norm: weight ", w.describe(),
              " or output ", out.describe(), " does not match ", x.describe());
  // The weight is small; widen it once instead of per row.
  std::vector<float> weight(size_t(H), 0.0f);
  for (int64_t i = 0; i < H; ++i) weight[i] = load_as_f32(w.raw(), w.dtype(), i) + weight_offset;
  const float* xp = x.data<float>();
  float* op = out.data<float>();
  const int64_t per = rows_per_task(rows, H);
  pool.parallel_for((rows + per - 1) / per, [&](int64_t task) {
    for (int64_t r = task * per; r < std::min(rows, (task + 1) * per); ++r) {
      const float* row = xp + r * H;
      double sum = 0.0;  // f64 sum of squares: cheap here, and keeps wide rows exact enough
      for (int64_t i = 0; i < H; ++i) sum += double(row[i]) * row[i];
      const float inv = float(1.0 / std::sqrt(sum / double(H) + eps));
      for (int64_t i = 0; i < H; ++i) op[r * H + i] = row[i] * inv * weight[i];
    }
  });
}

void add(ThreadPool& pool, Tensor& x, const Tensor& y) {
  LORAX_CHECK(x.numel() == y.numel(), "add: ", x.describe(), " vs ", y.describe());
  float* xp = x.data<float>();
  const float* yp = y.data<float>();
  const int64_t n = x.numel();
  const int64_t per = 1 << 16;
  pool.parallel_for((n + per - 1) / per, [&](int64_t task) {
    const int64_t end = std::min(n, (task + 1) * per);
    for (int64_t i = task * per; i < end; ++i) xp[i] += yp[i];
  });
}

void embedding(ThreadPool& pool, const Tensor& ids, const Tensor& table, float scale, Tensor& out) {
  const int64_t T = ids.numel();
  const int64_t V = table.dim(0);
  const int64_t H = table.dim(1);
  LORAX_CHECK(out.numel() == T * H, "embedding: output ", out.describe());
  const int32_t* idp = ids.data<int32_t>();
  for (int64_t t = 0; t < T; ++t)
    LORAX_CHECK(idp[t] >= 0 && idp[t] < V, "token id ", idp[t], " is outside the vocabulary (", V,
                ")");
  float* op = out.data<float>();
  pool.parallel_for(T, [&](int64_t t) {
    const int64_t base = int64_t(idp[t]) * H;
    for (int64_t i = 0; i < H; ++i)
      op[t * H + i] = load_as_f32(table.raw(), table.dtype(), base + i) * scale;
  });
}

void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) {
  const int64_t rows = x.dim(0);
  const size_t row_bytes = x.nbytes() / size_t(std::max<int64_t>(rows, 1));
  const int32_t* idx = indices.data<int32_t>();
  LORAX_CHECK(out.nbytes() == size_t(indices.numel()) * row_bytes, "gather_rows: output ",
              out.describe());
  for (int64_t i = 0; i < indices.numel(); ++i) {
    LORAX_CHECK(idx[i] >= 0 && idx[i] < rows, "gather_rows: index ", idx[i], " out of ", rows);
    std::memcpy(static_cast<char*>(out.raw()) + size_t(i) * row_bytes,
                static_cast<const char*>(x.raw()) + size_t(idx[i]) * row_bytes, row_bytes);
  }
}

namespace {
inline float silu(float x) {
  return x / (1.0f + std::exp(-x));
}
inline float gelu_tanh(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}
inline float gelu_erf(float x) {
  return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
}
}  // namespace

void gated_activation(ThreadPool& pool, const Tensor& gate_up, Activation act, Tensor& out) {
  const int64_t I = out.dim(-1);
  const int64_t T = out.numel() / I;
  LORAX_CHECK(gate_up.numel() == 2 * T * I, "gated_activation: ", gate_up.describe(), " vs ",
              out.describe());
  const float* g = gate_up.data<float>();
  float* op = out.data<float>();
  const int64_t per = rows_per_task(T, I);
  pool.parallel_for((T + per - 1) / per, [&](int64_t task) {
    for (int64_t t = task * per; t < std::min(T, (task + 1) * per); ++t) {
      const float* gate = g + t * 2 * I;
      const float* up = gate + I;
      float* o = op + t * I;
      switch (act) {
        case Activation::Silu:
          for (int64_t i = 0; i < I; ++i) o[i] = silu(gate[i]) * up[i];
          break;
        case Activation::GeluTanh:
          for (int64_t i = 0; i < I; ++i) o[i] = gelu_tanh(gate[i]) * up[i];
          break;
        case Activation::GeluErf:
          for (int64_t i = 0; i < I; ++i) o[i] = gelu_erf(gate[i]) * up[i];
          break;
      }
    }
  });
}

}  // namespace lorax::cpu
