// The paged KV cache: per-layer K/V block pools on the device plus the free list of block ids.
//
// A sequence owns a list of blocks (its block table); token p of the sequence lives in block
// table[p / block_size] at offset p % block_size, i.e. cache slot
// table[p / block_size] * block_size + p % block_size. Blocks are handed out and taken back
// whole; nothing is ever shared, so freeing is just returning ids.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "model/causal_lm.h"

namespace lorax {

struct KvCacheOptions {
  int64_t num_blocks = 512;
  int64_t block_size = 16;
  // The cache's element type: the activation dtype (f32 on CPU), bf16, f16 or fp8_e4m3.
  DType dtype = DType::F32;
};

class KvBlockAllocator {
 public:
  explicit KvBlockAllocator(int64_t num_blocks);
  int64_t num_blocks() const { return total_; }
  int64_t num_free() const { return int64_t(free_.size()); }
  bool can_allocate(int64_t n) const { return n <= num_free(); }
  // Appends n block ids to `table`. Throws if fewer than n are free (callers check first).
  void allocate(int64_t n, std::vector<int32_t>& table);
  void release(std::vector<int32_t>& table);  // returns all of `table` and clears it

 private:
  int64_t total_;
  std::vector<int32_t> free_;  // a stack: recently freed blocks are reused first (warm in cache)
};

class PagedKvCache {
 public:
  PagedKvCache(const CausalLM& model, const KvCacheOptions& options);

  std::vector<KvCacheLayer>& layers() { return layers_; }
  KvBlockAllocator& blocks() { return blocks_; }
  const KvBlockAllocator& blocks() const { return blocks_; }
  int64_t block_size() const { return options_.block_size; }
  DType dtype() const { return options_.dtype; }
  size_t nbytes() const;
  int64_t blocks_for(int64_t tokens) const {
    return (tokens + options_.block_size - 1) / options_.block_size;
  }

 private:
  KvCacheOptions options_;
  std::vector<KvCacheLayer> layers_;
  KvBlockAllocator blocks_;
};

}  // namespace lorax
