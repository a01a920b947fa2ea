#include "backend/cpu/cpu_backend.h"

#include "backend/cpu/attention.h"
#include "backend/cpu/elementwise.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/lora.h"

namespace lorax {

CpuBackend::CpuBackend(int threads) : pool_(threads) {}

std::string CpuBackend::name() const {
  return std::string("cpu (") + std::to_string(pool_.size()) + " threads, " +
         (cpu::cpu_has_avx512() ? "avx512" : "portable") + " matmul)";
}

Tensor CpuBackend::alloc(const Shape& shape, DType dtype) {
  return Tensor::empty(shape, dtype);
}
Tensor CpuBackend::zeros(const Shape& shape, DType dtype) {
  return Tensor::zeros(shape, dtype);
}

void CpuBackend::linear(const Tensor& x, const Tensor& w, Tensor& y) {
  cpu::linear(pool_, x, w, y);
}
void CpuBackend::rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                          Tensor& out) {
  cpu::rms_norm(pool_, x, w, eps, weight_offset, out);
}
void CpuBackend::add(Tensor& x, const Tensor& y) {
  cpu::add(pool_, x, y);
}
void CpuBackend::embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) {
  cpu::embedding(pool_, ids, table, scale, out);
}
void CpuBackend::gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) {
  cpu::gather_rows(x, indices, out);
}
void CpuBackend::rotary(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                        const HeadLayout& heads) {
  cpu::rotary(pool_, qkv, positions, cos_sin, heads);
}
void CpuBackend::gated_activation(const Tensor& gate_up, Activation act, Tensor& out) {
  cpu::gated_activation(pool_, gate_up, act, out);
}
void CpuBackend::kv_write(const Tensor& qkv, const Tensor& slots, const HeadLayout& heads,
                          KvCacheLayer& cache) {
  cpu::kv_write(qkv, slots, heads, cache);
}
void CpuBackend::prefill_attention(const Tensor& qkv, const Tensor& cu_seqlens,
                                   const HeadLayout& heads, float scale, Tensor& out) {
  cpu::prefill_attention(pool_, qkv, cu_seqlens, heads, scale, out);
}
void CpuBackend::paged_attention(const Tensor& qkv, const KvCacheLayer& cache,
                                 const Tensor& block_tables, const Tensor& seqlens,
                                 const HeadLayout& heads, float scale, Tensor& out) {
  cpu::paged_attention(pool_, qkv, cache, block_tables, seqlens, heads, scale, out);
}

void CpuBackend::lora(const Tensor& x, const std::vector<LoraSegment>& segments, int64_t column,
                      Tensor& y) {
  cpu::lora(pool_, x, segments, column, y);
}

}  // namespace lorax
