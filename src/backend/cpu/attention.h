// Attention on the CPU: rotary embedding, KV-cache writes, varlen prefill attention and paged
// decode attention. Layouts are those of backend.h (fused qkv rows, paged pools).
#pragma once

#include "backend/backend.h"
#include "core/thread_pool.h"

namespace lorax::cpu {

void rotary(ThreadPool& pool, Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
            const HeadLayout& heads);
void kv_write(const Tensor& qkv, const Tensor& slots, const HeadLayout& heads, KvCacheLayer& cache);
void prefill_attention(ThreadPool& pool, const Tensor& qkv, const Tensor& cu_seqlens,
                       const HeadLayout& heads, float scale, Tensor& out);
void paged_attention(ThreadPool& pool, const Tensor& qkv, const KvCacheLayer& cache,
                     const Tensor& block_tables, const Tensor& seqlens, const HeadLayout& heads,
                     float scale, Tensor& out);

}  // namespace lorax::cpu
