// Request validation: pure functions from a parsed JSON body to a validated request, with no
// HTTP, engine or tokenizer in sight, so fuzz targets and unit tests can call them directly.
//
// They check everything that can be checked without the tokenizer (types, ranges, counts) and
// throw ApiError naming the field. What needs the tokenizer or the adapter store (prompt length,
// truncation, whether an adapter exists) is checked afterwards by prepare_generation().
//
// Messages follow TGI/LoRAX where they have one ("`top_p` must be > 0.0 and < 1.0").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/sampling.h"
#include "server/api_error.h"
#include "server/json_body.h"
#include "server/server_context.h"
#include "server/structured_output.h"

namespace lorax {

struct PromptSpec {
  enum class Kind { Text, TokenIds, Chat };
  Kind kind = Kind::Text;
  std::string text;                   // Text
  std::vector<int32_t> ids;           // TokenIds
  Json messages;                      // Chat: [{"role", "content": str}], content flattened
  bool add_generation_prompt = true;  // Chat
};

// The adapter a request names, before it is looked up.
struct AdapterSpec {
  enum class Source { Registry, Local };
  std::optional<std::string> id;  // none: the base model
  Source source = Source::Registry;
  // The id came from LoRAX's default source (hub): not in the registry means "not found".
  bool source_given = false;
};

// API-neutral generation parameters.
struct GenerationSpec {
  PromptSpec prompt;
  AdapterSpec adapter;
  std::optional<int64_t> max_new_tokens;  // none: the endpoint's default
  SamplingParams sampling;                // temperature 0 = greedy
  std::vector<LogitBias> logit_bias;      // OpenAI's: distinct ids, biases in [-100, 100]
  std::optional<uint64_t> seed;           // none: a random seed when sampling
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int top_logprobs = 0;             // alternatives per generated token
  bool prompt_logprobs = false;     // logprobs of the prompt tokens too
  std::optional<int64_t> truncate;  // keep only the last N prompt tokens
  std::optional<ConstraintSpec> constraint;  // structured output (structured_output.h)
  // This server's extension (both APIs): false keeps the request out of speculative decoding
  // (--speculative-tokens); its output is the same either way, only its pace differs.
  bool speculate = true;
};

// Throws ApiError(Validation) in the API's words when a prompt of `input_tokens` is over
// max_input_length. prepare_generation() applies it to tokenized prompts; the completions
// validator applies it to token-id prompts before copying them.
void check_input_length(int64_t input_tokens, const ServerLimits& limits, ApiFlavor flavor);

// POST /generate and /generate_stream.
struct LoraxGenerateRequest {
  GenerationSpec spec;
  int best_of = 1;  // sequences sampled; the one with the best mean token logprob is answered
  bool details = false;
  bool decoder_input_details = false;
  bool return_full_text = false;
};
LoraxGenerateRequest parse_lorax_generate(const Json& body, const ServerLimits& limits,
                                          bool stream);
// POST /: the body's `stream` flag picks /generate_stream over /generate.
bool lorax_stream_flag(const Json& body);

// POST /tokenize.
struct TokenizeRequest {
  std::string inputs;
  bool add_special_tokens = true;
};
TokenizeRequest parse_tokenize(const Json& body);

// OpenAI's n choices out of best_of sequences (best_of >= n; chat has no best_of).
struct OpenAiChoices {
  int n = 1;
  int best_of = 1;
};

// POST /v1/completions.
struct CompletionRequest {
  GenerationSpec spec;
  OpenAiChoices choices;
  std::optional<std::string> model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;
  std::optional<int> logprobs;  // 0..5 alternatives; set means "return logprobs"
  bool return_tokens_as_token_ids = false;
};
CompletionRequest parse_completion(const Json& body, const ServerLimits& limits);

// POST /v1/chat/completions.
struct ChatRequest {
  GenerationSpec spec;
  OpenAiChoices choices;
  std::optional<std::string> model;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  int top_logprobs = 0;
  bool return_tokens_as_token_ids = false;
};
ChatRequest parse_chat(const Json& body, const ServerLimits& limits);

}  // namespace lorax
