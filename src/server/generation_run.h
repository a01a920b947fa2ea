// One request running on the engine, as the HTTP layer sees it: engine events turned into
// tokens with text, stop sequences applied to the decoded text, timings recorded.
//
// Used by every generation endpoint, streaming or not: try_next() yields one step per engine event
// (a token and the text it released); the last step says how generation ended. Dropping the run
// early (a client that went away) drops the engine handle, which cancels the request and frees
// its KV blocks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine_service.h"
#include "server/metrics.h"
#include "server/prepared_generation.h"
#include "server/stop_matcher.h"
#include "tokenizer/tokenizer.h"

namespace lorax {

enum class GenerationEnd { Length, Eos, StopSequence, Cancelled };

struct GeneratedToken {
  int32_t id = 0;
  float logprob = 0.0f;  // the model's raw distribution (see sampling.h)
  bool special = false;
  std::string text;  // what the detokenizer released with it (empty mid-character)
  std::vector<std::pair<int32_t, float>> top;  // alternatives, best first
  bool skipped = false;  // an accepted speculative draft (StepOutput::skipped)
};

class GenerationRun {
 public:
  struct Step {
    std::optional<size_t> token;  // index into tokens() of this step's token
    std::string text;             // text released by this step (stop sequences held back)
    bool last = false;
  };

  // Submits the request; throws what EngineService::submit throws (lorax::Error,
  // OverloadedError, ShuttingDownError). `tokenizer` (may be null) and `metrics` must outlive
  // the run.
  GenerationRun(EngineService& service, const Tokenizer* tokenizer, PreparedGeneration prepared,
                Metrics& metrics);
  ~GenerationRun();
  GenerationRun(const GenerationRun&) = delete;
  GenerationRun& operator=(const GenerationRun&) = delete;

  // The step of an event already arrived, without waiting (nullopt when none has); callers learn
  // of new events through set_notify(). Not to be called once finished().
  std::optional<Step> try_next();
  // See RequestHandle::set_notify: called from the engine thread when an event arrives. The run
  // clears it when destroyed.
  void set_notify(std::function<void()> notify) { handle_->set_notify(std::move(notify)); }
  void cancel();

  bool finished() const { return end_.has_value(); }
  GenerationEnd end() const { return end_.value_or(GenerationEnd::Cancelled); }
  // The generated text; once finished, cut where a stop sequence began.
  const std::string& text() const { return stops_.text(); }
  const std::vector<GeneratedToken>& tokens() const { return tokens_; }
  const PreparedGeneration& prepared() const { return prepared_; }
  // The mean log-probability of the generated tokens (how best_of ranks sequences).
  double mean_logprob() const;

  // When the run was handed to the engine, when the engine step that admitted it began (its
  // queue time ends and its prefill starts there), when it produced its first token, and when it
  // ended (each unset until then).
  std::chrono::steady_clock::time_point submitted_at() const { return submitted_; }
  std::optional<std::chrono::steady_clock::time_point> started_at() const { return started_; }
  std::optional<std::chrono::steady_clock::time_point> first_token_at() const {
    return first_token_;
  }
  std::optional<std::chrono::steady_clock::time_point> ended_at() const { return ended_; }
  int64_t prompt_tokens() const { return int64_t(prepared_.request.prompt_ids.size()); }
  // Prompt tokens the engine read from its prefix cache rather than computed.
  int64_t cached_tokens() const { return cached_tokens_; }
  // Entry j: log-probability of prompt token j given those before (entry 0 has none). Set when
  // the request asked for prompt logprobs.
  const std::optional<std::vector<std::optional<TokenLogprob>>>& prompt_logprobs() const {
    return prompt_logprobs_;
  }

 private:
  Step on_event(const StepOutput& event);
  GeneratedToken describe(const TokenLogprob& token);
  void record_timing();
  void leave_adapter_gauges();  // once, when the run ends or is dropped

  PreparedGeneration prepared_;
  const Tokenizer* tokenizer_;
  Metrics& metrics_;
  std::optional<StreamingDetokenizer> detokenizer_;
  StopMatcher stops_;
  std::vector<GeneratedToken> tokens_;
  std::optional<std::vector<std::optional<TokenLogprob>>> prompt_logprobs_;
  std::optional<GenerationEnd> end_;
  int64_t cached_tokens_ = 0;
  std::chrono::steady_clock::time_point submitted_;
  std::chrono::steady_clock::time_point last_token_;
  std::optional<std::chrono::steady_clock::time_point> started_;
  std::optional<std::chrono::steady_clock::time_point> first_token_;
  std::optional<std::chrono::steady_clock::time_point> ended_;
  bool in_adapter_gauges_ = false;
  std::shared_ptr<RequestHandle> handle_;  // last: dropped first, cancelling if unfinished
};

// The OpenAI finish_reason ("stop" or "length") and the LoRAX one ("eos_token", "stop_sequence"
// or "length").
const char* openai_finish_reason(GenerationEnd end);
const char* lorax_finish_reason(GenerationEnd end);

}  // namespace lorax
