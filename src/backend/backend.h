// The op interface the model is written against. Each op has one meaning on every device; the
// CPU backend (cpu/) is the reference the others are tested against (tests/backend: every op on
// every available backend, on random inputs).
//
// Conventions:
// - Activations are row-major [tokens, features] in the model's activation dtype: F32 (the CPU
//   reference, and the CUDA full-precision mode) or BF16 (CUDA). Inside every op arithmetic is
//   f32; results are rounded to the output's dtype once. `linear` may write an F32 output from
//   BF16 inputs (the LM head's logits). The residual stream is F32 beside BF16 activations:
//   embedding, rms_norm's input, add_rms_norm's residual, add's x and gather_rows take it.
// - Weights are [out, in] as stored in checkpoints; weight_dtype() says what a backend keeps
//   them as. Index tensors are I32.
// - The attention ops read the fused projection `qkv [T, (Hq + 2 * Hkv) * D]` in place (q heads,
//   then k heads, then v heads), so the model never splits or copies it.
// - Ops never allocate device memory per step and never check indices: the model checks every
//   index of a step on the host, in one place, before the step (CausalLM::check_batch), and the
//   backend sizes its scratch once, in reserve().
// - Ops are asynchronous on the backend's stream: results are visible to the host after
//   download() or synchronize().
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/lora.h"
#include "backend/sampling.h"
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

// The query chunks of one step, for attention. Sequence b contributes the rows
// [cu_seqlens_q[b], cu_seqlens_q[b+1]) of the step: the LAST q_len(b) of its seqlens_k[b]
// tokens, whose K/V (these rows' too) are already in the cache. Query i of the chunk sits at
// position seqlens_k[b] - q_len(b) + i and attends to cache positions up to its own. A decode
// step is q_len 1 everywhere; a prefill chunk may follow tokens cached by earlier steps.
struct AttentionChunks {
  Tensor cu_seqlens_q;  // [B + 1] i32, 0 .. T
  Tensor seqlens_k;     // [B] i32
  Tensor block_tables;  // [B, max_blocks] i32
  int64_t max_q = 0;    // largest q_len (1 for decode)
  int64_t max_s = 0;    // largest seqlens_k
  int64_t num_sequences() const { return seqlens_k.numel(); }
};

// A step's LoRA plan as the ops read it: runs of consecutive rows sharing an adapter slot
// (model/lora_plan.h). Rows of the base model belong to no segment, or to a segment of slot -1
// between two adapters', and cost nothing.
struct LoraStep {
  Tensor seg_start;  // [S + 1] i32 row ranges, ascending
  Tensor seg_slot;   // [S] i32 slot of each segment, -1: skipped
  Tensor row_slot;   // [rows] i32 slot of each row, -1 for the base model
  std::vector<int32_t> host_seg_start, host_seg_slot;  // the same segments, on the host
  int64_t max_rank = 0;  // largest rank of any adapter the segments use
  bool empty() const { return host_seg_slot.empty(); }
};

// One slice of a (possibly fused) projection that LoRA adds into: columns [column, column + out)
// of y get the update of `target`.
struct LoraSlice {
  LoraTarget target;
  int64_t column = 0;
};

// The largest step the backend must be ready for; reserve() sizes its scratch for it.
struct StepCapacity {
  int64_t max_tokens = 0;     // rows of a step
  int64_t max_sequences = 0;  // sequences of a step
  int64_t max_context = 0;    // tokens of one sequence's context
  int64_t vocab = 0;          // logits columns, for the sampling op
  int64_t max_lora_rank = 0;  // largest adapter rank the LoRA op may meet
  HeadLayout heads;           // the attention op's heads
};

// A step's ops recorded once and replayed as one launch (CUDA graphs): no per-op launch cost,
// no gaps between kernels. A replay reads and writes exactly the buffers the capture did, so
// callers refill those buffers between replays and never move them.
class StepGraph {
 public:
  virtual ~StepGraph() = default;
  virtual void replay() = 0;
};

struct DeviceMemoryInfo {
  size_t free = 0;
  size_t total = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Device device() const = 0;

  // ---- memory and transfers ----
  virtual Tensor alloc(const Shape& shape, DType dtype) = 0;
  virtual Tensor zeros(const Shape& shape, DType dtype) = 0;
  // Page-locked host memory, the staging area of asynchronous transfers (plain memory on CPU).
  virtual Tensor alloc_pinned(const Shape& shape, DType dtype) = 0;
  // Copies a host tensor to a new tensor on this device (the CPU backend shares it). Returns
  // once the host memory may be reused.
  virtual Tensor upload(const Tensor& host) = 0;
  // Copies to host memory (the CPU backend shares it); waits for the stream.
  virtual Tensor download(const Tensor& tensor) = 0;
  // dst = src, same byte size, any direction between host and this device. Asynchronous on the
  // backend's stream when the host side is pinned: the host tensor must stay untouched until
  // synchronize().
  virtual void copy(const Tensor& src, Tensor& dst) = 0;
  virtual void synchronize() = 0;
  virtual DeviceMemoryInfo memory_info() const = 0;
  // The dtype this backend keeps a weight matrix stored as `stored` in, for activations of
  // `activation` (the CPU reads any float dtype as it is; cuBLASLt wants both operands alike).
  virtual DType weight_dtype(DType stored, DType activation) const = 0;
  // Sizes scratch buffers for the largest step; ops on bigger steps are an error.
  virtual void reserve(const StepCapacity& capacity) = 0;
  const StepCapacity& capacity() const { return capacity_; }
  Tensor upload_i32(const std::vector<int32_t>& values);

  // ---- ops ----
  // y[T, N] = x[T, K] . w[N, K]^T.
  virtual void linear(const Tensor& x, const Tensor& w, Tensor& y) = 0;
  // out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * (w + weight_offset); Gemma uses offset 1.
  virtual void rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                        Tensor& out) = 0;
  // residual += x, then out = rms_norm(residual) as above, in one pass.
  virtual void add_rms_norm(Tensor& residual, const Tensor& x, const Tensor& w, float eps,
                            float weight_offset, Tensor& out) = 0;
  // x += y, elementwise.
  virtual void add(Tensor& x, const Tensor& y) = 0;
  // out[t] = table[ids[t]] * scale; table [V, H] f32/bf16/f16, out [T, H].
  virtual void embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) = 0;
  // out[t] = x[t] + silu(y[t] + bias): a Medusa head's residual block. x, out [T, N] in the
  // activation dtype (out may be x), y [T, N] in it or f32 (the block's product before rounding),
  // bias [N] f32, added to every row.
  virtual void bias_silu_residual(const Tensor& x, const Tensor& y, const Tensor& bias,
                                  Tensor& out) = 0;
  // out[i] = x[indices[i]] (rows).
  virtual void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) = 0;
  // Rotates the q and k heads of qkv in place (rotate-half convention of HF checkpoints), then
  // writes the k and v heads of token t into cache slot slots[t] (block = slot / block_size);
  // negative slots are not written. cos_sin [max_pos, D] f32: row p holds cos(p * f_i) for
  // i < D/2, then sin(p * f_i).
  virtual void rotary_kv_write(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                               const HeadLayout& heads, const Tensor& slots,
                               KvCacheLayer& cache) = 0;
  // out[T, I] = act(gate_up[:, :I]) * gate_up[:, I:].
  virtual void gated_activation(const Tensor& gate_up, Activation act, Tensor& out) = 0;
  // Causal attention of the step's query chunks over the paged cache. out [T, Hq * D].
  virtual void attention(const Tensor& qkv, const KvCacheLayer& cache,
                         const AttentionChunks& chunks, const HeadLayout& heads, float scale,
                         Tensor& out) = 0;

  // ---- LoRA: a pool of adapter slots on the device ----
  // Makes room for `num_slots` adapters of a `num_layers`-layer model (drops what was loaded).
  virtual void lora_configure(int64_t num_slots, int64_t num_layers) = 0;
  // Loads an adapter's weights into a slot (stored in `activation` dtype), or empties the slot
  // (nullptr). The upload runs on the backend's stream, ordered with the steps.
  virtual void lora_load(int64_t slot, std::shared_ptr<const LoraWeightSet> weights,
                         DType activation) = 0;
  // For every slice: y[r, column : column + out] += scale * (x[r] . A^T) . B^T with the A/B of
  // the slot of row r's segment for that slice's target in `layer` (ignored for LmHead).
  virtual void lora(const Tensor& x, const LoraStep& step, int64_t layer,
                    std::span<const LoraSlice> slices, Tensor& y) = 0;

  // ---- step graphs ----
  // Whether ops can be recorded into a StepGraph; when not, the model runs every step eagerly.
  virtual bool supports_step_graphs() const { return false; }
  // Between these two calls the ops are recorded on the backend's stream, not run. Nothing else
  // may use the backend meanwhile (no transfers, no synchronize).
  virtual void begin_step_graph();
  virtual std::unique_ptr<StepGraph> end_step_graph();

  // ---- sampling ----
  // One token (chosen or forced) per row of logits [rows, V] f32, with its log-probabilities.
  // Only these small results come back to the host.
  virtual std::vector<TokenLogprob> sample(const Tensor& logits,
                                           const std::vector<SampleRow>& rows) = 0;

 protected:
  StepCapacity capacity_;
};

}  // namespace lorax
