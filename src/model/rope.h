// Rotary position embedding frequencies for every scaling type transformers defines
// (modeling_rope_utils: default, linear, dynamic, llama3, yarn), and the cos/sin table the
// backends read.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "io/model_config.h"

namespace lorax {

struct RopeFrequencies {
  std::vector<double> inv_freq;    // [head_dim / 2]
  double attention_scaling = 1.0;  // multiplies cos and sin (yarn)
};

// Frequencies as transformers computes them. `seq_len` matters only for `dynamic` (NTK), whose
// base grows once the sequence outgrows original_max_position_embeddings.
RopeFrequencies rope_frequencies(const ModelConfig& config, int64_t seq_len = 0);

// Number of positions the cos/sin table covers: the model's maximum context.
int64_t rope_table_positions(const ModelConfig& config);

// Host table [positions, head_dim]: row p = cos(p * f_i) * s for i < D/2, then sin(p * f_i) * s.
// Dynamic NTK is evaluated once at the table's full length, as vLLM does, so a token's rotation
// never depends on what else is in the batch or on how long its sequence has grown.
Tensor rope_cos_sin_table(const ModelConfig& config);

}  // namespace lorax
