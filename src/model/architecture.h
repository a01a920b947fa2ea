// What distinguishes one decoder-only family from another. Llama and Gemma share the tensor
// layout and the forward pass; they differ in these few constants, so each family is one entry
// of a registry (llama.cc, gemma.cc) rather than a copy of the forward.
#pragma once

#include <string>
#include <vector>

namespace lorax {

struct Architecture {
  std::string model_type;    // config.json "model_type"
  float norm_weight_offset;  // RMSNorm multiplies by (offset + w): Llama 0, Gemma 1
  bool scale_embeddings;     // Gemma multiplies embeddings by sqrt(hidden_size)
  // Speculative (Medusa) heads may ride on its final hidden states: Llama's head returns
  // speculative logits, Gemma's does not (the seeds' Gemma forward has no such output).
  bool speculative_heads;
};

const Architecture& llama_architecture();
const Architecture& gemma_architecture();

// Throws lorax::Error listing the supported types when `model_type` is unknown.
const Architecture& architecture_for(const std::string& model_type);

}  // namespace lorax
