// The CPU backend: the reference every other backend is tested against, and a usable engine for
// small models. Multi-threaded through its own pool; the AVX-512 matmul is picked at run time.
// Activations are f32. Tensors live in host memory, so transfers are copies or shares and the
// "stream" is the calling thread: every op has finished when it returns.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "core/thread_pool.h"

namespace lorax {

class CpuBackend : public Backend {
 public:
  // threads <= 0: one per hardware thread.
  explicit CpuBackend(int threads = 0);

  std::string name() const override;
  Device device() const override { return Device::CPU; }
  int threads() const { return pool_.size(); }

  Tensor alloc(const Shape& shape, DType dtype) override;
  Tensor zeros(const Shape& shape, DType dtype) override;
  Tensor alloc_pinned(const Shape& shape, DType dtype) override { return alloc(shape, dtype); }
  Tensor upload(const Tensor& host) override { return host; }
  Tensor download(const Tensor& tensor) override { return tensor; }
  void copy(const Tensor& src, Tensor& dst) override;
  void synchronize() override {}
  DeviceMemoryInfo memory_info() const override;
  DType weight_dtype(DType stored, DType) const override { return stored; }
  void reserve(const StepCapacity& capacity) override { capacity_ = capacity; }

  void linear(const Tensor& x, const Tensor& w, Tensor& y) override;
  void rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                Tensor& out) override;
  void add_rms_norm(Tensor& residual, const Tensor& x, const Tensor& w, float eps,
                    float weight_offset, Tensor& out) override;
  void add(Tensor& x, const Tensor& y) override;
  void embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) override;
  void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) override;
  void bias_silu_residual(const Tensor& x, const Tensor& y, const Tensor& bias,
                          Tensor& out) override;
  void rotary_kv_write(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                       const HeadLayout& heads, const Tensor& slots, KvCacheLayer& cache) override;
  void gated_activation(const Tensor& gate_up, Activation act, Tensor& out) override;
  void attention(const Tensor& qkv, const KvCacheLayer& cache, const AttentionChunks& chunks,
                 const HeadLayout& heads, float scale, Tensor& out) override;

  void lora_configure(int64_t num_slots, int64_t num_layers) override;
  void lora_load(int64_t slot, std::shared_ptr<const LoraWeightSet> weights,
                 DType activation) override;
  void lora(const Tensor& x, const LoraStep& step, int64_t layer,
            std::span<const LoraSlice> slices, Tensor& y) override;

  std::vector<TokenLogprob> sample(const Tensor& logits,
                                   const std::vector<SampleRow>& rows) override;

 private:
  ThreadPool pool_;
  std::vector<std::shared_ptr<const LoraWeightSet>> lora_slots_;  // [num_slots]
};

}  // namespace lorax
