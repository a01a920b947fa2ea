// Attention over the paged KV cache, for a flat batch of query chunks (CUDA).
//
// Sequence b of the step contributes q_len(b) = cu_seqlens_q[b+1] - cu_seqlens_q[b] query rows;
// they are the LAST q_len(b) tokens of its seqlens_k[b] tokens, all of whose K/V (these new
// tokens' too) are already in the cache. Query i of the chunk (0-based) sits at position
// p = seqlens_k[b] - q_len(b) + i and attends causally to cache positions [0, p]. A decode step
// is the case q_len = 1 for every sequence; a prefill chunk may follow cached tokens.
//
// Cache position j of sequence b lives in block block_tables[b * max_blocks + j / block_size],
// row j % block_size: element [block, row, kv_head, d] of the k and v pools. FP8 (e4m3) pools
// hold x / scale: read back as q * k_scale (v_scale). GQA: query head h reads kv head
// h / (num_heads / num_kv_heads).
//
// Accumulation is f32 whatever the activation dtype. All pointers are device pointers; every
// index was checked on the host before the step (the kernels trust them).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace lorax::cuda {

struct PagedKvView {
  const void* k = nullptr;  // [num_blocks, block_size, num_kv_heads, head_dim] of `dtype`
  const void* v = nullptr;
  DType dtype = DType::BF16;  // F32, BF16, F16 or F8E4M3
  float k_scale = 1.0f;
  float v_scale = 1.0f;
  int block_size = 16;
  int num_blocks = 0;
};

struct AttentionShape {
  int num_heads = 0;     // Hq
  int num_kv_heads = 0;  // Hkv, divides Hq
  int head_dim = 0;      // D: 64, 128, 256 on the fast paths; any even D up to 256 on the generic one
  float scale = 1.0f;    // softmax scale, usually 1 / sqrt(D)
};

struct AttentionBatch {
  const int32_t* cu_seqlens_q = nullptr;  // [num_seqs + 1], from 0 to num_tokens
  const int32_t* seqlens_k = nullptr;     // [num_seqs] tokens in the cache after this step
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks]
  int num_seqs = 0;
  int num_tokens = 0;  // T, rows of q and out
  int max_blocks = 0;
  int max_q = 0;  // max q_len over the batch (1 for a decode step)
  int max_s = 0;  // max seqlens_k over the batch
};

// Scratch the kernels may use (split-context partial results), in bytes, for a step of at most
// `max_tokens` query rows and `max_seqs` sequences whose contexts are at most `max_context` tokens.
size_t attention_workspace_bytes(int max_tokens, int max_seqs, int max_context,
                                 const AttentionShape& shape);

// q: row t of the query is at q + t * q_row_stride elements (the fused qkv buffer: q heads
// first, head h at column h * D); dtype `act` (F32 or BF16). out: [num_tokens, Hq * D] of `act`,
// contiguous. workspace: at least attention_workspace_bytes(...) bytes for this batch.
void paged_attention(const void* q, int64_t q_row_stride, DType act, const PagedKvView& kv,
                     const AttentionBatch& batch, const AttentionShape& shape, void* out,
                     void* workspace, size_t workspace_bytes, cudaStream_t stream);

}  // namespace lorax::cuda
