// The paged KV cache: per-layer K/V block pools on the device plus the block manager.
//
// A sequence owns a list of blocks (its block table); token p of the sequence lives in block
// table[p / block_size] at offset p % block_size, i.e. cache slot
// table[p / block_size] * block_size + p % block_size.
//
// Prefix caching: a FULL block whose K/V are computed may be published under a content key,
// the hash chain of (owner, its tokens, the previous block's hash), where the owner names the
// adapter that computed it (0 for the base model; an adapter reloaded gets a new owner, so its
// old blocks never match). A new sequence takes the published blocks of its longest matching
// prefix (match) and computes only the rest. Shared blocks are reference counted. Only full
// blocks are ever shared, and a sequence only writes positions past what it matched, so a
// shared block is never written: no copy-on-write is needed. A block nobody reads any more stays
// published (evictable) until allocation needs room, least recently released first; a block
// someone reads is never handed out again.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <utility>
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

// What a published block holds: enough to tell a hash collision from a real match.
struct KvBlockKey {
  uint64_t parent = 0;  // hash of the previous block of the sequence, 0 for the first
  uint64_t owner = 0;   // adapter identity and load generation; 0: the base model
  std::vector<int32_t> tokens;
  uint64_t hash() const;
  bool operator==(const KvBlockKey&) const = default;
};

class KvBlockAllocator {
 public:
  explicit KvBlockAllocator(int64_t num_blocks);
  int64_t num_blocks() const { return total_; }
  // Blocks nobody reads: never used, or published and evictable.
  int64_t num_free() const { return int64_t(free_.size() + evictable_.size()); }
  int64_t num_cached() const { return int64_t(published_.size()); }  // published blocks
  int64_t evictions() const { return evictions_; }
  bool can_allocate(int64_t n) const { return n <= num_free(); }
  // Appends n block ids to `table`, evicting published blocks nobody reads (least recently
  // released first) when the free list runs out. Throws if fewer than n are free (callers check
  // first).
  void allocate(int64_t n, std::vector<int32_t>& table);
  // Drops the table's reference to each of its blocks and clears it.
  void release(std::vector<int32_t>& table);

  // Appends to `table` the published blocks of the longest prefix of `keys` (a chain: keys[i]
  // .parent == keys[i - 1].hash()) and takes a reference to each; returns how many.
  int64_t match(const std::vector<KvBlockKey>& keys, std::vector<int32_t>& table);
  // Publishes a full, computed block the caller holds. A key already published under another
  // block is left as it is (this block stays private).
  void publish(int32_t block, KvBlockKey key);
  // Unpublishes every block of `owner` (an adapter unloaded); those nobody reads become free.
  void retire_owner(uint64_t owner);

 private:
  struct BlockState {
    int32_t refs = 0;
    uint64_t hash = 0;
    bool published = false;
  };
  int32_t take_block();
  void unpublish(int32_t block);

  int64_t total_;
  std::vector<int32_t> free_;  // a stack: recently freed blocks are reused first (warm in cache)
  std::vector<BlockState> state_;
  std::unordered_map<uint64_t, std::pair<int32_t, KvBlockKey>> published_;  // hash -> block
  std::list<int32_t> evictable_;  // published, nobody reads them: least recently released first
  std::unordered_map<int32_t, std::list<int32_t>::iterator> evictable_at_;
  int64_t evictions_ = 0;
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
