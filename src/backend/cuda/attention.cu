// Paged attention over a flat batch of query chunks; the contract is in attention.cuh.
//
// Two kernel families, picked by batch.max_q.
//
// Decode (max_q == 1: one query row per sequence). decode_partition_kernel runs one block of 4
// warps per (partition of the context, KV head x chunk of up to 4 of its query heads, sequence).
// Every warp serves all the chunk's query heads over its own interleaved slice of the
// partition's tokens: a K/V row is loaded once per block and used for every head of the group
// (each warp serving one head, as first written, loaded every row once per head through L1 and
// kept a quarter of the rows in flight: ~0.47 TB/s on the H200). Inside a warp, the D_MAX / 8
// lanes of a lane group share one token (8 head-dim elements each, read straight from the cache
// with 16-byte loads, 8-byte for fp8), so 32 / (D_MAX / 8) tokens are read per load instruction,
// kUnroll of them per lane group before any is used. Each lane group keeps its own
// online-softmax state per head; the states are merged with shuffles, then across warps in
// shared memory. A sequence with one partition writes `out` directly; otherwise every partition
// writes (max, sum, unnormalised acc[D]) into the workspace and
// decode_reduce_kernel (one block per (query head, sequence)) rescales and sums them, FlashDecoding
// style. The partition size is chosen per step so that the grid has about kSplitTarget blocks, with
// partitions of at least kMinPartition tokens.
//
// Prefill and chunks (max_q > 1). prefill_kernel is FlashAttention-2 on CUDA cores: one block of
// 128 threads per (tile of BM = 64 rows, 32 for D_MAX 256; KV head; sequence). The rows of a
// (sequence, KV head) are its (query i, group head g) pairs in the order i * group + g, so the
// GQA heads of a KV head share every K/V tile. K/V tiles of BN = 32 tokens are read through the
// block table and widened to f32 in shared memory. A thread owns RM rows (with their running max
// and sum in registers), RM x 4 scores of each tile and RM x D_MAX/8 output accumulators.
//
// Head sizes: every kernel is instantiated for D_MAX = 64, 128 and 256. A head size D < D_MAX
// runs on the next D_MAX with zero padding (q, k and v read as zero past D, so dot products and
// sums are unchanged). 16-byte loads are used when D == D_MAX and the pools are 16-byte aligned;
// otherwise element pairs (D is even, so a pair never straddles a row).
//
// Scores are kept in log2 units (q is pre-multiplied by scale * log2(e)), so exp2f is the
// exponential everywhere, partial maxima in the workspace included.

#include "backend/cuda/attention.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_types.cuh"
#include "core/error.h"

namespace lorax::cuda {
namespace {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr float kLog2e = 1.4426950408889634f;
constexpr int kMaxHeadDim = 256;

constexpr int kDecodeWarps = 4;
constexpr int kDecodeThreads = kDecodeWarps * kWarpSize;
constexpr int kReduceThreads = 128;
// Blocks the split decode aims for: about 4 resident per SM on a 132-SM H100/H200, so short
// batches with long contexts still fill the machine. (2048 was measured too: batch 32 at a
// 130-token context split into more, shorter partitions ran no faster.)
constexpr int64_t kSplitTarget = 512;
// Shortest partition. A warp's walk over its partition is a chain of dependent loads (block
// table, then K and V), so a partition's time is about its length in steps times the memory
// latency: short partitions keep a small batch's step short (at 256 tokens, one block per KV
// head took ~70 us per layer for a 140-token context on the H200). 32 tokens still read 16 KB
// of K/V per KV head of bf16 against ~2 KB of partial results for a 4-head group.
constexpr int64_t kMinPartition = 32;
constexpr int64_t kPartitionAlign = 32;
// Longest partition while a context has at most kMaxParts of them. The grid target alone left
// a batch of 32 at a 4,096-token context with two partitions of 2,048 tokens, a block's walk
// 2,048 tokens long; and under a step graph, whose context bucket is the next power of two,
// one partition of 4,096 tokens and a second of a few (the graph ran at half the eager speed).
// Bounded partitions keep every block's walk short whatever the batch; kMaxParts bounds the
// workspace (partials of every head of every sequence) for very long contexts.
constexpr int64_t kMaxPartition = 512;
constexpr int64_t kMaxParts = 64;

__host__ __device__ constexpr int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

__host__ __device__ constexpr int imin(int a, int b) {
  return a < b ? a : b;
}

// Everything a kernel needs, passed by value. Pointers and sizes were checked on the host.
struct Params {
  const void* q = nullptr;
  int64_t q_row_stride = 0;
  bool act_bf16 = false;  // q and out are BF16 (else F32)
  void* out = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  const int32_t* cu_seqlens_q = nullptr;
  const int32_t* seqlens_k = nullptr;
  const int32_t* block_tables = nullptr;
  int max_blocks = 0;
  int block_size = 0;
  int block_shift = -1;  // log2(block_size) when it is a power of two, else -1
  int num_heads = 0;
  int num_kv_heads = 0;
  int group = 0;  // query heads per KV head
  int head_dim = 0;
  float q_mult = 0.0f;  // softmax scale * log2(e), times k_scale for an fp8 cache
  float v_mult = 1.0f;  // v_scale for an fp8 cache
  bool vec = false;     // head_dim == D_MAX and 16-byte aligned pools: 16-byte loads
  // Split decode only.
  int part_size = 0;  // tokens per partition
  int num_parts = 0;  // partitions of the longest context (grid.x)
  int head_chunks = 0;
  int heads_per_block = 0;  // 1, 2 or 4
  float* ws_acc = nullptr;  // [num_seqs, num_heads, num_parts, head_dim]
  float* ws_m = nullptr;    // [num_seqs, num_heads, num_parts], log2 units
  float* ws_l = nullptr;    // [num_seqs, num_heads, num_parts]
};

// ---- element access -------------------------------------------------------------------------

// Element offset of head-dim 0 of cache position j of sequence b, KV head kv_head.
__device__ __forceinline__ int64_t kv_offset(const Params& p, int b, int j, int kv_head) {
  int index;
  int row;
  if (p.block_shift >= 0) {
    index = j >> p.block_shift;
    row = j & (p.block_size - 1);
  } else {
    index = j / p.block_size;
    row = j - index * p.block_size;
  }
  const int64_t block = __ldg(p.block_tables + int64_t(b) * p.max_blocks + index);
  return ((block * p.block_size + row) * p.num_kv_heads + kv_head) * p.head_dim;
}

template <int kBytes>
__device__ __forceinline__ void load_raw(const void* src, uint32_t* w) {
  if constexpr (kBytes == 16) {
    const uint4 x = __ldg(static_cast<const uint4*>(src));
    w[0] = x.x;
    w[1] = x.y;
    w[2] = x.z;
    w[3] = x.w;
  } else if constexpr (kBytes == 8) {
    const uint2 x = __ldg(static_cast<const uint2*>(src));
    w[0] = x.x;
    w[1] = x.y;
  } else if constexpr (kBytes == 4) {
    w[0] = __ldg(static_cast<const unsigned int*>(src));
  } else {
    static_assert(kBytes == 2);
    w[0] = __ldg(static_cast<const unsigned short*>(src));
  }
}

// Two cache elements packed in the low 16 (fp8) or all 32 (bf16, f16) bits of w, widened.
template <typename T>
__device__ __forceinline__ float2 widen_pair(uint32_t w) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    // bf16 is the upper half of an f32; element 0 sits in the low half of the word.
    return make_float2(__uint_as_float(w << 16), __uint_as_float(w & 0xffff0000u));
  } else if constexpr (std::is_same_v<T, __half>) {
    __half2_raw raw;
    raw.x = static_cast<unsigned short>(w & 0xffffu);
    raw.y = static_cast<unsigned short>(w >> 16);
    return __half22float2(__half2(raw));
  } else {
    static_assert(std::is_same_v<T, __nv_fp8_e4m3>);
    const __half2_raw raw =
        __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w & 0xffffu), __NV_E4M3);
    return __half22float2(__half2(raw));
  }
}

// Loads kN consecutive cache elements from src (aligned to their size) as f32.
template <typename T, int kN>
__device__ __forceinline__ void load_elems(const T* src, float* dst) {
  static_assert(kN % 2 == 0);
  constexpr int kBytes = kN * int(sizeof(T));
  uint32_t w[(kBytes + 3) / 4];
  load_raw<kBytes>(src, w);
  if constexpr (std::is_same_v<T, float>) {
#pragma unroll
    for (int i = 0; i < kN; ++i) dst[i] = __uint_as_float(w[i]);
  } else {
    constexpr int kPairsPerWord = 4 / (2 * int(sizeof(T)));  // 1 for 16-bit types, 2 for fp8
#pragma unroll
    for (int i = 0; i < kN / 2; ++i) {
      const int shift = 16 * (i % kPairsPerWord);
      const float2 f = widen_pair<T>(w[i / kPairsPerWord] >> shift);
      dst[2 * i] = f.x;
      dst[2 * i + 1] = f.y;
    }
  }
}

__device__ __forceinline__ float load_act(const void* base, int64_t i, bool bf16) {
  if (bf16) return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
  return static_cast<const float*>(base)[i];
}

__device__ __forceinline__ void store_act(void* base, int64_t i, float x, bool bf16) {
  if (bf16) {
    static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(x);
  } else {
    static_cast<float*>(base)[i] = x;
  }
}

// ---- decode ---------------------------------------------------------------------------------

template <typename T, int D_MAX>
struct DecodeLayout {
  static constexpr int kPerLane = 8;                          // head-dim elements per lane
  static constexpr int kLanesPerToken = D_MAX / kPerLane;     // a lane group: 8, 16 or 32 lanes
  static constexpr int kGroups = kWarpSize / kLanesPerToken;  // tokens per load instruction
  static constexpr int kVec = imin(16 / int(sizeof(T)), kPerLane);  // elements per load
  static constexpr int kVecs = kPerLane / kVec;                     // loads per lane and row
  static constexpr int kUnroll = 4;                           // tokens per lane group and step
  static constexpr int kTokensPerStep = kUnroll * kGroups;    // tokens per warp and step
  static constexpr int kHeads = kDecodeWarps;                 // most query heads per block

  // Head-dim index of element e of load k of the lane at position pos in its group: the lanes
  // of a group read consecutive pieces of the row, so each load is fully coalesced.
  static __device__ __forceinline__ int dim(int k, int pos, int e) {
    return (k * kLanesPerToken + pos) * kVec + e;
  }
};

// This lane's slice of one token's head row (or of q, or of the output accumulator).
template <typename T, int D_MAX>
using Slice = float[DecodeLayout<T, D_MAX>::kVecs][DecodeLayout<T, D_MAX>::kVec];

template <typename T, int D_MAX>
struct DecodeState {
  float m;  // running max, log2 units; -inf until a token was seen
  float l;  // running sum of exp2(s - m)
  Slice<T, D_MAX> acc;
};

template <typename T, int D_MAX>
__device__ __forceinline__ void zero_slice(Slice<T, D_MAX>& x) {
  using Lay = DecodeLayout<T, D_MAX>;
#pragma unroll
  for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
    for (int e = 0; e < Lay::kVec; ++e) x[k][e] = 0.0f;
}

// Loads this lane's slice of the cache row starting at `row`; zero past head_dim.
template <typename T, int D_MAX>
__device__ __forceinline__ void load_slice(const Params& p, const T* row, int pos,
                                           Slice<T, D_MAX>& dst) {
  using Lay = DecodeLayout<T, D_MAX>;
#pragma unroll
  for (int k = 0; k < Lay::kVecs; ++k) {
    if (p.vec) {
      load_elems<T, Lay::kVec>(row + Lay::dim(k, pos, 0), dst[k]);
      continue;
    }
#pragma unroll
    for (int e = 0; e < Lay::kVec; e += 2) {
      const int d = Lay::dim(k, pos, e);
      if (d < p.head_dim) {
        load_elems<T, 2>(row + d, &dst[k][e]);
      } else {
        dst[k][e] = 0.0f;
        dst[k][e + 1] = 0.0f;
      }
    }
  }
}

// Folds state b into a; either may be empty (m == -inf, l == 0, acc == 0).
template <typename T, int D_MAX>
__device__ __forceinline__ void merge_state(DecodeState<T, D_MAX>& a,
                                            const DecodeState<T, D_MAX>& b) {
  using Lay = DecodeLayout<T, D_MAX>;
  const float m = fmaxf(a.m, b.m);
  if (m == -INFINITY) return;  // both empty: nothing to add, and exp2f(-inf - -inf) is NaN
  const float wa = exp2f(a.m - m);
  const float wb = exp2f(b.m - m);
  a.l = a.l * wa + b.l * wb;
#pragma unroll
  for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
    for (int e = 0; e < Lay::kVec; ++e) a.acc[k][e] = a.acc[k][e] * wa + b.acc[k][e] * wb;
  a.m = m;
}

// One step of a lane group: kUnroll tokens (those at or past `end` are skipped) folded into the
// state of each of the warp's `heads` query heads. The K/V rows are loaded once for all heads.
template <typename T, int D_MAX>
__device__ __forceinline__ void decode_step(
    const Params& p, int b, int kv_head, int first, int end, int pos, int heads,
    const Slice<T, D_MAX> (&q)[DecodeLayout<T, D_MAX>::kHeads],
    DecodeState<T, D_MAX> (&s)[DecodeLayout<T, D_MAX>::kHeads]) {
  using Lay = DecodeLayout<T, D_MAX>;
  float kf[Lay::kUnroll][Lay::kVecs][Lay::kVec];
  float vf[Lay::kUnroll][Lay::kVecs][Lay::kVec];
  bool valid[Lay::kUnroll];
#pragma unroll
  for (int u = 0; u < Lay::kUnroll; ++u) {
    const int j = first + u * Lay::kGroups;
    valid[u] = j < end;
    if (valid[u]) {
      const int64_t off = kv_offset(p, b, j, kv_head);
      load_slice<T, D_MAX>(p, static_cast<const T*>(p.k) + off, pos, kf[u]);
      load_slice<T, D_MAX>(p, static_cast<const T*>(p.v) + off, pos, vf[u]);
    } else {
      zero_slice<T, D_MAX>(kf[u]);
      zero_slice<T, D_MAX>(vf[u]);
    }
  }
#pragma unroll
  for (int h = 0; h < Lay::kHeads; ++h) {
    if (h >= heads) break;  // warp-uniform
    float score[Lay::kUnroll];
#pragma unroll
    for (int u = 0; u < Lay::kUnroll; ++u) {
      float dot = 0.0f;
#pragma unroll
      for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
        for (int e = 0; e < Lay::kVec; ++e) dot = fmaf(q[h][k][e], kf[u][k][e], dot);
          // Sum over the lane group; every lane executes the shuffles, whatever its token's
          // validity.
#pragma unroll
      for (int o = Lay::kLanesPerToken / 2; o > 0; o /= 2)
        dot += __shfl_xor_sync(kFullMask, dot, o);
      score[u] = valid[u] ? dot : -INFINITY;
    }
    DecodeState<T, D_MAX>& st = s[h];
    float m = st.m;
#pragma unroll
    for (int u = 0; u < Lay::kUnroll; ++u) m = fmaxf(m, score[u]);
    if (m == -INFINITY) continue;         // no token yet in this group (the state stays empty)
    const float alpha = exp2f(st.m - m);  // 0 when the state was empty
    st.l *= alpha;
#pragma unroll
    for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
      for (int e = 0; e < Lay::kVec; ++e) st.acc[k][e] *= alpha;
#pragma unroll
    for (int u = 0; u < Lay::kUnroll; ++u) {
      const float w = exp2f(score[u] - m);  // 0 for skipped tokens (score -inf, v zero)
      st.l += w;
#pragma unroll
      for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
        for (int e = 0; e < Lay::kVec; ++e) st.acc[k][e] = fmaf(w, vf[u][k][e], st.acc[k][e]);
    }
    st.m = m;
  }
}

// One warp, query heads head0 .. head0 + heads - 1 of one KV head: the tokens [first, end) in
// steps of `stride`, merged over the lane groups. Every lane returns, per head, the warp's
// state for its own head-dim slice.
template <typename T, int D_MAX>
__device__ void decode_warp(const Params& p, int b, int q_row, int head0, int heads, int kv_head,
                            int first, int end, int stride,
                            DecodeState<T, D_MAX> (&s)[DecodeLayout<T, D_MAX>::kHeads]) {
  using Lay = DecodeLayout<T, D_MAX>;
  const int lane = threadIdx.x % kWarpSize;
  const int pos = lane % Lay::kLanesPerToken;
  const int group = lane / Lay::kLanesPerToken;

  Slice<T, D_MAX> q[Lay::kHeads];
#pragma unroll
  for (int h = 0; h < Lay::kHeads; ++h) {
    const int64_t q_base = int64_t(q_row) * p.q_row_stride + int64_t(head0 + h) * p.head_dim;
#pragma unroll
    for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
      for (int e = 0; e < Lay::kVec; ++e) {
        const int d = Lay::dim(k, pos, e);
        q[h][k][e] =
            h < heads && d < p.head_dim ? load_act(p.q, q_base + d, p.act_bf16) * p.q_mult : 0.0f;
      }
    s[h].m = -INFINITY;
    s[h].l = 0.0f;
    zero_slice<T, D_MAX>(s[h].acc);
  }
  // `first` and `stride` are the same for the whole warp, so the loop is warp-uniform. A step
  // covers tokens base + u * kGroups + group for u < kUnroll.
  for (int base = first; base < end; base += stride)
    decode_step<T, D_MAX>(p, b, kv_head, base + group, end, pos, heads, q, s);

    // Lane groups hold states over disjoint tokens: fold them together (same pos, other groups).
#pragma unroll
  for (int h = 0; h < Lay::kHeads; ++h) {
    if (h >= heads) break;
#pragma unroll
    for (int o = Lay::kLanesPerToken; o < kWarpSize; o *= 2) {
      DecodeState<T, D_MAX> other;
      other.m = __shfl_xor_sync(kFullMask, s[h].m, o);
      other.l = __shfl_xor_sync(kFullMask, s[h].l, o);
#pragma unroll
      for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
        for (int e = 0; e < Lay::kVec; ++e)
          other.acc[k][e] = __shfl_xor_sync(kFullMask, s[h].acc[k][e], o);
      merge_state<T, D_MAX>(s[h], other);
    }
  }
}

// Shared memory of the decode kernel: per warp and head slot, its merged state.
template <int D_MAX>
constexpr size_t decode_smem_bytes() {
  return sizeof(float) * (kDecodeWarps * kDecodeWarps * (D_MAX + 2));
}

// Combines the warps' states of each head of the block (they cover disjoint token slices) and
// writes either the final output or the partition's partial result. State w * kDecodeWarps +
// slot is warp w's for head slot `slot`.
template <int D_MAX>
__device__ void decode_epilogue(const Params& p, const float* st_acc, const float* st_m,
                                const float* st_l, int b, int q_row, int kv_head, int chunk,
                                int num_parts_b) {
  const int hb = p.heads_per_block;
  const int D = p.head_dim;
  for (int i = threadIdx.x; i < hb * D; i += blockDim.x) {
    const int slot = i / D;
    const int d = i % D;
    const int g = chunk * hb + slot;
    if (g >= p.group) continue;
    const int head = kv_head * p.group + g;
    float m = -INFINITY;
    for (int w = 0; w < kDecodeWarps; ++w) m = fmaxf(m, st_m[w * kDecodeWarps + slot]);
    float l = 0.0f;
    float acc = 0.0f;
    for (int w = 0; w < kDecodeWarps; ++w) {
      const int idx = w * kDecodeWarps + slot;
      if (st_m[idx] == -INFINITY) continue;
      const float weight = exp2f(st_m[idx] - m);
      l += st_l[idx] * weight;
      acc += st_acc[idx * D_MAX + d] * weight;
    }
    acc *= p.v_mult;
    if (num_parts_b == 1) {
      const int64_t o = (int64_t(q_row) * p.num_heads + head) * D + d;
      store_act(p.out, o, l > 0.0f ? acc / l : 0.0f, p.act_bf16);
    } else {
      const int64_t idx = (int64_t(b) * p.num_heads + head) * p.num_parts + blockIdx.x;
      p.ws_acc[idx * D + d] = acc;
      if (d == 0) {
        p.ws_m[idx] = m;
        p.ws_l[idx] = l;
      }
    }
  }
}

// grid (num_parts, num_kv_heads * head_chunks, num_seqs), block kDecodeThreads. Every warp
// serves all the block's query heads over its own slice of the partition's tokens, so each
// K/V row is loaded once per block (not once per head) and four warps keep four times the
// rows in flight.
template <typename T, int D_MAX>
__global__ void __launch_bounds__(kDecodeThreads) decode_partition_kernel(const Params p) {
  using Lay = DecodeLayout<T, D_MAX>;
  extern __shared__ float4 smem4[];
  constexpr int kStates = kDecodeWarps * Lay::kHeads;
  float* st_acc = reinterpret_cast<float*>(smem4);  // [kStates][D_MAX]
  float* st_m = st_acc + kStates * D_MAX;           // [kStates]
  float* st_l = st_m + kStates;                     // [kStates]

  // Block-uniform exits, before any barrier.
  const int b = blockIdx.z;
  const int q_row = p.cu_seqlens_q[b];
  if (p.cu_seqlens_q[b + 1] - q_row != 1) return;  // no query row for this sequence
  const int context = p.seqlens_k[b];
  const int begin = blockIdx.x * p.part_size;
  if (begin >= context) return;  // a shorter sequence: fewer partitions
  const int end = imin(context, begin + p.part_size);
  const int num_parts_b = int(ceil_div(context, p.part_size));

  const int kv_head = blockIdx.y / p.head_chunks;
  const int chunk = blockIdx.y % p.head_chunks;
  const int warp = threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int hb = p.heads_per_block;
  const int g0 = chunk * hb;
  const int heads = imin(hb, p.group - g0);  // the chunk's heads (the last may have fewer)

  DecodeState<T, D_MAX> s[Lay::kHeads];
  decode_warp<T, D_MAX>(p, b, q_row, kv_head * p.group + g0, heads, kv_head,
                        begin + warp * Lay::kTokensPerStep, end, kDecodeWarps * Lay::kTokensPerStep,
                        s);
#pragma unroll
  for (int h = 0; h < Lay::kHeads; ++h) {
    if (h >= heads) break;
    const int idx = warp * kDecodeWarps + h;
    if (lane < Lay::kLanesPerToken) {  // after the merge every group holds the same state
#pragma unroll
      for (int k = 0; k < Lay::kVecs; ++k)
#pragma unroll
        for (int e = 0; e < Lay::kVec; ++e)
          st_acc[idx * D_MAX + Lay::dim(k, lane, e)] = s[h].acc[k][e];
    }
    if (lane == 0) {
      st_m[idx] = s[h].m;
      st_l[idx] = s[h].l;
    }
  }
  __syncthreads();
  decode_epilogue<D_MAX>(p, st_acc, st_m, st_l, b, q_row, kv_head, chunk, num_parts_b);
}

// grid (num_heads, num_seqs), block kReduceThreads. Sequences with one partition were written
// by decode_partition_kernel already.
__global__ void __launch_bounds__(kReduceThreads) decode_reduce_kernel(const Params p) {
  const int head = blockIdx.x;
  const int b = blockIdx.y;
  const int q_row = p.cu_seqlens_q[b];
  if (p.cu_seqlens_q[b + 1] - q_row != 1) return;
  const int parts = int(ceil_div(p.seqlens_k[b], p.part_size));
  if (parts <= 1) return;
  const int64_t first = (int64_t(b) * p.num_heads + head) * p.num_parts;
  float m = -INFINITY;
  for (int i = 0; i < parts; ++i) m = fmaxf(m, p.ws_m[first + i]);
  const int D = p.head_dim;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float l = 0.0f;
    float acc = 0.0f;
    for (int i = 0; i < parts; ++i) {
      const float mi = p.ws_m[first + i];
      if (mi == -INFINITY) continue;  // an empty partition contributes nothing
      const float weight = exp2f(mi - m);
      l += p.ws_l[first + i] * weight;
      acc += p.ws_acc[(first + i) * D + d] * weight;
    }
    const int64_t o = (int64_t(q_row) * p.num_heads + head) * D + d;
    store_act(p.out, o, l > 0.0f ? acc / l : 0.0f, p.act_bf16);
  }
}

// ---- prefill --------------------------------------------------------------------------------

template <int D_MAX>
struct PrefillLayout {
  static constexpr int kThreads = 128;
  static constexpr int kColThreads = 8;                         // threads sharing a row
  static constexpr int kRowThreads = kThreads / kColThreads;    // 16
  static constexpr int kRows = D_MAX == 256 ? 32 : 64;          // BM: rows per block
  static constexpr int kCols = 32;                              // BN: tokens per K/V tile
  static constexpr int kRowsPerThread = kRows / kRowThreads;    // RM: 4 (2 for D 256)
  static constexpr int kColsPerThread = kCols / kColThreads;    // 4 scores per row
  static constexpr int kDimChunks = D_MAX / (4 * kColThreads);  // float4s of O per row
  // Row strides in floats: rows stay 16-byte aligned, and consecutive rows start 4 banks apart
  // (D_MAX is a multiple of 32), so 8 threads reading 8 consecutive rows' float4s never clash.
  static constexpr int kStride = D_MAX + 4;
  // P rows 8 banks apart: the 4 row threads of a warp (x 8 column threads) write distinct banks.
  static constexpr int kPStride = kCols + 8;
  static constexpr int kSmemFloats = kRows * kStride + 2 * kCols * kStride + kRows * kPStride;
};

// Query tile into shared memory, scaled; zero for rows past the chunk and columns past D.
template <int D_MAX>
__device__ void load_q_tile(const Params& p, float* qs, int q_begin, int q_len, int row0,
                            int kv_head) {
  using Lay = PrefillLayout<D_MAX>;
  for (int i = threadIdx.x; i < Lay::kRows * D_MAX; i += Lay::kThreads) {
    const int r = i / D_MAX;
    const int d = i % D_MAX;
    const int row = row0 + r;
    const int query = row / p.group;
    float x = 0.0f;
    if (query < q_len && d < p.head_dim) {
      const int head = kv_head * p.group + row % p.group;
      const int64_t src =
          int64_t(q_begin + query) * p.q_row_stride + int64_t(head) * p.head_dim + d;
      x = load_act(p.q, src, p.act_bf16) * p.q_mult;
    }
    qs[r * Lay::kStride + d] = x;
  }
}

// K or V tile of tokens [kv0, kv0 + kCols) into shared memory as f32; zero for tokens at or past
// kv_end (never read: their block-table entries may not exist) and for columns past D.
template <typename T, int D_MAX>
__device__ void load_kv_tile(const Params& p, const T* pool, float* dst, int b, int kv_head,
                             int kv0, int kv_end) {
  using Lay = PrefillLayout<D_MAX>;
  if (p.vec) {
    constexpr int kVec = 16 / int(sizeof(T));
    constexpr int kRowVecs = D_MAX / kVec;
    for (int i = threadIdx.x; i < Lay::kCols * kRowVecs; i += Lay::kThreads) {
      const int c = i / kRowVecs;
      const int d = (i % kRowVecs) * kVec;
      float x[kVec];
      if (kv0 + c < kv_end) {
        load_elems<T, kVec>(pool + kv_offset(p, b, kv0 + c, kv_head) + d, x);
      } else {
#pragma unroll
        for (int e = 0; e < kVec; ++e) x[e] = 0.0f;
      }
      float4* out = reinterpret_cast<float4*>(dst + c * Lay::kStride + d);
#pragma unroll
      for (int e = 0; e < kVec; e += 4)
        out[e / 4] = make_float4(x[e], x[e + 1], x[e + 2], x[e + 3]);
    }
    return;
  }
  constexpr int kRowPairs = D_MAX / 2;
  for (int i = threadIdx.x; i < Lay::kCols * kRowPairs; i += Lay::kThreads) {
    const int c = i / kRowPairs;
    const int d = (i % kRowPairs) * 2;
    float x[2] = {0.0f, 0.0f};
    if (kv0 + c < kv_end && d < p.head_dim)
      load_elems<T, 2>(pool + kv_offset(p, b, kv0 + c, kv_head) + d, x);
    dst[c * Lay::kStride + d] = x[0];
    dst[c * Lay::kStride + d + 1] = x[1];
  }
}

// s[i][j] = q(row ty + 16 i) . k(token tx + 8 j), from shared memory.
template <int D_MAX>
__device__ __forceinline__ void tile_scores(
    const float* qs, const float* ks, int tx, int ty,
    float (&s)[PrefillLayout<D_MAX>::kRowsPerThread][PrefillLayout<D_MAX>::kColsPerThread]) {
  using Lay = PrefillLayout<D_MAX>;
#pragma unroll
  for (int i = 0; i < Lay::kRowsPerThread; ++i)
#pragma unroll
    for (int j = 0; j < Lay::kColsPerThread; ++j) s[i][j] = 0.0f;
#pragma unroll 4
  for (int d = 0; d < D_MAX; d += 4) {
    float4 qv[Lay::kRowsPerThread];
    float4 kv[Lay::kColsPerThread];
#pragma unroll
    for (int i = 0; i < Lay::kRowsPerThread; ++i)
      qv[i] = *reinterpret_cast<const float4*>(qs + (ty + Lay::kRowThreads * i) * Lay::kStride + d);
#pragma unroll
    for (int j = 0; j < Lay::kColsPerThread; ++j)
      kv[j] = *reinterpret_cast<const float4*>(ks + (tx + Lay::kColThreads * j) * Lay::kStride + d);
#pragma unroll
    for (int i = 0; i < Lay::kRowsPerThread; ++i)
#pragma unroll
      for (int j = 0; j < Lay::kColsPerThread; ++j) {
        float acc = s[i][j];
        acc = fmaf(qv[i].x, kv[j].x, acc);
        acc = fmaf(qv[i].y, kv[j].y, acc);
        acc = fmaf(qv[i].z, kv[j].z, acc);
        acc = fmaf(qv[i].w, kv[j].w, acc);
        s[i][j] = acc;
      }
  }
}

// Online-softmax step for the thread's rows: turns the masked scores s into probabilities
// relative to the new running max, rescales o and l. The 8 threads of a row (consecutive lanes)
// combine their maxima and sums with shuffles.
template <int D_MAX>
__device__ __forceinline__ void softmax_update(
    float (&s)[PrefillLayout<D_MAX>::kRowsPerThread][PrefillLayout<D_MAX>::kColsPerThread],
    float (&m)[PrefillLayout<D_MAX>::kRowsPerThread],
    float (&l)[PrefillLayout<D_MAX>::kRowsPerThread],
    float (&o)[PrefillLayout<D_MAX>::kRowsPerThread][PrefillLayout<D_MAX>::kDimChunks][4]) {
  using Lay = PrefillLayout<D_MAX>;
#pragma unroll
  for (int i = 0; i < Lay::kRowsPerThread; ++i) {
    float mx = -INFINITY;
#pragma unroll
    for (int j = 0; j < Lay::kColsPerThread; ++j) mx = fmaxf(mx, s[i][j]);
#pragma unroll
    for (int off = 1; off < Lay::kColThreads; off *= 2)
      mx = fmaxf(mx, __shfl_xor_sync(kFullMask, mx, off));
    const float m_new = fmaxf(m[i], mx);
    // A row with no visible token yet (or a padding row) keeps an empty state: p = 0.
    const bool empty = m_new == -INFINITY;
    const float alpha = empty ? 1.0f : exp2f(m[i] - m_new);
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < Lay::kColsPerThread; ++j) {
      s[i][j] = empty ? 0.0f : exp2f(s[i][j] - m_new);
      sum += s[i][j];
    }
#pragma unroll
    for (int off = 1; off < Lay::kColThreads; off *= 2) sum += __shfl_xor_sync(kFullMask, sum, off);
    l[i] = l[i] * alpha + sum;
    m[i] = m_new;
#pragma unroll
    for (int c = 0; c < Lay::kDimChunks; ++c)
#pragma unroll
      for (int e = 0; e < 4; ++e) o[i][c][e] *= alpha;
  }
}

// o[i] += P(row ty + 16 i) . V over the tile; o[i][c] covers dims (tx + 8 c) * 4 .. + 3.
template <int D_MAX>
__device__ __forceinline__ void tile_pv(
    const float* ps, const float* vs, int tx, int ty,
    float (&o)[PrefillLayout<D_MAX>::kRowsPerThread][PrefillLayout<D_MAX>::kDimChunks][4]) {
  using Lay = PrefillLayout<D_MAX>;
#pragma unroll 2
  for (int c = 0; c < Lay::kCols; c += 4) {
    float pr[Lay::kRowsPerThread][4];
#pragma unroll
    for (int i = 0; i < Lay::kRowsPerThread; ++i) {
      const float4 x =
          *reinterpret_cast<const float4*>(ps + (ty + Lay::kRowThreads * i) * Lay::kPStride + c);
      pr[i][0] = x.x;
      pr[i][1] = x.y;
      pr[i][2] = x.z;
      pr[i][3] = x.w;
    }
#pragma unroll
    for (int cc = 0; cc < 4; ++cc)
#pragma unroll
      for (int dc = 0; dc < Lay::kDimChunks; ++dc) {
        const float4 v = *reinterpret_cast<const float4*>(vs + (c + cc) * Lay::kStride +
                                                          (tx + Lay::kColThreads * dc) * 4);
#pragma unroll
        for (int i = 0; i < Lay::kRowsPerThread; ++i) {
          o[i][dc][0] = fmaf(pr[i][cc], v.x, o[i][dc][0]);
          o[i][dc][1] = fmaf(pr[i][cc], v.y, o[i][dc][1]);
          o[i][dc][2] = fmaf(pr[i][cc], v.z, o[i][dc][2]);
          o[i][dc][3] = fmaf(pr[i][cc], v.w, o[i][dc][3]);
        }
      }
  }
}

// grid (ceil(max_q * group / kRows), num_kv_heads, num_seqs), block kThreads,
// dynamic shared memory kSmemFloats floats.
template <typename T, int D_MAX>
__global__ void __launch_bounds__(PrefillLayout<D_MAX>::kThreads) prefill_kernel(const Params p) {
  using Lay = PrefillLayout<D_MAX>;
  constexpr int RM = Lay::kRowsPerThread;
  extern __shared__ float4 smem4[];
  float* qs = reinterpret_cast<float*>(smem4);  // [kRows][kStride]
  float* ks = qs + Lay::kRows * Lay::kStride;   // [kCols][kStride]
  float* vs = ks + Lay::kCols * Lay::kStride;   // [kCols][kStride]
  float* ps = vs + Lay::kCols * Lay::kStride;   // [kRows][kPStride]

  // Block-uniform exit, before any barrier.
  const int b = blockIdx.z;
  const int kv_head = blockIdx.y;
  const int q_begin = p.cu_seqlens_q[b];
  const int q_len = p.cu_seqlens_q[b + 1] - q_begin;
  const int row0 = blockIdx.x * Lay::kRows;  // rows are (query, group head) pairs
  if (row0 >= q_len * p.group) return;
  const int cached = p.seqlens_k[b] - q_len;  // tokens before the chunk
  const int last_query = imin(q_len - 1, (row0 + Lay::kRows - 1) / p.group);
  const int kv_end = cached + last_query + 1;  // the tile's last query sees [0, kv_end)

  const int tx = threadIdx.x % Lay::kColThreads;
  const int ty = threadIdx.x / Lay::kColThreads;
  int limit[RM];  // row i sees tokens [0, limit[i]); 0 for padding rows
  float m[RM];
  float l[RM];
  float o[RM][Lay::kDimChunks][4];
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int query = (row0 + ty + Lay::kRowThreads * i) / p.group;
    limit[i] = query < q_len ? cached + query + 1 : 0;
    m[i] = -INFINITY;
    l[i] = 0.0f;
#pragma unroll
    for (int c = 0; c < Lay::kDimChunks; ++c)
#pragma unroll
      for (int e = 0; e < 4; ++e) o[i][c][e] = 0.0f;
  }

  load_q_tile<D_MAX>(p, qs, q_begin, q_len, row0, kv_head);
  for (int kv0 = 0; kv0 < kv_end; kv0 += Lay::kCols) {
    load_kv_tile<T, D_MAX>(p, static_cast<const T*>(p.k), ks, b, kv_head, kv0, kv_end);
    load_kv_tile<T, D_MAX>(p, static_cast<const T*>(p.v), vs, b, kv_head, kv0, kv_end);
    __syncthreads();  // q (first time), k and v tiles are in place

    float s[RM][Lay::kColsPerThread];
    tile_scores<D_MAX>(qs, ks, tx, ty, s);
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < Lay::kColsPerThread; ++j)
        if (kv0 + tx + Lay::kColThreads * j >= limit[i]) s[i][j] = -INFINITY;  // causal mask
    softmax_update<D_MAX>(s, m, l, o);
    // A warp's rows (ty = 4w .. 4w+3, + 16 i) are written and read by that warp only.
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < Lay::kColsPerThread; ++j)
        ps[(ty + Lay::kRowThreads * i) * Lay::kPStride + tx + Lay::kColThreads * j] = s[i][j];
    __syncwarp();
    tile_pv<D_MAX>(ps, vs, tx, ty, o);
    __syncthreads();  // everyone is done with this k/v tile before the next overwrites it
  }

#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int row = row0 + ty + Lay::kRowThreads * i;
    const int query = row / p.group;
    if (query >= q_len) continue;
    const int head = kv_head * p.group + row % p.group;
    const int64_t base = (int64_t(q_begin + query) * p.num_heads + head) * p.head_dim;
    const float inv = l[i] > 0.0f ? p.v_mult / l[i] : 0.0f;
#pragma unroll
    for (int c = 0; c < Lay::kDimChunks; ++c)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int d = (tx + Lay::kColThreads * c) * 4 + e;
        if (d < p.head_dim) store_act(p.out, base + d, o[i][c][e] * inv, p.act_bf16);
      }
  }
}

// ---- host -----------------------------------------------------------------------------------

// One kernel launch with a by-value Params; the single launch point keeps the checks uniform.
template <typename Kernel>
void launch(Kernel kernel, dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
            const Params& p) {
  kernel<<<grid, block, smem, stream>>>(p);
  LORAX_CUDA_CHECK_LAUNCH();
}

int heads_per_block(int group) {
  return group >= 3 ? kDecodeWarps : group;
}

int head_chunks(int group) {
  return int(ceil_div(group, heads_per_block(group)));
}

int pick_d_max(int head_dim) {
  return head_dim <= 64 ? 64 : head_dim <= 128 ? 128 : 256;
}

int exact_log2(int x) {
  for (int s = 0; s < 31; ++s)
    if ((1 << s) == x) return s;
  return -1;
}

void check_shape(const AttentionShape& shape) {
  LORAX_CHECK(
      shape.num_heads > 0 && shape.num_kv_heads > 0 && shape.num_heads % shape.num_kv_heads == 0,
      "attention: ", shape.num_heads, " query heads do not split evenly over ", shape.num_kv_heads,
      " KV heads");
  LORAX_CHECK(shape.head_dim >= 2 && shape.head_dim <= kMaxHeadDim && shape.head_dim % 2 == 0,
              "attention: head size ", shape.head_dim, " is not supported (even, 2 to ",
              kMaxHeadDim, ")");
}

struct DecodeSplit {
  int part_size;  // tokens per partition
  int num_parts;  // partitions of a max_s context
  int64_t bound;  // num_parts <= bound; grows with max_s, used to size the workspace
};

// Splits contexts of up to max_s tokens so that the grid has about kSplitTarget blocks, in
// partitions of at most kMaxPartition tokens (unless that makes more than kMaxParts).
DecodeSplit decode_split(int64_t num_seqs, int64_t max_s, const AttentionShape& shape) {
  const int group = shape.num_heads / shape.num_kv_heads;
  const int64_t blocks = num_seqs * shape.num_kv_heads * head_chunks(group);
  const int64_t most = ceil_div(max_s, kMinPartition);
  const int64_t least = std::min(ceil_div(max_s, kMaxPartition), kMaxParts);
  const int64_t parts = std::clamp<int64_t>(std::max(ceil_div(kSplitTarget, blocks), least), 1,
                                            std::max<int64_t>(most, 1));
  const int64_t size = ceil_div(ceil_div(max_s, parts), kPartitionAlign) * kPartitionAlign;
  return {int(size), int(ceil_div(max_s, size)), parts};
}

size_t partial_bytes(int64_t num_seqs, int64_t num_parts, const AttentionShape& shape) {
  return size_t(num_seqs) * size_t(shape.num_heads) * size_t(num_parts) *
         (size_t(shape.head_dim) + 2) * sizeof(float);
}

template <typename T, int D_MAX>
void run_decode(Params p, const AttentionBatch& batch, cudaStream_t stream) {
  const dim3 grid(unsigned(p.num_parts), unsigned(p.num_kv_heads * p.head_chunks),
                  unsigned(batch.num_seqs));
  launch(decode_partition_kernel<T, D_MAX>, grid, dim3(kDecodeThreads), decode_smem_bytes<D_MAX>(),
         stream, p);
  if (p.num_parts > 1)
    launch(decode_reduce_kernel, dim3(unsigned(p.num_heads), unsigned(batch.num_seqs)),
           dim3(kReduceThreads), 0, stream, p);
}

template <typename T, int D_MAX>
void run_prefill(const Params& p, const AttentionBatch& batch, cudaStream_t stream) {
  using Lay = PrefillLayout<D_MAX>;
  const size_t smem = sizeof(float) * Lay::kSmemFloats;
  LORAX_CUDA_CHECK(cudaFuncSetAttribute(prefill_kernel<T, D_MAX>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  const int64_t row_tiles = ceil_div(int64_t(batch.max_q) * p.group, Lay::kRows);
  LORAX_CHECK(row_tiles <= INT32_MAX, "attention: chunk of ", batch.max_q, " queries is too long");
  const dim3 grid(unsigned(row_tiles), unsigned(p.num_kv_heads), unsigned(batch.num_seqs));
  launch(prefill_kernel<T, D_MAX>, grid, dim3(Lay::kThreads), smem, stream, p);
}

template <typename T, int D_MAX>
void run(const Params& p, const AttentionBatch& batch, cudaStream_t stream) {
  if (batch.max_q == 1) {
    run_decode<T, D_MAX>(p, batch, stream);
  } else {
    run_prefill<T, D_MAX>(p, batch, stream);
  }
}

template <typename T>
void run_head_dim(const Params& p, const AttentionBatch& batch, cudaStream_t stream) {
  switch (pick_d_max(p.head_dim)) {
    case 64:
      return run<T, 64>(p, batch, stream);
    case 128:
      return run<T, 128>(p, batch, stream);
    default:
      return run<T, 256>(p, batch, stream);
  }
}

void check_batch(const PagedKvView& kv, const AttentionBatch& batch, const AttentionShape& shape,
                 int64_t q_row_stride) {
  LORAX_CHECK(batch.num_seqs >= 1 && batch.num_seqs <= 65535, "attention: ", batch.num_seqs,
              " sequences in one step (1 to 65535 supported)");
  LORAX_CHECK(batch.max_q >= 1 && batch.max_q <= batch.num_tokens && batch.max_s >= batch.max_q,
              "attention: inconsistent batch (max_q ", batch.max_q, ", max_s ", batch.max_s, ", ",
              batch.num_tokens, " tokens)");
  LORAX_CHECK(kv.block_size >= 1 && batch.max_blocks >= 1 &&
                  int64_t(batch.max_blocks) * kv.block_size >= batch.max_s,
              "attention: block tables of ", batch.max_blocks, " blocks of ", kv.block_size,
              " tokens cannot hold ", batch.max_s, " tokens");
  LORAX_CHECK(q_row_stride >= int64_t(shape.num_heads) * shape.head_dim, "attention: q row stride ",
              q_row_stride, " is shorter than the q heads");
  LORAX_CHECK(batch.cu_seqlens_q != nullptr && batch.seqlens_k != nullptr &&
                  batch.block_tables != nullptr && kv.k != nullptr && kv.v != nullptr,
              "attention: missing batch or cache pointers");
  // The generic path reads element pairs (D is even, so a pair never leaves its row).
  const size_t pair = 2 * dtype_size(kv.dtype);
  LORAX_CHECK(is_aligned(kv.k, pair) && is_aligned(kv.v, pair),
              "attention: KV pools must be aligned to ", pair, " bytes");
  const int64_t grid_y =
      int64_t(shape.num_kv_heads) * head_chunks(shape.num_heads / shape.num_kv_heads);
  LORAX_CHECK(grid_y <= 65535, "attention: ", shape.num_kv_heads, " KV heads are too many");
}

Params make_params(const void* q, int64_t q_row_stride, DType act, const PagedKvView& kv,
                   const AttentionBatch& batch, const AttentionShape& shape, void* out) {
  const bool fp8 = kv.dtype == DType::F8E4M3;
  Params p;
  p.q = q;
  p.q_row_stride = q_row_stride;
  p.act_bf16 = act == DType::BF16;
  p.out = out;
  p.k = kv.k;
  p.v = kv.v;
  p.cu_seqlens_q = batch.cu_seqlens_q;
  p.seqlens_k = batch.seqlens_k;
  p.block_tables = batch.block_tables;
  p.max_blocks = batch.max_blocks;
  p.block_size = kv.block_size;
  p.block_shift = exact_log2(kv.block_size);
  p.num_heads = shape.num_heads;
  p.num_kv_heads = shape.num_kv_heads;
  p.group = shape.num_heads / shape.num_kv_heads;
  p.head_dim = shape.head_dim;
  // The fp8 scales fold into q and the final normalisation: one multiply each instead of one per
  // cache element.
  p.q_mult = shape.scale * kLog2e * (fp8 ? kv.k_scale : 1.0f);
  p.v_mult = fp8 ? kv.v_scale : 1.0f;
  p.vec =
      shape.head_dim == pick_d_max(shape.head_dim) && is_aligned(kv.k, 16) && is_aligned(kv.v, 16);
  return p;
}

// Partition sizes and workspace carve-up of a decode step.
void plan_decode(Params& p, const AttentionBatch& batch, const AttentionShape& shape,
                 void* workspace, size_t workspace_bytes) {
  const DecodeSplit split = decode_split(batch.num_seqs, batch.max_s, shape);
  p.part_size = split.part_size;
  p.num_parts = split.num_parts;
  p.head_chunks = head_chunks(p.group);
  p.heads_per_block = heads_per_block(p.group);
  if (split.num_parts == 1) return;  // no partials: the workspace is not touched
  const size_t need = partial_bytes(batch.num_seqs, split.num_parts, shape);
  LORAX_CHECK(
      workspace != nullptr && workspace_bytes >= need && is_aligned(workspace, sizeof(float)),
      "attention: workspace of ", workspace_bytes, " bytes, the split decode needs ", need,
      " (f32-aligned)");
  const int64_t partials = int64_t(batch.num_seqs) * shape.num_heads * split.num_parts;
  p.ws_acc = static_cast<float*>(workspace);
  p.ws_m = p.ws_acc + partials * shape.head_dim;
  p.ws_l = p.ws_m + partials;
}

}  // namespace

size_t attention_workspace_bytes(int max_tokens, int max_seqs, int max_context,
                                 const AttentionShape& shape) {
  check_shape(shape);
  if (max_tokens <= 0 || max_seqs <= 0 || max_context <= 0) return 0;
  // Decode steps only (one row per sequence). The split shrinks as sequences are added while
  // the partials grow with them, so try every batch size.
  size_t worst = 0;
  for (int64_t n = 1; n <= max_seqs; ++n) {
    const DecodeSplit split = decode_split(n, max_context, shape);
    if (split.bound > 1) worst = std::max(worst, partial_bytes(n, split.bound, shape));
  }
  return worst;
}

void paged_attention(const void* q, int64_t q_row_stride, DType act, const PagedKvView& kv,
                     const AttentionBatch& batch, const AttentionShape& shape, void* out,
                     void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  check_shape(shape);
  LORAX_CHECK(act == DType::F32 || act == DType::BF16, "attention: activations of type ",
              dtype_name(act), " are not supported (F32, BF16)");
  LORAX_CHECK(kv.dtype == DType::F32 || kv.dtype == DType::BF16 || kv.dtype == DType::F16 ||
                  kv.dtype == DType::F8E4M3,
              "attention: KV cache of type ", dtype_name(kv.dtype), " is not supported");
  LORAX_CHECK(batch.num_tokens >= 0, "attention: negative token count");
  if (batch.num_tokens == 0) return;
  check_batch(kv, batch, shape, q_row_stride);
  LORAX_CHECK(q != nullptr && out != nullptr, "attention: missing q or out");

  Params p = make_params(q, q_row_stride, act, kv, batch, shape, out);
  if (batch.max_q == 1) plan_decode(p, batch, shape, workspace, workspace_bytes);
  switch (kv.dtype) {
    case DType::F32:
      return run_head_dim<float>(p, batch, stream);
    case DType::BF16:
      return run_head_dim<__nv_bfloat16>(p, batch, stream);
    case DType::F16:
      return run_head_dim<__half>(p, batch, stream);
    default:
      return run_head_dim<__nv_fp8_e4m3>(p, batch, stream);
  }
}

}  // namespace lorax::cuda
