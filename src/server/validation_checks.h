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
// 0 = off), n and best_of (1 only), seed, ignore_eos, logit_bias (none), penalties.
void read_openai_sampling(const FieldReader& fields, GenerationSpec& spec);
// `stream` and `stream_options.include_usage`.
void read_openai_stream(const FieldReader& fields, bool& stream, bool& include_usage);
// A field this server does not implement: refused when present with a non-empty value.
void refuse_if_set(const FieldReader& fields, const char* key, const std::string& why);

}  // namespace lorax
