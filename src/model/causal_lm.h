// A decoder-only causal LM (Llama or Gemma) written once against the backend's ops.
//
// forward(batch, kv_cache) follows the seeds' contract: a flat batch (prefill or decode), the
// engine's paged KV cache, lm_head_indices and skip_lm_head. The model owns its weights and the
// rotary table, never KV memory and never batching decisions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "io/model_config.h"
#include "model/architecture.h"
#include "model/forward_batch.h"
#include "model/lora_plan.h"
#include "model/weights.h"

namespace lorax {

struct ForwardOutput {
  Tensor logits;              // [R, V] f32; hidden states [R, H] when skip_lm_head
  Tensor speculative_logits;  // undefined: these models have no speculative heads
};

class CausalLM {
 public:
  CausalLM(ModelConfig config, ModelWeights weights, Backend& backend);

  // Reads DIR/config.json (+ generation_config.json) and the safetensors weights.
  static std::unique_ptr<CausalLM> load(const std::string& dir, Backend& backend);

  const ModelConfig& config() const { return config_; }
  const Architecture& architecture() const { return arch_; }
  const ModelWeights& weights() const { return weights_; }
  HeadLayout heads() const { return heads_; }
  Backend& backend() const { return backend_; }
  int64_t max_positions() const { return cos_sin_.dim(0); }

  ForwardOutput forward(const ForwardBatch& batch, std::vector<KvCacheLayer>& kv_cache);

 private:
  // Device copies of one step's index arrays.
  struct StepInputs {
    Tensor input_ids, positions, slots, cu_seqlens, block_tables, seqlens, lm_rows;
    std::vector<int32_t> host_lm_rows;
  };
  StepInputs upload_inputs(const ForwardBatch& batch) const;
  void check_batch(const ForwardBatch& batch, const std::vector<KvCacheLayer>& kv_cache) const;
  void attention_block(int64_t index, KvCacheLayer& cache, const ForwardBatch& batch,
                       const StepInputs& in, const LoraPlan& lora, Tensor& hidden);
  void mlp_block(int64_t index, const LoraPlan& lora, Tensor& hidden);

  ModelConfig config_;
  const Architecture& arch_;
  ModelWeights weights_;
  Backend& backend_;
  HeadLayout heads_;
  Tensor cos_sin_;  // [max_positions, D] on the device
};

}  // namespace lorax
