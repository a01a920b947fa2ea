#include "engine/paged_kv_cache.h"

#include "core/error.h"

namespace lorax {

KvBlockAllocator::KvBlockAllocator(int64_t num_blocks) : total_(num_blocks) {
  LORAX_CHECK(num_blocks > 0 && num_blocks < (int64_t(1) << 31),
              "KV cache needs a positive "
              "number of blocks, got ",
              num_blocks);
  free_.reserve(size_t(num_blocks));
  for (int64_t i = num_blocks - 1; i >= 0; --i) free_.push_back(int32_t(i));
}

void KvBlockAllocator::allocate(int64_t n, std::vector<int32_t>& table) {
  LORAX_CHECK(can_allocate(n), "KV cache exhausted: ", n, " blocks wanted, ", num_free(), " free");
  for (int64_t i = 0; i < n; ++i) {
    table.push_back(free_.back());
    free_.pop_back();
  }
}

void KvBlockAllocator::release(std::vector<int32_t>& table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) free_.push_back(*it);
  table.clear();
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
