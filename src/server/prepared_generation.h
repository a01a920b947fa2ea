// From a validated GenerationSpec to what the engine runs: the prompt tokenized (or its ids
// taken as given), truncated, checked against the server's length limits, the adapter looked up
// (loading it if needed), and the sampling seed fixed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/api_error.h"
#include "server/served_adapters.h"
#include "server/server_context.h"
#include "server/validation.h"

namespace lorax {

struct PreparedGeneration {
  GenerationRequest request;
  std::string adapter_label;  // "base", a registered id or "local:<dir>": logs and metrics
  std::vector<std::string> stop;
  std::optional<uint64_t> seed;  // the seed of a sampled request (reported back); none: greedy
  std::string prompt_text;       // the prompt as text, for return_full_text and echo
};

// Throws ApiError: Validation (no tokenizer for a text prompt, no chat template, prompt too
// long, prompt + max_new_tokens over max_total_tokens), UnknownAdapter, Forbidden, AdapterLoad;
// template errors pass through for classify_exception(). A chat prompt is rendered with the
// adapter's own template when its directory has one, else the model's. Without max_new_tokens
// the request gets what is left of max_total_tokens after its prompt (at most max_new_tokens).
PreparedGeneration prepare_generation(const GenerationSpec& spec, const ServerContext& context,
                                      ServedAdapters& adapters, ApiFlavor flavor);

// The same generation sampled with another seed (one of several sequences of a request: best_of,
// n). A greedy one is returned unchanged.
PreparedGeneration with_seed(const PreparedGeneration& prepared, uint64_t seed);
// A fresh random seed (the seed of a sampled request that gave none).
uint64_t random_seed();

}  // namespace lorax
