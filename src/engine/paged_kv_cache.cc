#include "engine/paged_kv_cache.h"

#include <cassert>

#include "core/error.h"

namespace lorax {

namespace {

// splitmix64's finalizer: a well-mixed 64-bit step for the hash chain.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t KvBlockKey::hash() const {
  uint64_t h = mix(parent ^ mix(owner));
  for (int32_t t : tokens) h = mix(h ^ uint64_t(uint32_t(t)));
  return h;
}

KvBlockAllocator::KvBlockAllocator(int64_t num_blocks)
    : total_(num_blocks), state_(size_t(num_blocks > 0 ? num_blocks : 0)) {
  LORAX_CHECK(num_blocks > 0 && num_blocks < (int64_t(1) << 31),
              "KV cache needs a positive "
              "number of blocks, got ",
              num_blocks);
  free_.reserve(size_t(num_blocks));
  for (int64_t i = num_blocks - 1; i >= 0; --i) free_.push_back(int32_t(i));
}

int32_t KvBlockAllocator::take_block() {
  if (free_.empty()) {
    // Evict the published block released longest ago; nobody reads it.
    const int32_t victim = evictable_.front();
    unpublish(victim);
    ++evictions_;
  }
  const int32_t block = free_.back();
  free_.pop_back();
  state_[size_t(block)].refs = 1;
  return block;
}

void KvBlockAllocator::allocate(int64_t n, std::vector<int32_t>& table) {
  LORAX_CHECK(can_allocate(n), "KV cache exhausted: ", n, " blocks wanted, ", num_free(), " free");
  for (int64_t i = 0; i < n; ++i) table.push_back(take_block());
}

void KvBlockAllocator::release(std::vector<int32_t>& table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    BlockState& s = state_[size_t(*it)];
    assert(s.refs > 0);
    if (--s.refs > 0) continue;
    if (s.published) {
      // Later blocks of a chain are released first, so the chain's head outlives its tail.
      evictable_at_[*it] = evictable_.insert(evictable_.end(), *it);
    } else {
      free_.push_back(*it);
    }
  }
  table.clear();
}

int64_t KvBlockAllocator::match(const std::vector<KvBlockKey>& keys, std::vector<int32_t>& table) {
  int64_t n = 0;
  for (const KvBlockKey& key : keys) {
    auto it = published_.find(key.hash());
    if (it == published_.end() || !(it->second.second == key)) break;
    const int32_t block = it->second.first;
    if (state_[size_t(block)].refs++ == 0) {
      evictable_.erase(evictable_at_[block]);
      evictable_at_.erase(block);
    }
    table.push_back(block);
    ++n;
  }
  return n;
}

void KvBlockAllocator::publish(int32_t block, KvBlockKey key) {
  BlockState& s = state_[size_t(block)];
  assert(s.refs > 0);
  if (s.published) return;
  const uint64_t h = key.hash();
  if (!published_.emplace(h, std::make_pair(block, std::move(key))).second) return;
  s.published = true;
  s.hash = h;
}

void KvBlockAllocator::unpublish(int32_t block) {
  BlockState& s = state_[size_t(block)];
  published_.erase(s.hash);
  s.published = false;
  if (s.refs > 0) return;  // freed when its last reader releases it
  evictable_.erase(evictable_at_[block]);
  evictable_at_.erase(block);
  free_.push_back(block);
}

void KvBlockAllocator::retire_owner(uint64_t owner) {
  std::vector<int32_t> blocks;
  for (const auto& [hash, entry] : published_)
    if (entry.second.owner == owner) blocks.push_back(entry.first);
  for (int32_t block : blocks) unpublish(block);
}

PagedKvCache::PagedKvCache(const CausalLM& model, const KvCacheOptions& options)
    : options_(options), blocks_(options.num_blocks) {
  const DType d = options.dtype;
  LORAX_CHECK(d == DType::F32 || d == DType::BF16 || d == DType::F16 || d == DType::F8E4M3,
              "unsupported KV cache dtype ", dtype_name(d), " (f32, bf16, f16 or fp8_e4m3)");
  LORAX_CHECK(options.block_size > 0 && options.block_size <= 1024, "bad KV block size ",
              options.block_size);
  const HeadLayout heads = model.heads();
  const Shape shape{options.num_blocks, options.block_size, heads.num_kv_heads, heads.head_dim};
  Backend& backend = model.backend();
  for (const auto& w : model.weights().layers) {
    KvCacheLayer layer;
    layer.k = backend.zeros(shape, d);
    layer.v = backend.zeros(shape, d);
    // Scales only mean something for fp8; other dtypes store values as they are.
    layer.k_scale = d == DType::F8E4M3 ? w.k_scale : 1.0f;
    layer.v_scale = d == DType::F8E4M3 ? w.v_scale : 1.0f;
    layers_.push_back(std::move(layer));
  }
}

size_t PagedKvCache::nbytes() const {
  size_t total = 0;
  for (const auto& l : layers_) total += l.k.nbytes() + l.v.nbytes();
  return total;
}

}  // namespace lorax
