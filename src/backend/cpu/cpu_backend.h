// The CPU backend: the reference every other backend is tested against, and a usable engine for
// small models. Multi-threaded through its own pool; the AVX-512 matmul is picked at run time.
#pragma once

#include "backend/backend.h"
#include "core/thread_pool.h"

namespace lorax {

class CpuBackend final : public Backend {
 public:
  // threads <= 0: one per hardware thread.
  explicit CpuBackend(int threads = 0);

  std::string name() const override;
  Device device() const override { return Device::CPU; }
  int threads() const { return pool_.size(); }

  Tensor alloc(const Shape& shape, DType dtype) override;
  Tensor zeros(const Shape& shape, DType dtype) override;
  Tensor upload(const Tensor& host) override { return host; }
  Tensor download(const Tensor& tensor) override { return tensor; }

  void linear(const Tensor& x, const Tensor& w, Tensor& y) override;
  void rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                Tensor& out) override;
  void add(Tensor& x, const Tensor& y) override;
  void embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) override;
  void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) override;
  void rotary(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
              const HeadLayout& heads) override;
  void gated_activation(const Tensor& gate_up, Activation act, Tensor& out) override;
  void kv_write(const Tensor& qkv, const Tensor& slots, const HeadLayout& heads,
                KvCacheLayer& cache) override;
  void prefill_attention(const Tensor& qkv, const Tensor& cu_seqlens, const HeadLayout& heads,
                         float scale, Tensor& out) override;
  void paged_attention(const Tensor& qkv, const KvCacheLayer& cache, const Tensor& block_tables,
                       const Tensor& seqlens, const HeadLayout& heads, float scale,
                       Tensor& out) override;
  void lora(const Tensor& x, const std::vector<LoraSegment>& segments, int64_t column,
            Tensor& y) override;

 private:
  ThreadPool pool_;
};

}  // namespace lorax
