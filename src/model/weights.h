// The weights of a Llama/Gemma decoder in canonical form: q/k/v fused into one projection and
// gate/up fused into another (as the seeds' fused linears), everything checked against the config
// when loaded. Tensors live on the backend's device; on the CPU unfused tensors are zero-copy
// views into the mmap'd checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "io/model_config.h"
#include "io/safetensors.h"

namespace lorax {

// Fetches a checkpoint tensor, checking that it is f32, bf16 or f16 and of the expected shape;
// a message names the tensor and its file.
Tensor checked_weight(const CheckpointTensors& ckpt, const std::string& name,
                      const Shape& expected);
// A weight matrix as the backend keeps it for `activation`: converted on the host when its dtype
// differs (cuBLASLt multiplies like with like), then uploaded.
Tensor upload_matrix(Backend& backend, const Tensor& host, DType activation);

struct DecoderLayerWeights {
  Tensor input_norm;           // [H]
  Tensor qkv_proj;             // [(Hq + 2 * Hkv) * D, H]: q_proj, k_proj, v_proj rows stacked
  Tensor o_proj;               // [H, Hq * D]
  Tensor post_attention_norm;  // [H]
  Tensor gate_up_proj;         // [2 * I, H]: gate_proj rows, then up_proj rows
  Tensor down_proj;            // [H, I]
  float k_scale = 1.0f;        // FP8 KV-cache scales (checkpoint's self_attn.k_scale/v_scale)
  float v_scale = 1.0f;
};

struct ModelWeights {
  Tensor embed_tokens;  // [V, H]
  std::vector<DecoderLayerWeights> layers;
  Tensor final_norm;  // [H]
  Tensor lm_head;     // [V, H]; the embedding table itself when tied

  // Loads and checks every tensor (dtype and shape, expected vs actual, naming file and tensor).
  // Matrices are kept as backend.weight_dtype(stored, activation) says; norms as stored.
  static ModelWeights load(const ModelConfig& config, const CheckpointTensors& checkpoint,
                           Backend& backend, DType activation = DType::F32);
  // Random weights in memory for benchmarks and tests (uniform, scaled like an initialised
  // model so activations stay finite). Deterministic in `seed`.
  static ModelWeights random(const ModelConfig& config, DType dtype, uint64_t seed,
                             Backend& backend, DType activation = DType::F32);
  size_t nbytes() const;  // all distinct weight bytes (a tied head counted once)
};

}  // namespace lorax
