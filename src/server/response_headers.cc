#include "server/response_headers.h"

#include <algorithm>

namespace lorax {

namespace {

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
  return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

std::string millis(double seconds) {
  return std::to_string(int64_t(seconds * 1000.0));
}

void set_common_headers(HttpResponse& response, const ServerState& state,
                        const std::optional<AdapterSpec>& adapter, size_t characters) {
  response.set_header("x-compute-type", state.context.service.model().backend().name());
  response.set_header("x-compute-characters", std::to_string(characters));
  response.set_header("x-model-id", state.context.served_model_name);
  if (adapter && adapter->id) {
    response.set_header("x-adapter-id", *adapter->id);
    response.set_header("x-adapter-source",
                        adapter->source == AdapterSpec::Source::Local ? "local" : "hub");
  }
}

}  // namespace

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;  // count all but continuation bytes
  return n;
}

RequestPhases request_phases(std::chrono::steady_clock::time_point arrived,
                             const GenerationRun& run) {
  const auto now = std::chrono::steady_clock::now();
  const auto ended = run.ended_at().value_or(now);
  // The queue ends when the step that admitted the run began (its prefill is inference, as in
  // LoRAX); a run that never reached the engine queued until it ended.
  const auto started = std::clamp(run.started_at().value_or(ended), run.submitted_at(), ended);
  RequestPhases p;
  p.validation_s = seconds_between(arrived, run.submitted_at());
  p.queue_s = seconds_between(run.submitted_at(), started);
  p.inference_s = seconds_between(started, ended);
  p.total_s = seconds_between(arrived, now);
  p.per_token_s = run.tokens().empty() ? 0.0 : p.inference_s / double(run.tokens().size());
  return p;
}

void set_generation_headers(HttpResponse& response, const ServerState& state,
                            const AdapterSpec& adapter,
                            std::chrono::steady_clock::time_point arrived, const GenerationRun& run,
                            size_t characters) {
  const RequestPhases p = request_phases(arrived, run);
  const int64_t generated = int64_t(run.tokens().size());
  set_common_headers(response, state, adapter, characters);
  response.set_header("x-compute-time", millis(p.total_s));
  response.set_header("x-total-time", millis(p.total_s));
  response.set_header("x-validation-time", millis(p.validation_s));
  response.set_header("x-queue-time", millis(p.queue_s));
  response.set_header("x-inference-time", millis(p.inference_s));
  response.set_header("x-time-per-token", millis(p.per_token_s));
  response.set_header("x-prompt-tokens", std::to_string(run.prompt_tokens()));
  response.set_header("x-generated-tokens", std::to_string(generated));
  response.set_header("x-total-tokens", std::to_string(run.prompt_tokens() + generated));
}

void set_stream_headers(HttpResponse& response, const ServerState& state,
                        const std::optional<AdapterSpec>& adapter, size_t characters) {
  set_common_headers(response, state, adapter, characters);
  response.set_header("X-Accel-Buffering", "no");  // proxies must pass events on at once
}

}  // namespace lorax
