// The input of one forward pass, flat as in the seeds' contract: the tokens of all sequences of
// the step concatenated, no padding. A step is either a prefill (cu_seqlen_prefill present: each
// sequence contributes a chunk of new tokens, which may follow tokens cached by earlier steps:
// the chunk is the last tokens of its seqlen) or a decode (one token per sequence).
#pragma once

#include <cstdint>
#include <vector>

namespace lorax {

// Which adapter each token of the step uses (LoRAX's AdapterBatchData, host side): the slot of
// the backend's adapter pool holding it (CausalLM::load_adapter), -1 for the base model. The
// model turns runs of equal slots into segments.
struct AdapterBatchData {
  std::vector<int32_t> token_slot;  // [T]; empty: the whole step is the base model
  // [T] or empty: the slot whose Medusa heads (CausalLM::load_adapter) score a token's logits
  // row, -1 for the model's own heads. Independent of token_slot: an adapter may be heads alone.
  std::vector<int32_t> head_slot;
  bool empty() const { return token_slot.empty(); }
};

struct ForwardBatch {
  std::vector<int32_t> input_ids;          // [T]
  std::vector<int32_t> position_ids;       // [T]
  std::vector<int32_t> cu_seqlen_prefill;  // [B + 1] for a prefill step; empty for decode
  std::vector<int32_t> slots;              // [T] cache slot each token's K/V is written to
  std::vector<int32_t> block_tables;       // [B, max_blocks] row-major, -1 past the end
  int64_t max_blocks = 0;
  std::vector<int32_t> seqlen;  // [B] tokens in the cache after this step
  int64_t max_s = 0;            // max of seqlen
  // Rows of the step that get logits; empty means the last token of each sequence.
  std::vector<int32_t> lm_head_indices;
  bool skip_lm_head = false;  // return final hidden states instead of logits
  AdapterBatchData adapter_data;

  bool is_prefill() const { return !cu_seqlen_prefill.empty(); }
  int64_t num_tokens() const { return int64_t(input_ids.size()); }
  int64_t num_sequences() const { return int64_t(seqlen.size()); }
};

}  // namespace lorax
