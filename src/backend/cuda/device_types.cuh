// Device element types shared by the CUDA kernels: f32 widening and rounding stores, aligned
// vector packs, warp/block sums, and the host-side switch from a DType to a kernel template
// argument. Internal to backend/cuda; the op headers stay free of CUDA types.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/error.h"

namespace lorax::cuda {

// ---- element conversions (f32 inside every kernel, one rounding on store) ----

__device__ __forceinline__ float to_f32(float x) {
  return x;
}
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
__device__ __forceinline__ float to_f32(__half x) {
  return __half2float(x);
}

template <typename T>
__device__ __forceinline__ T from_f32(float x);
template <>
__device__ __forceinline__ float from_f32<float>(float x) {
  return x;
}
// Round to nearest even, as core/dtype.h's f32_to_bf16 does.
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ __forceinline__ __half from_f32<__half>(float x) {
  return __float2half_rn(x);
}

// ---- vector packs ----

// N consecutive elements loaded or stored as one aligned access (16 bytes at most per
// instruction; a 32-byte pack becomes two). The pointer must be aligned to the pack size.
template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

template <typename T, int N>
__device__ __forceinline__ Pack<T, N> load_pack(const T* p) {
  return *reinterpret_cast<const Pack<T, N>*>(p);
}

template <typename T, int N>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, N>& pack) {
  *reinterpret_cast<Pack<T, N>*>(p) = pack;
}

// Elements of T in one 16-byte pack.
template <typename T>
constexpr int pack_width() {
  return int(16 / sizeof(T));
}

__host__ __device__ inline bool is_aligned(const void* p, size_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// ---- reductions ----

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over the block, returned to every thread. blockDim.x must be a multiple of 32 and every
// thread of the block must call it (it synchronises). `partial` is __shared__ float[32]; a
// second call on the same `partial` needs a __syncthreads() first.
__device__ __forceinline__ float block_sum(float v, float* partial) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const int num_warps = blockDim.x / 32;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = lane < num_warps ? partial[lane] : 0.0f;
  total = warp_sum(total);  // every warp reduces the partials itself: no second barrier
  return total;
}

// ---- host-side dtype switches ----

template <typename T>
struct TypeTag {
  using type = T;
};

// Activations: F32 or BF16. Calls f(TypeTag<T>{}); any other dtype fails naming `op`.
template <typename F>
void dispatch_act(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32:
      f(TypeTag<float>{});
      return;
    case DType::BF16:
      f(TypeTag<__nv_bfloat16>{});
      return;
    default:
      fail(op, ": unsupported activation dtype ", dtype_name(dtype), " (expected f32 or bf16)");
  }
}

// Weights and conversions: F32, BF16 or F16.
template <typename F>
void dispatch_float(DType dtype, const char* op, const char* what, F&& f) {
  switch (dtype) {
    case DType::F32:
      f(TypeTag<float>{});
      return;
    case DType::BF16:
      f(TypeTag<__nv_bfloat16>{});
      return;
    case DType::F16:
      f(TypeTag<__half>{});
      return;
    default:
      fail(op, ": unsupported ", what, " dtype ", dtype_name(dtype),
           " (expected f32, bf16 or f16)");
  }
}

// Threads for a block that strides over `n` items: a multiple of 32 in [32, max_threads].
inline int block_threads(int64_t n, int max_threads) {
  const int64_t rounded = (n + 31) / 32 * 32;
  if (rounded < 32) return 32;
  return rounded > max_threads ? max_threads : int(rounded);
}

// Blocks for a grid-stride loop over `n` items with `threads` per block; capped because the
// loop covers the rest.
inline unsigned grid_blocks(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  constexpr int64_t kMaxBlocks = int64_t(1) << 20;
  return unsigned(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

}  // namespace lorax::cuda
