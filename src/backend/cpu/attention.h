// Attention on the CPU: rotary embedding, KV-cache writes, and causal attention of query chunks
// over the paged cache (prefill chunks and decode alike). Layouts are those of backend.h (fused qkv rows, paged pools).
#pragma once

#include "backend/backend.h"
#include "core/thread_pool.h"

namespace lorax::cpu {

void rotary(ThreadPool& pool, Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
            const HeadLayout& heads);
void kv_write(const Tensor& qkv, const Tensor& slots, const HeadLayout& heads, KvCacheLayer& cache);
void attention(ThreadPool& pool, const Tensor& qkv, const KvCacheLayer& cache,
               const AttentionChunks& chunks, const HeadLayout& heads, float scale, Tensor& out);

}  // namespace lorax::cpu
