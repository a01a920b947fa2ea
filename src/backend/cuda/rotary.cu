// Rotary embedding fused with the KV-cache write (see rotary.cuh).
//
// Launch layout: grid (T, Hq + 2 Hkv), block 32..128 threads (D/2 rounded up to a warp).
// Block (t, h) owns head h of token t's qkv row:
//   h <  Hq            a q head: thread i rotates the pair (i, i + D/2) in place;
//   h <  Hq + Hkv      a k head: the same, and the thread also stores both rotated elements (as
//                      rounded to act) into the cache row of slots[t] when it is >= 0;
//   otherwise          a v head: when slots[t] >= 0, threads copy its D elements to the cache.
// No thread reads what another wrote, so there are no barriers. The cache pools are
// [num_blocks * block_size rows, Hkv * D] flat: the slot is the row index.
//
// Rotation arithmetic is f32 from the act values with explicit round-to-nearest products and
// sums (no fused multiply-add), the plain expression a CPU reference evaluates.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/rotary.cuh"

namespace lorax::cuda {

namespace {

constexpr int kMaxThreads = 128;
constexpr int kMaxGridY = 65535;

// FP8 e4m3 element: the tag type the cache conversion dispatches on.
using Fp8E4M3 = __nv_fp8_e4m3;

// Conversion to the cache dtype. Only FP8 uses the scale (it stores x / scale, computed as
// x * (1 / scale) like the CPU backend's kv_write); saturating at +-448, nearest even.
//
// __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3) compiles to cvt.rn.satfinite.e4m3x2.f32
// on sm_89+. cuda_fp8.hpp's portable path for the same call (its model of that instruction)
// was compared with core/dtype.h's f32_to_f8e4m3 on all 2^32 f32 bit patterns: identical
// bytes everywhere, NaN included (both give 0x7f, -NaN too; +-inf saturate to 0x7e / 0xfe).
template <typename C>
__device__ __forceinline__ C to_cache(float x, float /*inv_scale*/) {
  return from_f32<C>(x);
}
template <>
__device__ __forceinline__ Fp8E4M3 to_cache<Fp8E4M3>(float x, float inv_scale) {
  Fp8E4M3 out;
  out.__x = __nv_cvt_float_to_fp8(x * inv_scale, __NV_SATFINITE, __NV_E4M3);
  return out;
}

struct RotaryParams {
  int64_t row_width;  // (Hq + 2 Hkv) * D
  int64_t kv_width;   // Hkv * D: one cache row
  int num_heads;
  int num_kv_heads;
  int head_dim;
  const int32_t* positions;
  const float* cos_sin;
  const int32_t* slots;  // may be null: rotate only
  float k_inv_scale;
  float v_inv_scale;
};

template <typename Act, typename C>
__device__ void rotate_head(Act* head, const float* cos, const float* sin, int half, C* cache_row,
                            float inv_scale) {
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const float a = to_f32(head[i]);
    const float b = to_f32(head[i + half]);
    const Act ra = from_f32<Act>(__fsub_rn(__fmul_rn(a, cos[i]), __fmul_rn(b, sin[i])));
    const Act rb = from_f32<Act>(__fadd_rn(__fmul_rn(b, cos[i]), __fmul_rn(a, sin[i])));
    head[i] = ra;
    head[i + half] = rb;
    if (cache_row != nullptr) {
      cache_row[i] = to_cache<C>(to_f32(ra), inv_scale);
      cache_row[i + half] = to_cache<C>(to_f32(rb), inv_scale);
    }
  }
}

template <typename Act, typename C>
__global__ void __launch_bounds__(kMaxThreads)
    rotary_kv_kernel(Act* qkv, RotaryParams p, C* k_cache, C* v_cache) {
  const int64_t t = blockIdx.x;
  const int h = blockIdx.y;
  const int D = p.head_dim;
  const int64_t slot = p.slots != nullptr ? int64_t(p.slots[t]) : -1;
  Act* head = qkv + t * p.row_width + int64_t(h) * D;

  if (h >= p.num_heads + p.num_kv_heads) {  // v head: copy only
    if (slot < 0) return;
    const int kv_head = h - p.num_heads - p.num_kv_heads;
    C* dst = v_cache + slot * p.kv_width + int64_t(kv_head) * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x)
      dst[i] = to_cache<C>(to_f32(head[i]), p.v_inv_scale);
    return;
  }

  const float* cos = p.cos_sin + int64_t(p.positions[t]) * D;
  const float* sin = cos + D / 2;
  C* k_row = nullptr;
  if (h >= p.num_heads && slot >= 0)
    k_row = k_cache + slot * p.kv_width + int64_t(h - p.num_heads) * D;
  rotate_head<Act, C>(head, cos, sin, D / 2, k_row, p.k_inv_scale);
}

template <typename Act, typename C>
void launch(const RotaryKvArgs& args, const RotaryParams& params, cudaStream_t stream) {
  const dim3 grid(unsigned(args.num_tokens), unsigned(args.num_heads + 2 * args.num_kv_heads));
  rotary_kv_kernel<Act, C><<<grid, block_threads(args.head_dim / 2, kMaxThreads), 0, stream>>>(
      static_cast<Act*>(args.qkv), params, static_cast<C*>(args.k_cache),
      static_cast<C*>(args.v_cache));
  LORAX_CUDA_CHECK_LAUNCH();
}

// Calls f(TypeTag<C>{}) for the cache element type.
template <typename F>
void dispatch_cache(DType dtype, F&& f) {
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
    case DType::F8E4M3:
      f(TypeTag<Fp8E4M3>{});
      return;
    default:
      fail("rotary_kv_write: unsupported cache dtype ", dtype_name(dtype),
           " (expected f32, bf16, f16 or fp8_e4m3)");
  }
}

void check_args(const RotaryKvArgs& a) {
  LORAX_CHECK(a.num_heads > 0 && a.num_kv_heads > 0, "rotary_kv_write: head counts must be ",
              "positive, got ", a.num_heads, " q and ", a.num_kv_heads, " kv heads");
  LORAX_CHECK(a.head_dim > 0 && a.head_dim % 2 == 0, "rotary_kv_write: head_dim must be even ",
              "and positive, got ", a.head_dim);
  LORAX_CHECK(a.num_heads + 2 * a.num_kv_heads <= kMaxGridY,
              "rotary_kv_write: ", a.num_heads + 2 * a.num_kv_heads,
              " heads per row exceed the launch limit");
  LORAX_CHECK(a.num_tokens <= int64_t(0x7fffffff), "rotary_kv_write: ", a.num_tokens,
              " tokens exceed the launch limit");
  if (a.cache_dtype == DType::F8E4M3)
    LORAX_CHECK(a.k_scale > 0.0f && a.v_scale > 0.0f, "rotary_kv_write: fp8 cache scales must ",
                "be positive, got ", a.k_scale, " and ", a.v_scale);
}

}  // namespace

void rotary_kv_write(const RotaryKvArgs& args, cudaStream_t stream) {
  if (args.num_tokens <= 0) return;
  check_args(args);
  RotaryParams params{};
  params.row_width = int64_t(args.num_heads + 2 * args.num_kv_heads) * args.head_dim;
  params.kv_width = int64_t(args.num_kv_heads) * args.head_dim;
  params.num_heads = args.num_heads;
  params.num_kv_heads = args.num_kv_heads;
  params.head_dim = args.head_dim;
  params.positions = args.positions;
  params.cos_sin = args.cos_sin;
  params.slots = args.slots;
  // The reciprocal is taken here, in f32, exactly as the CPU backend takes it.
  params.k_inv_scale = 1.0f / args.k_scale;
  params.v_inv_scale = 1.0f / args.v_scale;
  dispatch_act(args.act, "rotary_kv_write", [&](auto act_tag) {
    using Act = typename decltype(act_tag)::type;
    dispatch_cache(args.cache_dtype, [&](auto cache_tag) {
      using C = typename decltype(cache_tag)::type;
      launch<Act, C>(args, params, stream);
    });
  });
}

}  // namespace lorax::cuda
