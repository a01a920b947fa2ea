// Checks shared by the LoRAX and OpenAI validators (validation.cc); internal to the server.
#pragma once

#include <string>
#include <vector>

#include "server/request_fields.h"
#include "server/validation.h"

namespace lorax {

// `stop` as a list (or, with `single_ok`, one string): at most max_stop_sequences, none empty.
std::vector<std::string> read_stop(const FieldReader& fields, const ServerLimits& limits,
                                   bool single_ok);
// frequency_penalty and presence_penalty in [-2, 2] (OpenAI's range), repetition_penalty > 0.
void read_penalties(const FieldReader& fields, SamplingParams& sampling);
// OpenAI's sampling fields: temperature [0, 2] (0 = greedy), top_p (0, 1], top_k (vLLM: -1 or
// 0 = off), seed, ignore_eos (and LoRAX's ignore_eos_token), adapter_source and api_token
// (LoRAX's), logit_bias, penalties.
void read_openai_sampling(const FieldReader& fields, GenerationSpec& spec);
// `n` (1..max_best_of) and, where the API has it, `best_of` (n..max_best_of, and equal to n when
// streaming).
OpenAiChoices read_openai_choices(const FieldReader& fields, const ServerLimits& limits,
                                  bool stream, bool best_of_allowed);
// `stream` and `stream_options.include_usage`.
void read_openai_stream(const FieldReader& fields, bool& stream, bool& include_usage);
// Chat messages (a non-empty JSON array) with each content flattened to one string; errors name
// `key` ("messages", or LoRAX's "inputs").
Json read_chat_messages(const FieldReader& fields, const Json& messages, const char* key);
// `adapter_source`: "hub" (the default: registered adapters) or "local"; LoRAX's "s3" and
// "pbase" are refused (nothing is downloaded here).
void read_adapter_source(const FieldReader& fields, AdapterSpec& adapter);
// A field this server does not implement: refused when present with a non-empty value.
void refuse_if_set(const FieldReader& fields, const char* key, const std::string& why);

}  // namespace lorax
