#include "server/metrics.h"

#include <cstdio>

namespace lorax {

namespace {

std::string format_value(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n";
  out += std::string("# TYPE ") + name + " " + type + "\n";
}

void sample(std::string& out, const char* name, const char* type, const char* help, double value) {
  header(out, name, type, help);
  out += std::string(name) + " " + format_value(value) + "\n";
}

void histogram(std::string& out, const char* name, const char* help, const Histogram& h) {
  header(out, name, "histogram", help);
  h.render(name, out);
}

// LoRAX's duration buckets: 35, geometric by 1.5 from 0.15 ms (to about 3 minutes).
std::vector<double> duration_buckets() {
  std::vector<double> b;
  double value = 0.0001;
  for (int i = 0; i < 35; ++i) b.push_back(value *= 1.5);
  return b;
}

// LoRAX's batch-size buckets: 1, 2, ..., 1024.
std::vector<double> batch_size_buckets() {
  std::vector<double> b;
  for (int i = 1; i <= 1024; ++i) b.push_back(double(i));
  return b;
}

constexpr const char* kStepMethods[2] = {"prefill", "decode"};

// LoRAX's token-count buckets: 100 even steps up to `most`.
std::vector<double> token_buckets(int64_t most) {
  std::vector<double> b;
  for (int i = 0; i < 100; ++i) b.push_back(double(most) / 100.0 * (i + 1));
  return b;
}

void engine_samples(std::string& out, const ServiceStats& s) {
  const EngineStats& e = s.engine;
  sample(out, "lorax_queue_length", "gauge", "Requests waiting to be admitted to the batch.",
         double(e.waiting));
  sample(out, "lorax_batch_current_size", "gauge", "Sequences in the most recent engine step.",
         double(e.last_batch_sequences));
  sample(out, "lorax_batch_current_max_tokens", "gauge", "Tokens in the most recent engine step.",
         double(e.last_batch_tokens));
  sample(out, "lorax_running_requests", "gauge", "Sequences in the running batch.",
         double(e.running));
  sample(out, "lorax_in_flight_requests", "gauge", "Requests submitted and not finished.",
         double(s.in_flight));
  sample(out, "lorax_kv_blocks_total", "gauge", "KV cache blocks.", double(e.kv_blocks_total));
  sample(out, "lorax_kv_blocks_free", "gauge",
         "KV cache blocks no sequence holds (free, or cached and evictable).",
         double(e.kv_blocks_free));
  sample(out, "lorax_kv_blocks_used", "gauge", "KV cache blocks held by sequences.",
         double(e.kv_blocks_total - e.kv_blocks_free));
  sample(out, "lorax_prefix_cache_blocks", "gauge", "KV cache blocks in the prefix cache.",
         double(e.prefix_cache_blocks));
  sample(out, "lorax_prefix_cache_hit_tokens_total", "counter",
         "Prompt tokens read from the prefix cache instead of computed.",
         double(e.prefix_cache_hit_tokens));
  sample(out, "lorax_prefix_cache_evictions_total", "counter",
         "Prefix-cache blocks evicted to make room.", double(e.prefix_cache_evictions));
  sample(out, "lorax_prompt_tokens_total", "counter",
         "Prompt tokens prefilled (recomputation after preemption included).",
         double(e.prompt_tokens));
  sample(out, "lorax_generated_tokens_total", "counter", "Tokens generated.",
         double(e.generated_tokens));
  sample(out, "lorax_preemptions_total", "counter", "Sequences preempted for lack of KV blocks.",
         double(e.preemptions));
}

}  // namespace

const char* failure_label(const std::string& outcome) {
  if (outcome == "validation_error") return "validation";
  if (outcome == "client_disconnected") return "dropped";
  if (outcome == "not_found") return "download_adapter";  // LoRAX: the adapter could not be had
  if (outcome == "adapter_error") return "load_adapter";
  if (outcome == "unavailable") return "incomplete";
  if (outcome == "forbidden") return "validation";
  if (outcome == "overloaded") return "overloaded";
  if (outcome == "unauthorized") return "unauthorized";
  return "internal";
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out, const std::string& labels) const {
  const std::string bucket_labels = labels.empty() ? "" : labels + ",";
  const std::string own = labels.empty() ? "" : "{" + labels + "}";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + bucket_labels + "le=\"" + le + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  out += name + "_sum" + own + " " + format_value(sum_) + "\n";
  out += name + "_count" + own + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics(const ServerLimits& limits)
    : duration_(duration_buckets()),
      validation_(duration_buckets()),
      queue_(duration_buckets()),
      inference_(duration_buckets()),
      per_token_(duration_buckets()),
      input_length_(token_buckets(limits.max_input_length)),
      max_new_tokens_(token_buckets(limits.max_total_tokens)),
      generated_tokens_(token_buckets(limits.max_total_tokens)),
      skipped_tokens_({0, 1, 2, 4, 8, 16}),
      input_count_({1, 2, 4, 8, 16, 32, 64}),
      time_to_first_token_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      step_duration_{Histogram(duration_buckets()), Histogram(duration_buckets())},
      next_batch_size_(batch_size_buckets()) {}

void Metrics::count_request(const std::string& adapter, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_;
  ++outcomes_[{adapter, outcome}];
  if (outcome == "success")
    ++successes_;
  else
    ++failures_[failure_label(outcome)];
}

void Metrics::observe_success(const RequestRecord& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  duration_.observe(r.total_s);
  validation_.observe(r.validation_s);
  queue_.observe(r.queue_s);
  inference_.observe(r.inference_s);
  per_token_.observe(r.per_token_s);
  generated_tokens_.observe(double(r.generated_tokens));
}

void Metrics::observe_admitted(int64_t input_tokens, int64_t max_new_tokens, int64_t sequences) {
  std::lock_guard<std::mutex> lock(mutex_);
  input_length_.observe(double(input_tokens));
  max_new_tokens_.observe(double(max_new_tokens));
  input_count_.observe(double(sequences));
}

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  time_to_first_token_.observe(seconds);
}

void Metrics::observe_inter_token_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  inter_token_latency_.observe(seconds);
}

void Metrics::observe_skipped_tokens(int64_t skipped) {
  std::lock_guard<std::mutex> lock(mutex_);
  skipped_tokens_.observe(double(skipped));
}

void Metrics::observe_speculation(const std::string& adapter, int64_t proposed, int64_t accepted) {
  std::lock_guard<std::mutex> lock(mutex_);
  Speculation& s = speculation_[adapter];
  ++s.steps;
  s.proposed += uint64_t(proposed);
  s.accepted += uint64_t(accepted);
}

void Metrics::observe_step(const StepReport& report, bool chunked) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t method = report.step.prefill ? 0 : 1;
  if (report.failed)
    ++step_failures_[method];
  else
    step_duration_[method].observe(report.seconds);
  if (report.step.admitted == 0) return;
  next_batch_size_.observe(double(report.step.admitted));
  if (report.step.was_running > 0) ++concat_[chunked ? "chunking" : "wait_exceeded"];
}

void Metrics::sequence_submitted(const std::string& adapter) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++waiting_[adapter];
}

void Metrics::sequence_started(const std::string& adapter) {
  std::lock_guard<std::mutex> lock(mutex_);
  --waiting_[adapter];
  ++active_[adapter];
}

void Metrics::sequence_ended(const std::string& adapter, bool started) {
  std::lock_guard<std::mutex> lock(mutex_);
  --(started ? active_ : waiting_)[adapter];
}

void Metrics::render_requests(std::string& out) const {
  sample(out, "lorax_request_count", "counter", "Generation requests received.", double(requests_));
  sample(out, "lorax_request_success", "counter", "Generation requests answered in full.",
         double(successes_));
  header(out, "lorax_request_failure", "counter", "Generation requests failed, by reason.");
  for (const auto& [err, count] : failures_)
    out += "lorax_request_failure{err=\"" + err + "\"} " + std::to_string(count) + "\n";
  histogram(out, "lorax_request_duration", "Seconds from arrival to the answer.", duration_);
  histogram(out, "lorax_request_validation_duration",
            "Seconds from arrival to submission to the engine.", validation_);
  histogram(out, "lorax_request_queue_duration",
            "Seconds from submission to the start of the engine step that admitted the request.",
            queue_);
  histogram(out, "lorax_request_inference_duration",
            "Seconds from the start of the request's prefill to its last token.", inference_);
  histogram(out, "lorax_request_mean_time_per_token_duration",
            "Inference seconds per generated token.", per_token_);
  histogram(out, "lorax_request_input_length", "Prompt tokens of admitted requests.",
            input_length_);
  histogram(out, "lorax_request_max_new_tokens", "Tokens admitted requests may generate.",
            max_new_tokens_);
  histogram(out, "lorax_request_generated_tokens", "Tokens generated by answered requests.",
            generated_tokens_);
  histogram(out, "lorax_request_skipped_tokens",
            "Tokens per engine step accepted from speculative drafts.", skipped_tokens_);
  histogram(out, "lorax_request_input_count", "Sequences per request (best_of, n).", input_count_);
  histogram(out, "lorax_request_time_to_first_token_seconds",
            "Seconds from submission to the first generated token.", time_to_first_token_);
  histogram(out, "lorax_request_inter_token_latency_seconds",
            "Seconds between consecutive generated tokens of a request.", inter_token_latency_);
  header(out, "lorax_adapter_request_count", "counter",
         "Generation requests by adapter and outcome.");
  for (const auto& [key, count] : outcomes_)
    out += "lorax_adapter_request_count{adapter=\"" + escape_label_value(key.first) +
           "\",outcome=\"" + escape_label_value(key.second) + "\"} " + std::to_string(count) + "\n";
}

void Metrics::render_adapters(const std::map<std::string, AdapterStats>& adapters,
                              std::string& out) const {
  const auto per_adapter = [&](const char* name, const char* type, const char* help, auto value_of,
                               const auto& keys) {
    header(out, name, type, help);
    for (const auto& [adapter, entry] : keys)
      out += std::string(name) + "{adapter=\"" + escape_label_value(adapter) + "\"} " +
             format_value(value_of(adapter, entry)) + "\n";
  };
  per_adapter(
      "lorax_adapter_loaded", "gauge", "1 while the adapter's weights are in memory.",
      [](const std::string&, const AdapterStats& s) { return s.loaded ? 1.0 : 0.0; }, adapters);
  per_adapter(
      "lorax_adapter_pinned", "gauge", "1 for adapters never evicted.",
      [](const std::string&, const AdapterStats& s) { return s.pinned ? 1.0 : 0.0; }, adapters);
  per_adapter(
      "lorax_adapter_load_duration", "gauge", "Seconds the adapter's last load took.",
      [](const std::string&, const AdapterStats& s) { return s.load_seconds; }, adapters);
  per_adapter(
      "lorax_adapter_cache_hits", "counter", "Requests that found the adapter loaded.",
      [](const std::string&, const AdapterStats& s) { return double(s.cache_hits); }, adapters);
  per_adapter(
      "lorax_adapter_cache_misses", "counter", "Requests that loaded the adapter.",
      [](const std::string&, const AdapterStats& s) { return double(s.cache_misses); }, adapters);
  per_adapter(
      "lorax_adapter_waiting_requests", "gauge",
      "Sequences submitted and without a first token, by adapter.",
      [](const std::string&, int64_t n) { return double(n); }, waiting_);
  per_adapter(
      "lorax_adapter_active_requests", "gauge", "Sequences generating, by adapter.",
      [](const std::string&, int64_t n) { return double(n); }, active_);
  per_adapter(
      "lorax_adapter_speculative_steps", "counter",
      "Engine steps of a request that verified speculative drafts, by adapter.",
      [](const std::string&, const Speculation& s) { return double(s.steps); }, speculation_);
  per_adapter(
      "lorax_adapter_speculative_drafts", "counter", "Speculative draft tokens verified.",
      [](const std::string&, const Speculation& s) { return double(s.proposed); }, speculation_);
  per_adapter(
      "lorax_adapter_speculative_accepted", "counter",
      "Speculative draft tokens the model chose too.",
      [](const std::string&, const Speculation& s) { return double(s.accepted); }, speculation_);
  per_adapter(
      "lorax_adapter_speculative_accepted_per_step", "gauge",
      "Drafts accepted per engine step that verified some.",
      [](const std::string&, const Speculation& s) {
        return s.steps ? double(s.accepted) / double(s.steps) : 0.0;
      },
      speculation_);
  per_adapter(
      "lorax_adapter_speculative_acceptance_rate", "gauge",
      "Share of the verified drafts that were accepted.",
      [](const std::string&, const Speculation& s) {
        return s.proposed ? double(s.accepted) / double(s.proposed) : 0.0;
      },
      speculation_);
}

void Metrics::render_steps(const ServiceStats& stats, std::string& out) const {
  // Successful steps are the engine's own count; failed ones never reach it.
  const int64_t succeeded[2] = {stats.engine.prefill_steps, stats.engine.decode_steps};
  const auto by_method = [&](const char* name, const char* help, auto value_of) {
    header(out, name, "counter", help);
    for (size_t m = 0; m < 2; ++m)
      out += std::string(name) + "{method=\"" + kStepMethods[m] + "\"} " +
             std::to_string(value_of(m)) + "\n";
  };
  by_method("lorax_batch_inference_count", "Engine steps run, by method.",
            [&](size_t m) { return uint64_t(succeeded[m]) + step_failures_[m]; });
  by_method("lorax_batch_inference_success", "Engine steps that completed, by method.",
            [&](size_t m) { return uint64_t(succeeded[m]); });
  by_method("lorax_batch_inference_failure",
            "Engine steps that failed (their requests were cancelled), by method.",
            [&](size_t m) { return step_failures_[m]; });
  header(out, "lorax_batch_inference_duration", "histogram",
         "Seconds per completed engine step, by method.");
  for (size_t m = 0; m < 2; ++m)
    step_duration_[m].render("lorax_batch_inference_duration", out,
                             std::string("method=\"") + kStepMethods[m] + "\"");
  histogram(out, "lorax_batch_next_size",
            "Requests admitted into the batch together (one observation per admitting step).",
            next_batch_size_);
  header(out, "lorax_batch_concat", "counter",
         "Admissions that joined a running batch, by reason.");
  for (const auto& [reason, count] : concat_)
    out += "lorax_batch_concat{reason=\"" + reason + "\"} " + std::to_string(count) + "\n";
}

std::string Metrics::render(const ServiceStats& stats,
                            const std::map<std::string, AdapterStats>& adapters) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  render_requests(out);
  render_adapters(adapters, out);
  render_steps(stats, out);
  engine_samples(out, stats);
  return out;
}

}  // namespace lorax
