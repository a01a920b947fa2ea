#include "server/generation_run.h"

#include <algorithm>

namespace lorax {

const char* openai_finish_reason(GenerationEnd end) {
  return end == GenerationEnd::Length ? "length" : "stop";
}

const char* lorax_finish_reason(GenerationEnd end) {
  switch (end) {
    case GenerationEnd::Eos:
      return "eos_token";
    case GenerationEnd::StopSequence:
      return "stop_sequence";
    default:
      return "length";
  }
}

GenerationRun::GenerationRun(EngineService& service, const Tokenizer* tokenizer,
                             PreparedGeneration prepared, Metrics& metrics)
    : prepared_(std::move(prepared)),
      tokenizer_(tokenizer),
      metrics_(metrics),
      stops_(prepared_.stop) {
  if (tokenizer_)
    detokenizer_.emplace(*tokenizer_, /*skip_special_tokens=*/true, prepared_.request.prompt_ids);
  submitted_ = std::chrono::steady_clock::now();
  handle_ = service.submit(prepared_.request);
  metrics_.sequence_submitted(prepared_.adapter_label);
  in_adapter_gauges_ = true;
}

GenerationRun::~GenerationRun() {
  handle_->set_notify({});  // the engine may hold the handle a little longer: no calls from it
  leave_adapter_gauges();
}

void GenerationRun::leave_adapter_gauges() {
  if (!in_adapter_gauges_) return;
  in_adapter_gauges_ = false;
  metrics_.sequence_ended(prepared_.adapter_label, first_token_.has_value());
}

std::optional<GenerationRun::Step> GenerationRun::try_next() {
  if (auto event = handle_->next(std::chrono::milliseconds(0))) return on_event(*event);
  return std::nullopt;
}

void GenerationRun::cancel() {
  handle_->cancel();
  if (!end_) end_ = GenerationEnd::Cancelled;
  if (!ended_) ended_ = std::chrono::steady_clock::now();
  leave_adapter_gauges();
}

double GenerationRun::mean_logprob() const {
  if (tokens_.empty()) return 0.0;
  double sum = 0.0;
  for (const GeneratedToken& token : tokens_) sum += token.logprob;
  return sum / double(tokens_.size());
}

void GenerationRun::record_timing() {
  const auto now = std::chrono::steady_clock::now();
  const auto since = tokens_.empty() ? submitted_ : last_token_;
  const double seconds = std::chrono::duration<double>(now - since).count();
  if (tokens_.empty()) {
    first_token_ = now;
    metrics_.observe_time_to_first_token(seconds);
    if (in_adapter_gauges_) metrics_.sequence_started(prepared_.adapter_label);
  } else
    metrics_.observe_inter_token_latency(seconds);
  last_token_ = now;
}

GeneratedToken GenerationRun::describe(const TokenLogprob& token) {
  GeneratedToken out;
  out.id = token.id;
  out.logprob = token.logprob;
  out.top = token.top;
  out.special = tokenizer_ && tokenizer_->is_special(token.id);
  if (detokenizer_) out.text = detokenizer_->push(token.id);
  return out;
}

GenerationRun::Step GenerationRun::on_event(const StepOutput& event) {
  Step step;
  if (event.prompt_logprobs) prompt_logprobs_ = event.prompt_logprobs;
  cached_tokens_ = std::max(cached_tokens_, event.cached_tokens);
  if (!started_ && event.started_at != std::chrono::steady_clock::time_point{})
    started_ = event.started_at;
  if (event.token) {
    // A step's first token carries what the step did with the request's drafts.
    if (!event.skipped) {
      metrics_.observe_skipped_tokens(event.drafts_accepted);
      if (event.drafts_proposed > 0)
        metrics_.observe_speculation(prepared_.adapter_label, event.drafts_proposed,
                                     event.drafts_accepted);
    }
    record_timing();
    tokens_.push_back(describe(*event.token));
    tokens_.back().skipped = event.skipped;
    step.token = tokens_.size() - 1;
    step.text = stops_.push(tokens_.back().text);
    if (stops_.matched()) {
      handle_->cancel();  // the engine need not run this sequence any further
      end_ = GenerationEnd::StopSequence;
      ended_ = std::chrono::steady_clock::now();
      leave_adapter_gauges();
      step.last = true;
      return step;
    }
  }
  if (event.finish == FinishReason::None) return step;
  if (detokenizer_) step.text += stops_.push(detokenizer_->flush());
  if (stops_.matched()) {
    end_ = GenerationEnd::StopSequence;
  } else {
    step.text += stops_.flush();
    end_ = event.finish == FinishReason::Eos      ? GenerationEnd::Eos
           : event.finish == FinishReason::Length ? GenerationEnd::Length
                                                  : GenerationEnd::Cancelled;
  }
  ended_ = std::chrono::steady_clock::now();
  leave_adapter_gauges();
  step.last = true;
  return step;
}

}  // namespace lorax
