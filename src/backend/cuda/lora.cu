// Multi-adapter LoRA: shrink then expand over slot-indexed pointer tables (see lora.cuh).
//
// Both kernels take a block per (segment, row tile, slice) — SGMV. A decode step (one row per
// segment) is the case of one tile per segment, a per-row BGMV. The host does not know segment
// lengths (they are device metadata), so grid.y is a budgeted number of tile blocks per segment
// and each block strides over its segment's tiles by gridDim.y; blocks past a segment's end
// exit at once. The budget keeps the grid near a few times the tiles a contiguous batch of
// num_rows rows would need, however the rows split into segments.
//
// shrink  grid (segments, tile blocks, slices), block 256 = 8 warps, tiles of 8 rows.
//         Warp w computes rank rows k = w, w + 8, ... of the slot's A: lanes stride along `in`
//         reading A[k, :] and the tile's x rows contiguously (coalesced), each A element read
//         once per tile and used for all 8 rows; a warp sum gives scratch[r, s, k] (f32).
//         Lanes read 16 bytes at a time when `in` and the pointers allow it.
// expand  grid (segments, tile blocks, slices * column chunks), block 128, tiles of 16 rows.
//         The block owns 128 columns of one slice: per chunk of 64 rank columns it stages
//         B[o0:o0+128, k0:k0+64] (one contiguous, coalesced run of B when rank <= 64) and the
//         tile's scratch into shared memory, then thread o accumulates its column for all 16
//         rows and adds scale * acc into y, rounding to act once. When the rank fits one chunk
//         in whole 16-byte packs (ranks 8, 16, 32, 64 in bf16), thread o reads its row of B
//         straight into registers instead, and only the scratch tile is staged.
//
// Rows outside every segment (base rows) are never visited. A slice whose rank for the slot
// is 0 exits at once. Slices, segments, tiles and column chunks write disjoint parts of y, so
// there are no atomics; slices must therefore cover disjoint columns (they do: q/k/v, gate/up).
#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/lora.cuh"

namespace lorax::cuda {

namespace {

constexpr int kShrinkRows = 8;
constexpr int kShrinkThreads = 256;
constexpr int kExpandRows = 16;
constexpr int kExpandCols = 128;  // = expand block size: one column per thread
constexpr int kExpandRankChunk = 64;
constexpr int kMaxGridYZ = 65535;
// Tile blocks per segment: at most this many times the tiles num_rows rows make, shared out
// over the segments (see tile_blocks).
constexpr int64_t kTileOversubscription = 8;

// The slices, passed to the kernels by value.
struct SliceSet {
  LoraSlice slice[kMaxLoraSlices];
};

struct Segments {
  const int32_t* start;  // [num_segments + 1]
  const int32_t* slot;   // [num_segments]
};

// ---------------------------------------------------------------------------------------------
// shrink: scratch[r, s, k] = x[r] . A_s(slot)[k] for the rows of a segment.

__device__ __forceinline__ float* scratch_at(float* scratch, int64_t row, int slice, int max_rank) {
  return scratch + (row * kMaxLoraSlices + slice) * max_rank;
}

// One rank row k of A against up to kShrinkRows rows of x starting at x_rows (nr valid). With
// `vec` (in a multiple of the pack, both rows 16-byte aligned) every lane reads 16 bytes of A
// and of each x row per step, so a warp streams 512 contiguous bytes of A per load instead of
// 64: the decode case (one row per adapter) is all A, and its speed is the load width.
template <typename T>
__device__ void shrink_rank_row(const T* x_rows, const T* a_row, int64_t in, int nr, bool vec,
                                float (&acc)[kShrinkRows]) {
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int j = 0; j < kShrinkRows; ++j) acc[j] = 0.0f;
  if (vec) {
    constexpr int P = pack_width<T>();
    for (int64_t i = int64_t(lane) * P; i < in; i += 32 * P) {
      const Pack<T, P> a = load_pack<T, P>(a_row + i);
#pragma unroll
      for (int j = 0; j < kShrinkRows; ++j) {
        if (j < nr) {
          const Pack<T, P> xv = load_pack<T, P>(x_rows + j * in + i);
#pragma unroll
          for (int e = 0; e < P; ++e) acc[j] += to_f32(xv.v[e]) * to_f32(a.v[e]);
        }
      }
    }
  } else {
    for (int64_t i = lane; i < in; i += 32) {
      const float a = to_f32(a_row[i]);
#pragma unroll
      for (int j = 0; j < kShrinkRows; ++j)
        if (j < nr) acc[j] += to_f32(x_rows[j * in + i]) * a;
    }
  }
#pragma unroll
  for (int j = 0; j < kShrinkRows; ++j) acc[j] = warp_sum(acc[j]);
}

template <typename T>
__global__ void __launch_bounds__(kShrinkThreads)
    lora_shrink_kernel(const T* x, int64_t in, SliceSet slices, Segments segs, int max_rank,
                       float* scratch) {
  const int seg = blockIdx.x;
  const int s = blockIdx.z;
  const LoraSlotTable& table = slices.slice[s].table;
  const int slot = segs.slot[seg];
  if (slot < 0) return;  // base rows between two adapters' segments
  const int rank = table.rank[slot];
  if (rank <= 0) return;
  const int64_t end = segs.start[seg + 1];
  const T* a = static_cast<const T*>(table.a[slot]);
  const bool vec = in % pack_width<T>() == 0 && is_aligned(a, 16) && is_aligned(x, 16);
  const int warp = threadIdx.x / 32;
  const int num_warps = blockDim.x / 32;
  const int lane = threadIdx.x % 32;

  for (int64_t r0 = segs.start[seg] + int64_t(blockIdx.y) * kShrinkRows; r0 < end;
       r0 += int64_t(gridDim.y) * kShrinkRows) {
    const int nr = int(min(int64_t(kShrinkRows), end - r0));
    for (int k = warp; k < rank; k += num_warps) {
      float acc[kShrinkRows];
      shrink_rank_row<T>(x + r0 * in, a + int64_t(k) * in, in, nr, vec, acc);
      if (lane == 0) {
#pragma unroll
        for (int j = 0; j < kShrinkRows; ++j)
          if (j < nr) scratch_at(scratch, r0 + j, s, max_rank)[k] = acc[j];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// expand: y[r, column_s + o] += scale * scratch[r, s, :] . B_s(slot)[o, :].

struct ExpandTiles {
  float b[kExpandCols][kExpandRankChunk + 1];  // +1: thread o reads row o, conflict-free
  float s[kExpandRows][kExpandRankChunk];      // read as a broadcast
};

// Stages B[o0 + c, k0 + k] (c < cols, k < kc) and scratch[r0 + j, s, k0 + k], zero for the
// rows j >= nr past the segment's end (their sums are never stored; zeros keep them defined).
// Stages scratch[r0 + j, slice, k0 + k] (k < kc) into tiles.s, zero for rows j >= nr.
__device__ void stage_shrink_tile(const float* scratch, int64_t r0, int nr, int slice,
                                  int max_rank, int k0, int kc, ExpandTiles& tiles) {
  for (int idx = threadIdx.x; idx < kExpandRows * kc; idx += blockDim.x) {
    const int j = idx / kc;
    const int k = idx % kc;
    tiles.s[j][k] =
        j < nr ? scratch[((r0 + j) * kMaxLoraSlices + slice) * max_rank + k0 + k] : 0.0f;
  }
}

template <typename T>
__device__ void stage_expand_tiles(const T* b, int rank, int64_t o0, int cols, int k0, int kc,
                                   const float* scratch, int64_t r0, int nr, int slice,
                                   int max_rank, ExpandTiles& tiles) {
  for (int idx = threadIdx.x; idx < cols * kc; idx += blockDim.x) {
    const int c = idx / kc;
    const int k = idx % kc;
    tiles.b[c][k] = to_f32(b[(o0 + c) * rank + k0 + k]);
  }
  stage_shrink_tile(scratch, r0, nr, slice, max_rank, k0, kc, tiles);
}

template <typename T, typename Y>
__global__ void __launch_bounds__(kExpandCols)
    lora_expand_kernel(const float* scratch, int max_rank, SliceSet slices, int chunks,
                       Segments segs, Y* y, int64_t y_row_stride) {
  __shared__ ExpandTiles tiles;
  const int seg = blockIdx.x;
  const int s = blockIdx.z / chunks;
  const LoraSlice& slice = slices.slice[s];
  const int64_t o0 = int64_t(blockIdx.z % chunks) * kExpandCols;
  if (o0 >= slice.out) return;
  const int slot = segs.slot[seg];
  if (slot < 0) return;  // base rows between two adapters' segments
  const int rank = slice.table.rank[slot];
  if (rank <= 0) return;
  const int64_t end = segs.start[seg + 1];
  const int64_t first = segs.start[seg] + int64_t(blockIdx.y) * kExpandRows;
  if (first >= end) return;  // every exit so far is uniform over the block: no barrier skipped

  const T* b = static_cast<const T*>(slice.table.b[slot]);
  const float scale = slice.table.scale[slot];
  const int cols = int(min(int64_t(kExpandCols), slice.out - o0));
  const int o = threadIdx.x;
  Y* y_cols = y + slice.column + o0 + o;

  // Ranks up to one chunk that fill whole 16-byte packs: each thread reads its own row of B
  // straight into registers (a warp's rows are one contiguous run of B), only the shrink results
  // go through shared memory.
  constexpr int P = pack_width<T>();
  const bool direct = rank <= kExpandRankChunk && rank % P == 0 && is_aligned(b, 16);
  for (int64_t r0 = first; r0 < end; r0 += int64_t(gridDim.y) * kExpandRows) {
    const int nr = int(min(int64_t(kExpandRows), end - r0));
    float acc[kExpandRows] = {};
    if (direct) {
      __syncthreads();  // the previous tile's shrink results are no longer read
      stage_shrink_tile(scratch, r0, nr, s, max_rank, 0, rank, tiles);
      __syncthreads();
      if (o < cols) {
        const T* b_row = b + (o0 + o) * rank;
#pragma unroll
        for (int q = 0; q < kExpandRankChunk / P; ++q) {
          if (q * P >= rank) break;
          const Pack<T, P> bv = load_pack<T, P>(b_row + q * P);
#pragma unroll
          for (int e = 0; e < P; ++e) {
            const float bk = to_f32(bv.v[e]);
#pragma unroll
            for (int j = 0; j < kExpandRows; ++j) acc[j] += tiles.s[j][q * P + e] * bk;
          }
        }
      }
    }
    for (int k0 = 0; !direct && k0 < rank; k0 += kExpandRankChunk) {
      const int kc = min(kExpandRankChunk, rank - k0);
      __syncthreads();  // the previous chunk's tiles are no longer read
      stage_expand_tiles<T>(b, rank, o0, cols, k0, kc, scratch, r0, nr, s, max_rank, tiles);
      __syncthreads();
      if (o < cols) {
        for (int k = 0; k < kc; ++k) {
          const float bk = tiles.b[o][k];
#pragma unroll
          for (int j = 0; j < kExpandRows; ++j) acc[j] += tiles.s[j][k] * bk;
        }
      }
    }
    if (o < cols) {
#pragma unroll
      for (int j = 0; j < kExpandRows; ++j) {
        if (j < nr) {
          Y* out = y_cols + (r0 + j) * y_row_stride;
          *out = from_f32<Y>(to_f32(*out) + scale * acc[j]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// launch sizing

// Tile blocks per segment (grid.y). A segment holds at most num_rows rows, so more than
// ceil(num_rows / rows_per_tile) is never useful; with many segments (decode) most are short,
// so the total over segments is held to kTileOversubscription times that many tiles.
unsigned tile_blocks(const LoraBatch& batch, int rows_per_tile) {
  const int64_t tiles = (int64_t(batch.num_rows) + rows_per_tile - 1) / rows_per_tile;
  const int64_t budget =
      (kTileOversubscription * tiles + batch.num_segments - 1) / batch.num_segments;
  return unsigned(std::clamp<int64_t>(std::min(tiles, budget), 1, kMaxGridYZ));
}

template <typename T, typename Y>
void launch_lora(const void* x, int64_t in, const SliceSet& slices, int num_slices, int64_t max_out,
                 const LoraBatch& batch, void* y, int64_t y_row_stride, float* scratch,
                 cudaStream_t stream) {
  const Segments segs{batch.seg_start, batch.seg_slot};
  const dim3 shrink_grid(unsigned(batch.num_segments), tile_blocks(batch, kShrinkRows),
                         unsigned(num_slices));
  lora_shrink_kernel<T><<<shrink_grid, kShrinkThreads, 0, stream>>>(
      static_cast<const T*>(x), in, slices, segs, batch.max_rank, scratch);
  LORAX_CUDA_CHECK_LAUNCH();

  const int chunks = int((max_out + kExpandCols - 1) / kExpandCols);
  const dim3 expand_grid(unsigned(batch.num_segments), tile_blocks(batch, kExpandRows),
                         unsigned(num_slices * chunks));
  lora_expand_kernel<T, Y><<<expand_grid, kExpandCols, 0, stream>>>(
      scratch, batch.max_rank, slices, chunks, segs, static_cast<Y*>(y), y_row_stride);
  LORAX_CUDA_CHECK_LAUNCH();
}

}  // namespace

size_t lora_scratch_bytes(int max_rows, int max_rank) {
  if (max_rows <= 0 || max_rank <= 0) return 0;
  return size_t(max_rows) * kMaxLoraSlices * size_t(max_rank) * sizeof(float);
}

void lora_apply(const void* x, int64_t in, DType act, const LoraSlice* slices, int num_slices,
                const LoraBatch& batch, void* y, int64_t y_row_stride, DType y_dtype,
                float* scratch, cudaStream_t stream) {
  LORAX_CHECK(y_dtype == act || y_dtype == DType::F32, "lora_apply: output dtype ",
              dtype_name(y_dtype), " for ", dtype_name(act), " activations");
  LORAX_CHECK(num_slices >= 0 && num_slices <= kMaxLoraSlices, "lora_apply: ", num_slices,
              " slices (at most ", kMaxLoraSlices, ")");
  if (num_slices == 0 || batch.num_segments <= 0 || batch.num_rows <= 0 || batch.max_rank <= 0 ||
      in <= 0)
    return;
  SliceSet set{};
  int64_t max_out = 0;
  for (int s = 0; s < num_slices; ++s) {
    LORAX_CHECK(slices[s].out >= 0 && slices[s].column >= 0 &&
                    slices[s].column + slices[s].out <= y_row_stride,
                "lora_apply: slice ", s, " (columns ", slices[s].column, " + ", slices[s].out,
                ") does not fit rows of ", y_row_stride);
    set.slice[s] = slices[s];
    max_out = std::max(max_out, slices[s].out);
  }
  if (max_out == 0) return;
  const int64_t chunks = (max_out + kExpandCols - 1) / kExpandCols;
  LORAX_CHECK(num_slices * chunks <= kMaxGridYZ, "lora_apply: slice width ", max_out,
              " exceeds the launch limit");
  dispatch_act(act, "lora_apply", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (y_dtype == DType::F32) {
      launch_lora<T, float>(x, in, set, num_slices, max_out, batch, y, y_row_stride, scratch,
                            stream);
    } else {
      launch_lora<T, T>(x, in, set, num_slices, max_out, batch, y, y_row_stride, scratch, stream);
    }
  });
}

}  // namespace lorax::cuda
