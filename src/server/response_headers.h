// LoRAX's response headers on generation requests, from both APIs: what ran the request, how
// long each phase took (milliseconds) and how many tokens it read and wrote.
//
//   x-compute-type, x-compute-time, x-compute-characters, x-total-time, x-validation-time,
//   x-queue-time, x-inference-time, x-time-per-token, x-prompt-tokens, x-generated-tokens,
//   x-total-tokens, x-model-id, and for requests with an adapter x-adapter-id, x-adapter-source.
//
// Streams can only say what is known before the first token: x-compute-type,
// x-compute-characters, x-model-id, x-adapter-id, x-adapter-source (as LoRAX's do).
//
// The phases (LoRAX's): validation runs from the request's arrival to its submission to the
// engine; queue from submission to the start of the engine step that admitted it (the wait for a
// place in the batch); inference from there, prefill included, to the last token.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "server/generation_run.h"
#include "server/http_message.h"
#include "server/json_body.h"
#include "server/server_state.h"
#include "server/validation.h"

namespace lorax {

struct RequestPhases {
  double validation_s = 0.0;
  double queue_s = 0.0;
  double inference_s = 0.0;
  double total_s = 0.0;
  double per_token_s = 0.0;  // inference over generated tokens
};
RequestPhases request_phases(std::chrono::steady_clock::time_point arrived,
                             const GenerationRun& run);

// Characters (Unicode code points) of UTF-8 text: x-compute-characters counts the prompt's.
size_t utf8_length(std::string_view text);

void set_generation_headers(HttpResponse& response, const ServerState& state,
                            const AdapterSpec& adapter,
                            std::chrono::steady_clock::time_point arrived, const GenerationRun& run,
                            size_t characters);
// `adapter` is unset when the request could not be parsed.
void set_stream_headers(HttpResponse& response, const ServerState& state,
                        const std::optional<AdapterSpec>& adapter, size_t characters);

}  // namespace lorax
