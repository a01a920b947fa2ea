// Draft proposers of speculative decoding.
//
// A speculating sequence submits its last token plus up to N drafts as one chunk; the engine
// keeps the longest prefix of drafts equal to the model's own choices plus the model's token
// after it (engine.h). A proposer only has to be cheap and often right: a wrong draft costs a
// row of the verification chunk, never a different output.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace lorax {

// Prompt lookup (LoRAX's and vLLM's n-gram proposer): the up to `max_drafts` tokens that
// followed the latest earlier occurrence of the sequence's last n-gram, in the prompt or the
// generated text, trying n = max_ngram first and falling back to shorter n-grams. Empty when
// no n-gram of the tail occurs earlier. Text that repeats (code edits, extraction, summaries
// quoting their source) is where it pays.
std::vector<int32_t> prompt_lookup_drafts(std::span<const int32_t> tokens, int64_t max_drafts,
                                          int max_ngram = 3);

}  // namespace lorax
