// A decoder-only causal LM (Llama or Gemma) written once against the backend's ops.
//
// forward(batch, kv_cache) follows the seeds' contract: a flat batch (prefill chunks or decode),
// the engine's paged KV cache, lm_head_indices and skip_lm_head. The model owns its weights, the
// rotary table and a workspace (activations, the step's packed inputs) planned for the largest
// step, never KV memory and never batching decisions.
//
// Activations are in `activation_dtype()`: F32 on the CPU reference, BF16 (or F32 for checks at
// full precision) on CUDA. The residual stream between layers stays F32 whatever the activation
// dtype (as llama.cpp keeps it): rounding it to bf16 at every layer would cost accuracy for
// T x H x 2 bytes saved. Logits always leave the LM head in F32.
//
// A step's inputs are checked on the host (check_batch: every position, slot, block id,
// sequence length, head row and adapter slot) and packed into one pinned buffer uploaded once;
// the ops trust them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "io/model_config.h"
#include "model/architecture.h"
#include "model/forward_batch.h"
#include "model/lora_plan.h"
#include "model/medusa.h"
#include "model/weights.h"

namespace lorax {

struct ForwardOutput {
  // [R, V] f32 on the backend's device; hidden states [R, H] (activation dtype) when
  // skip_lm_head. A view of the model's workspace: valid until the next forward.
  Tensor logits;
  // [R, S, V] f32 beside the logits when speculative heads are set (set_speculative_heads):
  // row r's S heads' logits, head i guessing the token i + 1 places after the one row r's
  // logits choose. Undefined without heads, and with skip_lm_head.
  Tensor speculative_logits;
};

class CausalLM {
 public:
  CausalLM(ModelConfig config, ModelWeights weights, Backend& backend,
           DType activation = DType::F32);

  // Reads DIR/config.json (+ generation_config.json) and the safetensors weights. activation:
  // F32 or BF16 (weights are kept as backend.weight_dtype() says for it).
  static std::unique_ptr<CausalLM> load(const std::string& dir, Backend& backend,
                                        DType activation = DType::F32);

  const ModelConfig& config() const { return config_; }
  const Architecture& architecture() const { return arch_; }
  const ModelWeights& weights() const { return weights_; }
  HeadLayout heads() const { return heads_; }
  Backend& backend() const { return backend_; }
  DType activation_dtype() const { return activation_; }
  int64_t max_positions() const { return cos_sin_.dim(0); }

  // Plans the workspace (and the backend's scratch) for steps of up to max_tokens rows and
  // max_sequences sequences. A larger step later grows it, once (a long prompt admitted alone).
  void plan(int64_t max_tokens, int64_t max_sequences);
  int64_t planned_tokens() const { return capacity_.max_tokens; }

  // The adapter pool: `num_slots` slots on the backend; load_adapter puts an adapter's weights
  // into one (nullptr empties it), and its Medusa heads (on the host, uploaded here) if it has
  // any: those must be version 2 with as many heads as the model's own (set_speculative_heads),
  // which score every row that names no other. Steps name slots in adapter_data.token_slot and
  // head_slot.
  void configure_adapter_slots(int64_t num_slots);
  void load_adapter(int64_t slot, std::shared_ptr<const LoraWeightSet> weights,
                    std::shared_ptr<const MedusaHeads> heads = nullptr);
  // Why `heads` cannot ride on this model as a request's adapter ("" when they can).
  std::string adapter_heads_refusal(const MedusaHeads& heads) const;
  int64_t adapter_slots() const { return int64_t(slot_rank_.size()); }

  ForwardOutput forward(const ForwardBatch& batch, std::vector<KvCacheLayer>& kv_cache);

  // Speculative heads (medusa.h) scored on every logits row of every step; null removes them.
  // Throws for a family whose forward has no speculative logits (Gemma). A LoRA adapter of the
  // LM head changes the logits, not the heads' guesses (they are only drafts). Steps with heads
  // run op by op (no step graphs).
  void set_speculative_heads(std::shared_ptr<const MedusaHeads> heads);
  const MedusaHeads* speculative_heads() const { return medusa_.get(); }

  // Step graphs: on a backend that records them (CUDA), a decode step without adapters is
  // padded to a bucket of batch sizes and context lengths, recorded once per bucket, and then
  // replayed as one launch; the padding rows write no cache slot and their logits are not
  // returned. On by default; off runs every step op by op (--enforce-eager).
  void set_step_graphs(bool enabled);
  bool step_graphs() const { return step_graphs_ && backend_.supports_step_graphs(); }
  int64_t recorded_step_graphs() const { return int64_t(graphs_.size()); }

 private:
  // Views of one step's inputs in the device step buffer.
  struct StepInputs {
    Tensor input_ids, positions, slots, lm_rows;
    // Speculative heads: the lm rows grouped by the heads that score them (one group unless
    // adapters bring their own), gathered in group order by speculative_rows; group g's head i
    // logits are rows [S * start + i * count, + count) of head_logits, and speculative_order
    // maps row r * S + i of the result there.
    struct HeadGroup {
      const MedusaHeads* heads;
      int64_t start, count;
    };
    std::vector<HeadGroup> head_groups;
    Tensor speculative_rows, speculative_order;
    AttentionChunks chunks;
    LoraStep lora_tokens, lora_lm;
  };
  // Activation buffers, [capacity rows, width] each; a step uses their first rows.
  struct Workspace {
    Tensor hidden, normed, qkv, attn, out, gate_up, act;
    Tensor lm_hidden, lm_normed, logits;
    // Speculative heads: hidden states and logits head-major ([S * rows, .]), then [rows * S, V].
    Tensor medusa_in, medusa_x, medusa_y, head_logits, speculative;
    Tensor step_host, step_device;  // packed i32 step inputs: pinned staging and device copy
  };
  void check_batch(const ForwardBatch& batch, const std::vector<KvCacheLayer>& kv_cache) const;
  std::vector<int32_t> lm_rows_of(const ForwardBatch& batch) const;
  StepInputs upload_inputs(const ForwardBatch& batch, const std::vector<int32_t>& lm_rows);
  void ensure_capacity(int64_t tokens, int64_t sequences, int64_t lm_rows, int64_t step_ints);
  void attention_block(int64_t index, KvCacheLayer& cache, const StepInputs& in, int64_t T);
  void mlp_block(int64_t index, const StepInputs& in, int64_t T);
  Tensor run_speculative_heads(const Tensor& lm_normed, const StepInputs& in, int64_t R);
  // The step's ops, from the embedding to the LM head, over inputs already on the device.
  ForwardOutput run_ops(const StepInputs& in, int64_t T, int64_t R, bool skip_lm_head,
                        std::vector<KvCacheLayer>& kv_cache);
  bool graphable(const ForwardBatch& batch) const;
  ForwardOutput forward_graphed(const ForwardBatch& batch, std::vector<KvCacheLayer>& kv_cache);
  std::unique_ptr<StepGraph> record(const StepInputs& in, int64_t T,
                                    std::vector<KvCacheLayer>& kv_cache);

  ModelConfig config_;
  const Architecture& arch_;
  ModelWeights weights_;
  Backend& backend_;
  DType activation_;
  HeadLayout heads_;
  Tensor cos_sin_;  // [max_positions, D] f32 on the device
  StepCapacity capacity_;
  int64_t logits_rows_ = 0;  // capacity of the logits buffers
  Workspace ws_;
  std::vector<int64_t> slot_rank_;  // largest rank of the adapter in each slot, 0 when empty
  std::shared_ptr<const MedusaHeads> medusa_;
  std::vector<std::shared_ptr<const MedusaHeads>> slot_heads_;  // adapters' heads, on the device

  // Recorded decode steps by (padded batch size, padded context). They hold the addresses of
  // the workspace and of the KV cache they were recorded with: growing the workspace or
  // stepping another cache drops them. A cache is known by every layer's K and V address and
  // its block count: a new cache may reuse the first layer's address but not the others'.
  bool step_graphs_ = true;
  std::map<std::pair<int64_t, int64_t>, std::unique_ptr<StepGraph>> graphs_;
  std::vector<uintptr_t> graphs_cache_;
};

}  // namespace lorax
