// Row-wise and elementwise kernels (see elementwise.cuh for each op's meaning).
//
// Launch layout:
//   embedding         grid (T), block 32..256: one block per token row, threads stride over H.
//   gather_rows       grid (R), block 32..256: one block per output row, copying in the widest
//                     unit (16, 8, 4, 2 or 1 bytes) that the row size and both bases allow.
//   rms_norm,         grid (T), block 32..1024: one block per row. Pass 1 sums squares in f32
//   add_rms_norm      (a warp-shuffle then shared-memory block reduction), pass 2 re-reads the
//                     row (from L1/L2) and scales it. Rows move in 16-byte packs when H and the
//                     pointers allow, element by element otherwise.
//   gated_activation  grid (ceil(I / (256 * V)), min(T, 65535)), block 256: x tiles columns of a
//                     row, y strides over rows; V-element packs when I and the pointers allow.
//   add               1-D grid-stride loops, block 256; add uses packs plus a scalar tail.
//
// Every kernel computes in f32 and rounds once on store. Zero-size calls launch nothing.
#include <initializer_list>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/elementwise.cuh"

namespace lorax::cuda {

namespace {

constexpr int kRowThreads = 256;    // embedding, gather_rows
constexpr int kNormThreads = 1024;  // most threads a norm row may use
constexpr int kFlatThreads = 256;   // gated_activation, add
constexpr int kMaxGridY = 65535;

// ---------------------------------------------------------------------------------------------
// embedding

template <typename Table, typename Act>
__global__ void embedding_kernel(const int32_t* ids, const Table* table, int64_t H, float scale,
                                 Act* out) {
  const int64_t t = blockIdx.x;
  const Table* src = table + int64_t(ids[t]) * H;
  Act* dst = out + t * H;
  for (int64_t i = threadIdx.x; i < H; i += blockDim.x)
    dst[i] = from_f32<Act>(to_f32(src[i]) * scale);
}

// ---------------------------------------------------------------------------------------------
// gather_rows: a byte copy in units of U (row_units units per row).

template <typename U>
__global__ void gather_rows_kernel(const U* x, int64_t row_units, const int32_t* rows, U* out) {
  const int64_t i = blockIdx.x;
  const U* src = x + int64_t(rows[i]) * row_units;
  U* dst = out + i * row_units;
  for (int64_t u = threadIdx.x; u < row_units; u += blockDim.x) dst[u] = src[u];
}

template <typename U>
void launch_gather_rows(const void* x, int64_t row_bytes, const int32_t* rows, int64_t R, void* out,
                        cudaStream_t stream) {
  const int64_t row_units = row_bytes / int64_t(sizeof(U));
  gather_rows_kernel<U><<<unsigned(R), block_threads(row_units, kRowThreads), 0, stream>>>(
      static_cast<const U*>(x), row_units, rows, static_cast<U*>(out));
  LORAX_CUDA_CHECK_LAUNCH();
}

// ---------------------------------------------------------------------------------------------
// rms_norm / add_rms_norm. V: elements per pack (1, or a 16-byte pack of Act); H % V == 0.

template <typename In, typename Out, typename W, int V>
__device__ __forceinline__ void scale_row(const In* src, const W* w, int64_t H, float inv,
                                          float weight_offset, Out* dst) {
  for (int64_t p = threadIdx.x; p < H / V; p += blockDim.x) {
    const Pack<In, V> xv = load_pack<In, V>(src + p * V);
    const Pack<W, V> wv = load_pack<W, V>(w + p * V);
    Pack<Out, V> ov;
#pragma unroll
    for (int j = 0; j < V; ++j)
      ov.v[j] = from_f32<Out>(to_f32(xv.v[j]) * inv * (to_f32(wv.v[j]) + weight_offset));
    store_pack<Out, V>(dst + p * V, ov);
  }
}

// 1 / sqrt(mean + eps) with IEEE division and square root (not the approximate rsqrtf).
__device__ __forceinline__ float inv_rms(float sum_squares, int64_t H, float eps) {
  return 1.0f / sqrtf(sum_squares / float(H) + eps);
}

template <typename In, typename Out, typename W, int V>
__global__ void __launch_bounds__(kNormThreads)
    rms_norm_kernel(const In* x, const W* w, int64_t H, float eps, float weight_offset, Out* out) {
  __shared__ float partial[32];
  const In* src = x + int64_t(blockIdx.x) * H;
  float sum = 0.0f;
  for (int64_t p = threadIdx.x; p < H / V; p += blockDim.x) {
    const Pack<In, V> xv = load_pack<In, V>(src + p * V);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const float f = to_f32(xv.v[j]);
      sum += f * f;
    }
  }
  const float inv = inv_rms(block_sum(sum, partial), H, eps);
  scale_row<In, Out, W, V>(src, w, H, inv, weight_offset, out + int64_t(blockIdx.x) * H);
}

// Each thread re-reads in pass 2 exactly the residual elements it wrote in pass 1, so no
// barrier is needed for them; out may alias x or residual for the same reason.
// Res: the residual stream's type (f32 when the model keeps it at full precision under bf16
// activations); X, Out: the activation type.
template <typename Res, typename X, typename Out, typename W, int V>
__global__ void __launch_bounds__(kNormThreads)
    add_rms_norm_kernel(Res* residual, const X* x, const W* w, int64_t H, float eps,
                        float weight_offset, Out* out) {
  __shared__ float partial[32];
  Res* res = residual + int64_t(blockIdx.x) * H;
  const X* add = x + int64_t(blockIdx.x) * H;
  float sum = 0.0f;
  for (int64_t p = threadIdx.x; p < H / V; p += blockDim.x) {
    const Pack<Res, V> rv = load_pack<Res, V>(res + p * V);
    const Pack<X, V> xv = load_pack<X, V>(add + p * V);
    Pack<Res, V> sv;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      sv.v[j] = from_f32<Res>(to_f32(rv.v[j]) + to_f32(xv.v[j]));
      const float f = to_f32(sv.v[j]);  // the norm sees the rounded sum
      sum += f * f;
    }
    store_pack<Res, V>(res + p * V, sv);
  }
  const float inv = inv_rms(block_sum(sum, partial), H, eps);
  scale_row<Res, Out, W, V>(res, w, H, inv, weight_offset, out + int64_t(blockIdx.x) * H);
}

// Packs of 16 bytes of Act when H divides into them and every row start is aligned to the
// pack (act pointers to 16 bytes, the weight to its own pack size); else element by element.
// Rows of two types (an f32 residual stream beside bf16 activations) go by packs of the wider
// one, `Act` = Wider<A, B>: 16 bytes of it and 8 of the other per thread and step.
template <typename A, typename B>
using Wider = std::conditional_t<(sizeof(A) >= sizeof(B)), A, B>;

template <typename Act, typename W>
bool norm_vectorisable(int64_t H, const void* w, std::initializer_list<const void*> rows) {
  constexpr int V = pack_width<Act>();
  if (H % V != 0 || !is_aligned(w, sizeof(W) * V)) return false;
  for (const void* p : rows)
    if (!is_aligned(p, 16)) return false;
  return true;
}

// Calls launch(integral_constant V) with V = pack width or 1.
template <typename Act, typename W, typename Launch>
void with_norm_width(int64_t H, const void* w, std::initializer_list<const void*> rows,
                     Launch&& launch) {
  if (norm_vectorisable<Act, W>(H, w, rows))
    launch(std::integral_constant<int, pack_width<Act>()>{});
  else
    launch(std::integral_constant<int, 1>{});
}

// Ops that launch one block per row put the rows on grid.x.
void check_grid_rows(const char* op, int64_t rows) {
  LORAX_CHECK(rows <= int64_t(0x7fffffff), op, ": ", rows, " rows exceed the launch limit");
}

void check_norm_args(const char* op, float eps) {
  LORAX_CHECK(eps >= 0.0f, op, ": eps must be non-negative, got ", eps);
}

// ---------------------------------------------------------------------------------------------
// gated_activation

template <Activation F>
__device__ __forceinline__ float activate(float x);
template <>
__device__ __forceinline__ float activate<Activation::Silu>(float x) {
  return x / (1.0f + expf(-x));
}
template <>
__device__ __forceinline__ float activate<Activation::GeluTanh>(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}
template <>
__device__ __forceinline__ float activate<Activation::GeluErf>(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));  // x / sqrt(2)
}

// I % V == 0; gate_up rows are 2I wide, the up half starts I elements into the row.
template <typename Act, Activation F, int V>
__global__ void gated_activation_kernel(const Act* gate_up, int64_t T, int64_t I, Act* out) {
  const int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= I / V) return;
  for (int64_t t = blockIdx.y; t < T; t += gridDim.y) {
    const Act* gate = gate_up + t * 2 * I;
    const Pack<Act, V> gv = load_pack<Act, V>(gate + p * V);
    const Pack<Act, V> uv = load_pack<Act, V>(gate + I + p * V);
    Pack<Act, V> ov;
#pragma unroll
    for (int j = 0; j < V; ++j)
      ov.v[j] = from_f32<Act>(activate<F>(to_f32(gv.v[j])) * to_f32(uv.v[j]));
    store_pack<Act, V>(out + t * I + p * V, ov);
  }
}

template <typename Act, Activation F, int V>
void launch_gated_activation(const void* gate_up, int64_t T, int64_t I, void* out,
                             cudaStream_t stream) {
  const int64_t packs = I / V;
  const dim3 grid(unsigned((packs + kFlatThreads - 1) / kFlatThreads),
                  unsigned(T < kMaxGridY ? T : kMaxGridY));
  gated_activation_kernel<Act, F, V><<<grid, kFlatThreads, 0, stream>>>(
      static_cast<const Act*>(gate_up), T, I, static_cast<Act*>(out));
  LORAX_CUDA_CHECK_LAUNCH();
}

template <typename Act, Activation F>
void launch_gated_activation(const void* gate_up, int64_t T, int64_t I, void* out,
                             cudaStream_t stream) {
  constexpr int V = pack_width<Act>();
  if (I % V == 0 && is_aligned(gate_up, 16) && is_aligned(out, 16))
    launch_gated_activation<Act, F, V>(gate_up, T, I, out, stream);
  else
    launch_gated_activation<Act, F, 1>(gate_up, T, I, out, stream);
}

// ---------------------------------------------------------------------------------------------
// add: packs over the first n - n % V elements, then single elements for the tail.

template <typename X, typename Y, int V>
__global__ void add_kernel(X* x, const Y* y, int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = n / V;
  for (int64_t p = first; p < packs; p += stride) {
    const Pack<X, V> xv = load_pack<X, V>(x + p * V);
    const Pack<Y, V> yv = load_pack<Y, V>(y + p * V);
    Pack<X, V> sv;
#pragma unroll
    for (int j = 0; j < V; ++j) sv.v[j] = from_f32<X>(to_f32(xv.v[j]) + to_f32(yv.v[j]));
    store_pack<X, V>(x + p * V, sv);
  }
  for (int64_t i = packs * V + first; i < n; i += stride)
    x[i] = from_f32<X>(to_f32(x[i]) + to_f32(y[i]));
}

template <typename T, typename Y>
__global__ void bias_silu_residual_kernel(const T* x, const Y* y, const float* bias, int64_t n,
                                          int64_t N, T* out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float v = to_f32(y[i]) + bias[i % N];
    out[i] = from_f32<T>(to_f32(x[i]) + activate<Activation::Silu>(v));
  }
}

}  // namespace

// =============================================================================================
// Host entry points

void embedding(const int32_t* ids, int64_t T, const void* table, DType table_dtype, int64_t H,
               float scale, void* out, DType act, cudaStream_t stream) {
  if (T <= 0 || H <= 0) return;
  check_grid_rows("embedding", T);
  dispatch_act(act, "embedding", [&](auto act_tag) {
    using Act = typename decltype(act_tag)::type;
    dispatch_float(table_dtype, "embedding", "table", [&](auto table_tag) {
      using Table = typename decltype(table_tag)::type;
      embedding_kernel<Table, Act><<<unsigned(T), block_threads(H, kRowThreads), 0, stream>>>(
          ids, static_cast<const Table*>(table), H, scale, static_cast<Act*>(out));
      LORAX_CUDA_CHECK_LAUNCH();
    });
  });
}

void gather_rows(const void* x, int64_t width, DType dtype, const int32_t* rows, int64_t R,
                 void* out, cudaStream_t stream) {
  const int64_t elem = int64_t(dtype_size(dtype));
  LORAX_CHECK(elem > 0, "gather_rows: unsupported dtype ", dtype_name(dtype));
  if (R <= 0 || width <= 0) return;
  check_grid_rows("gather_rows", R);
  const int64_t row_bytes = width * elem;
  // The widest unit dividing the row size and both base addresses: every row start is then
  // aligned to it as well.
  const uint64_t common = uint64_t(row_bytes) | uint64_t(reinterpret_cast<uintptr_t>(x)) |
                          uint64_t(reinterpret_cast<uintptr_t>(out));
  if (common % 16 == 0)
    launch_gather_rows<uint4>(x, row_bytes, rows, R, out, stream);
  else if (common % 8 == 0)
    launch_gather_rows<uint2>(x, row_bytes, rows, R, out, stream);
  else if (common % 4 == 0)
    launch_gather_rows<uint32_t>(x, row_bytes, rows, R, out, stream);
  else if (common % 2 == 0)
    launch_gather_rows<uint16_t>(x, row_bytes, rows, R, out, stream);
  else
    launch_gather_rows<uint8_t>(x, row_bytes, rows, R, out, stream);
}

void rms_norm(const void* x, DType x_dtype, const void* w, DType w_dtype, int64_t T, int64_t H,
              float eps, float weight_offset, void* out, DType out_dtype, cudaStream_t stream) {
  if (T <= 0 || H <= 0) return;
  check_norm_args("rms_norm", eps);
  check_grid_rows("rms_norm", T);
  dispatch_act(x_dtype, "rms_norm", [&](auto in_tag) {
    using In = typename decltype(in_tag)::type;
    dispatch_act(out_dtype, "rms_norm", [&](auto out_tag) {
      using Out = typename decltype(out_tag)::type;
      dispatch_float(w_dtype, "rms_norm", "weight", [&](auto w_tag) {
        using W = typename decltype(w_tag)::type;
        auto launch = [&](auto width) {
          constexpr int V = decltype(width)::value;
          rms_norm_kernel<In, Out, W, V>
              <<<unsigned(T), block_threads(H / V, kNormThreads), 0, stream>>>(
                  static_cast<const In*>(x), static_cast<const W*>(w), H, eps, weight_offset,
                  static_cast<Out*>(out));
          LORAX_CUDA_CHECK_LAUNCH();
        };
        with_norm_width<Wider<In, Out>, W>(H, w, {x, out}, launch);
      });
    });
  });
}

void add_rms_norm(void* residual, DType residual_dtype, const void* x, DType x_dtype,
                  const void* w, DType w_dtype, int64_t T, int64_t H, float eps,
                  float weight_offset, void* out, DType out_dtype, cudaStream_t stream) {
  if (T <= 0 || H <= 0) return;
  check_norm_args("add_rms_norm", eps);
  check_grid_rows("add_rms_norm", T);
  LORAX_CHECK(x_dtype == out_dtype, "add_rms_norm: x ", dtype_name(x_dtype), " and out ",
              dtype_name(out_dtype), " must be alike");
  dispatch_act(residual_dtype, "add_rms_norm", [&](auto res_tag) {
    using Res = typename decltype(res_tag)::type;
    dispatch_act(x_dtype, "add_rms_norm", [&](auto act_tag) {
      using Act = typename decltype(act_tag)::type;
      dispatch_float(w_dtype, "add_rms_norm", "weight", [&](auto w_tag) {
        using W = typename decltype(w_tag)::type;
        auto launch = [&](auto width) {
          constexpr int V = decltype(width)::value;
          add_rms_norm_kernel<Res, Act, Act, W, V>
              <<<unsigned(T), block_threads(H / V, kNormThreads), 0, stream>>>(
                  static_cast<Res*>(residual), static_cast<const Act*>(x),
                  static_cast<const W*>(w), H, eps, weight_offset, static_cast<Act*>(out));
          LORAX_CUDA_CHECK_LAUNCH();
        };
        with_norm_width<Wider<Res, Act>, W>(H, w, {residual, x, out}, launch);
      });
    });
  });
}

void gated_activation(const void* gate_up, int64_t T, int64_t I, Activation f, void* out, DType act,
                      cudaStream_t stream) {
  if (T <= 0 || I <= 0) return;
  dispatch_act(act, "gated_activation", [&](auto act_tag) {
    using Act = typename decltype(act_tag)::type;
    switch (f) {
      case Activation::Silu:
        launch_gated_activation<Act, Activation::Silu>(gate_up, T, I, out, stream);
        return;
      case Activation::GeluTanh:
        launch_gated_activation<Act, Activation::GeluTanh>(gate_up, T, I, out, stream);
        return;
      case Activation::GeluErf:
        launch_gated_activation<Act, Activation::GeluErf>(gate_up, T, I, out, stream);
        return;
    }
    fail("gated_activation: unsupported activation ", int(f));
  });
}

void bias_silu_residual(const void* x, const void* y, DType y_dtype, const float* bias, int64_t T,
                        int64_t N, void* out, DType act, cudaStream_t stream) {
  const int64_t n = T * N;
  if (n <= 0) return;
  dispatch_act(act, "bias_silu_residual", [&](auto act_tag) {
    using Act = typename decltype(act_tag)::type;
    dispatch_act(y_dtype, "bias_silu_residual", [&](auto y_tag) {
      using Y = typename decltype(y_tag)::type;
      bias_silu_residual_kernel<Act, Y><<<grid_blocks(n, kFlatThreads), kFlatThreads, 0, stream>>>(
          static_cast<const Act*>(x), static_cast<const Y*>(y), bias, n, N, static_cast<Act*>(out));
      LORAX_CUDA_CHECK_LAUNCH();
    });
  });
}

void add(void* x, DType x_dtype, const void* y, DType y_dtype, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  dispatch_act(x_dtype, "add", [&](auto x_tag) {
    using X = typename decltype(x_tag)::type;
    dispatch_act(y_dtype, "add", [&](auto y_tag) {
      using Y = typename decltype(y_tag)::type;
      X* xp = static_cast<X*>(x);
      const Y* yp = static_cast<const Y*>(y);
      if constexpr (std::is_same_v<X, Y>) {
        constexpr int V = pack_width<X>();
        if (is_aligned(x, 16) && is_aligned(y, 16)) {
          add_kernel<X, Y, V>
              <<<grid_blocks(n / V + 1, kFlatThreads), kFlatThreads, 0, stream>>>(xp, yp, n);
          LORAX_CUDA_CHECK_LAUNCH();
          return;
        }
      }
      add_kernel<X, Y, 1><<<grid_blocks(n, kFlatThreads), kFlatThreads, 0, stream>>>(xp, yp, n);
      LORAX_CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace lorax::cuda
