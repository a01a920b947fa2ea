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

void sample(std::string& out, const char* name, const char* type, const char* help, int64_t value) {
  header(out, name, type, help);
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

void engine_samples(std::string& out, const ServiceStats& s) {
  const EngineStats& e = s.engine;
  sample(out, "lorax_queue_size", "gauge", "Requests waiting for KV blocks.", e.waiting);
  sample(out, "lorax_running_requests", "gauge", "Sequences in the running batch.", e.running);
  sample(out, "lorax_in_flight_requests", "gauge", "Requests submitted and not finished.",
         s.in_flight);
  sample(out, "lorax_batch_current_size", "gauge", "Sequences in the most recent engine step.",
         e.last_batch_sequences);
  sample(out, "lorax_batch_current_tokens", "gauge", "Tokens in the most recent engine step.",
         e.last_batch_tokens);
  sample(out, "lorax_kv_blocks_total", "gauge", "KV cache blocks.", e.kv_blocks_total);
  sample(out, "lorax_kv_blocks_free", "gauge", "KV cache blocks free.", e.kv_blocks_free);
  sample(out, "lorax_kv_blocks_used", "gauge", "KV cache blocks held by sequences.",
         e.kv_blocks_total - e.kv_blocks_free);
  sample(out, "lorax_prompt_tokens_total", "counter",
         "Prompt tokens prefilled (recomputation after preemption included).", e.prompt_tokens);
  sample(out, "lorax_generated_tokens_total", "counter", "Tokens generated.", e.generated_tokens);
  sample(out, "lorax_preemptions_total", "counter", "Sequences preempted for lack of KV blocks.",
         e.preemptions);
  sample(out, "lorax_prefill_steps_total", "counter", "Engine prefill steps.", e.prefill_steps);
  sample(out, "lorax_decode_steps_total", "counter", "Engine decode steps.", e.decode_steps);
}

}  // namespace

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

void Histogram::render(const std::string& name, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + format_value(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : time_to_first_token_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      request_duration_({0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void Metrics::count_request(const std::string& adapter, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{adapter, outcome}];
}

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  time_to_first_token_.observe(seconds);
}

void Metrics::observe_inter_token_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  inter_token_latency_.observe(seconds);
}

void Metrics::observe_request_duration(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  request_duration_.observe(seconds);
}

std::string Metrics::render(const ServiceStats& stats) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  header(out, "lorax_request_count", "counter", "Generation requests by adapter and outcome.");
  for (const auto& [key, count] : requests_)
    out += "lorax_request_count{adapter=\"" + escape_label_value(key.first) + "\",outcome=\"" +
           escape_label_value(key.second) + "\"} " + std::to_string(count) + "\n";
  header(out, "lorax_request_time_to_first_token_seconds", "histogram",
         "Time from submission to the first generated token.");
  time_to_first_token_.render("lorax_request_time_to_first_token_seconds", out);
  header(out, "lorax_request_inter_token_latency_seconds", "histogram",
         "Time between consecutive generated tokens of a request.");
  inter_token_latency_.render("lorax_request_inter_token_latency_seconds", out);
  header(out, "lorax_request_duration_seconds", "histogram",
         "Time from receiving a generation request to its last byte.");
  request_duration_.render("lorax_request_duration_seconds", out);
  engine_samples(out, stats);
  return out;
}

}  // namespace lorax
