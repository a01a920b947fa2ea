// The op interface the model is written against. Each op has one meaning on every device; the
// CPU backend (cpu/) is the reference the others are tested against.
//
// Conventions: activations are f32 row-major [tokens, features]; weights are [out, in] as stored
// in checkpoints (f32, bf16 or f16); index tensors are i32. The attention ops read the fused
// projection `qkv [T, (Hq + 2 * Hkv) * D]` in place (q heads, then k heads, then v heads), so the
// model never splits or copies it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/lora.h"
#include "core/tensor.h"
#include "io/model_config.h"

namespace lorax {

struct HeadLayout {
  int64_t num_heads = 0;     // Hq
  int64_t num_kv_heads = 0;  // Hkv; Hq is a multiple of it (GQA/MQA)
  int64_t head_dim = 0;      // D
  int64_t qkv_width() const { return (num_heads + 2 * num_kv_heads) * head_dim; }
  int64_t q_width() const { return num_heads * head_dim; }
  int64_t kv_width() const { return num_kv_heads * head_dim; }
};

// One layer's paged KV pools. The engine allocates them; ops read and write through slots and
// block tables. An FP8 cache stores x / scale and reads back q * scale.
struct KvCacheLayer {
  Tensor k;  // [num_blocks, block_size, Hkv, D], dtype f32, bf16, f16 or fp8_e4m3
  Tensor v;  // [num_blocks, block_size, Hkv, D]
  float k_scale = 1.0f;
  float v_scale = 1.0f;
  int64_t block_size() const { return k.dim(1); }
  int64_t num_blocks() const { return k.dim(0); }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Device device() const = 0;

  // ---- memory ----
  virtual Tensor alloc(const Shape& shape, DType dtype) = 0;
  virtual Tensor zeros(const Shape& shape, DType dtype) = 0;
  // Copies a host tensor to this device (the CPU backend shares it).
  virtual Tensor upload(const Tensor& host) = 0;
  // Copies to host memory (the CPU backend shares it).
  virtual Tensor download(const Tensor& tensor) = 0;
  Tensor upload_i32(const std::vector<int32_t>& values);

  // ---- ops ----
  // y[T, N] = x[T, K] . w[N, K]^T (w f32, bf16 or f16).
  virtual void linear(const Tensor& x, const Tensor& w, Tensor& y) = 0;
  // out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * (w + weight_offset); Gemma uses offset 1.
  virtual void rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                        Tensor& out) = 0;
  // x += y, elementwise.
  virtual void add(Tensor& x, const Tensor& y) = 0;
  // out[t] = table[ids[t]] * scale; table [V, H] f32/bf16/f16, out [T, H] f32.
  virtual void embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) = 0;
  // out[i] = x[indices[i]] (rows).
  virtual void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) = 0;
  // Rotates the q and k heads of qkv in place (rotate-half convention of HF checkpoints).
  // cos_sin [max_pos, D]: row p holds cos(p * f_i) for i < D/2, then sin(p * f_i).
  virtual void rotary(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                      const HeadLayout& heads) = 0;
  // out[T, I] = act(gate_up[:, :I]) * gate_up[:, I:].
  virtual void gated_activation(const Tensor& gate_up, Activation act, Tensor& out) = 0;
  // Writes the k and v heads of token t into cache slot slots[t] (block = slot / block_size).
  // Negative slots are skipped (padding).
  virtual void kv_write(const Tensor& qkv, const Tensor& slots, const HeadLayout& heads,
                        KvCacheLayer& cache) = 0;
  // Causal attention within each sequence of a flat prefill batch, over the step's own k/v:
  // sequence b spans tokens [cu_seqlens[b], cu_seqlens[b+1]). out [T, Hq * D].
  virtual void prefill_attention(const Tensor& qkv, const Tensor& cu_seqlens,
                                 const HeadLayout& heads, float scale, Tensor& out) = 0;
  // One query token per sequence (qkv [B, ...]) attending to its first seqlens[b] cached tokens,
  // found through block_tables [B, max_blocks]. out [B, Hq * D].
  virtual void paged_attention(const Tensor& qkv, const KvCacheLayer& cache,
                               const Tensor& block_tables, const Tensor& seqlens,
                               const HeadLayout& heads, float scale, Tensor& out) = 0;
  // Segmented LoRA (SGMV): for each segment, y[begin:end, column:column+out] +=
  // scale * (x[begin:end] . A^T) . B^T, the shrink to rank r then the expand. Segments may use
  // different ranks; rows in no segment are untouched.
  virtual void lora(const Tensor& x, const std::vector<LoraSegment>& segments, int64_t column,
                    Tensor& y) = 0;
};

}  // namespace lorax
