#include "backend/cpu/cpu_backend.h"

#include <unistd.h>

#include <cmath>
#include <cstring>

#include "backend/cpu/attention.h"
#include "backend/cpu/elementwise.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/lora.h"
#include "core/error.h"

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

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  LORAX_CHECK(src.nbytes() == dst.nbytes(), "copy: ", src.describe(), " into ", dst.describe());
  if (src.nbytes() > 0 && src.raw() != dst.raw()) std::memcpy(dst.raw(), src.raw(), src.nbytes());
}

DeviceMemoryInfo CpuBackend::memory_info() const {
  const auto page = size_t(sysconf(_SC_PAGESIZE));
  return {size_t(sysconf(_SC_AVPHYS_PAGES)) * page, size_t(sysconf(_SC_PHYS_PAGES)) * page};
}

void CpuBackend::linear(const Tensor& x, const Tensor& w, Tensor& y) {
  cpu::linear(pool_, x, w, y);
}
void CpuBackend::rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                          Tensor& out) {
  cpu::rms_norm(pool_, x, w, eps, weight_offset, out);
}
void CpuBackend::add_rms_norm(Tensor& residual, const Tensor& x, const Tensor& w, float eps,
                              float weight_offset, Tensor& out) {
  cpu::add(pool_, residual, x);
  cpu::rms_norm(pool_, residual, w, eps, weight_offset, out);
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
void CpuBackend::rotary_kv_write(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                                 const HeadLayout& heads, const Tensor& slots,
                                 KvCacheLayer& cache) {
  cpu::rotary(pool_, qkv, positions, cos_sin, heads);
  cpu::kv_write(qkv, slots, heads, cache);
}
void CpuBackend::gated_activation(const Tensor& gate_up, Activation act, Tensor& out) {
  cpu::gated_activation(pool_, gate_up, act, out);
}
void CpuBackend::attention(const Tensor& qkv, const KvCacheLayer& cache,
                           const AttentionChunks& chunks, const HeadLayout& heads, float scale,
                           Tensor& out) {
  cpu::attention(pool_, qkv, cache, chunks, heads, scale, out);
}

void CpuBackend::lora_configure(int64_t num_slots, int64_t) {
  LORAX_CHECK(num_slots >= 0, "lora_configure: ", num_slots, " slots");
  lora_slots_.assign(size_t(num_slots), nullptr);
}

void CpuBackend::lora_load(int64_t slot, std::shared_ptr<const LoraWeightSet> weights, DType) {
  LORAX_CHECK(slot >= 0 && slot < int64_t(lora_slots_.size()), "lora_load: slot ", slot,
              " outside the pool of ", lora_slots_.size());
  lora_slots_[size_t(slot)] = std::move(weights);  // f32 on the host already: shared, not copied
}

void CpuBackend::lora(const Tensor& x, const LoraStep& step, int64_t layer,
                      std::span<const LoraSlice> slices, Tensor& y) {
  for (const LoraSlice& slice : slices) {
    std::vector<LoraSegment> segments;
    for (size_t s = 0; s < step.host_seg_slot.size(); ++s) {
      if (step.host_seg_slot[s] < 0) continue;  // base rows between two adapters
      const LoraWeightSet* set = lora_slots_[size_t(step.host_seg_slot[s])].get();
      const LoraWeights& w = set->at(layer, slice.target);
      if (w.defined()) segments.push_back({step.host_seg_start[s], step.host_seg_start[s + 1], &w});
    }
    if (!segments.empty()) cpu::lora(pool_, x, segments, slice.column, y);
  }
}

std::vector<TokenLogprob> CpuBackend::sample(const Tensor& logits,
                                             const std::vector<SampleRow>& rows) {
  LORAX_CHECK(logits.dtype() == DType::F32 && logits.dim(0) >= int64_t(rows.size()),
              "sample: logits ", logits.describe(), " for ", rows.size(), " rows");
  const int64_t vocab = logits.dim(1);
  std::vector<TokenLogprob> out(rows.size());
  pool_.parallel_for(int64_t(rows.size()), [&](int64_t r) {
    out[size_t(r)] = sample_row(logits.data<float>() + r * vocab, vocab, rows[size_t(r)]);
  });
  return out;
}

// Run once per Medusa head and step over a few rows: a plain loop, not worth the pool.
void CpuBackend::bias_silu_residual(const Tensor& x, const Tensor& y, const Tensor& bias,
                                    Tensor& out) {
  LORAX_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::F32 && out.dtype() == DType::F32 &&
                  bias.dtype() == DType::F32,
              "bias_silu_residual: the CPU backend takes f32 tensors");
  const int64_t N = bias.numel(), T = x.numel() / N;
  const float* xp = x.data<float>();
  const float* yp = y.data<float>();
  const float* bp = bias.data<float>();
  float* op = out.data<float>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < N; ++i) {
      const float v = yp[t * N + i] + bp[i];
      op[t * N + i] = xp[t * N + i] + v / (1.0f + std::exp(-v));
    }
}

}  // namespace lorax
