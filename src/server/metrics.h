// Server metrics in the Prometheus text exposition format (version 0.0.4), under LoRAX's names
// (its router's `metrics::` calls) where LoRAX has the series:
//
//   lorax_request_count, lorax_request_success              counters
//   lorax_request_failure{err}                              counter: validation, overloaded,
//       generation, incomplete, dropped, download_adapter, load_adapter, unauthorized, internal
//   lorax_request_duration, _validation_duration, _queue_duration, _inference_duration,
//   _mean_time_per_token_duration                           histograms, seconds, LoRAX's buckets
//   lorax_request_input_length, _max_new_tokens, _generated_tokens, _skipped_tokens,
//   _input_count                                            histograms
//   lorax_queue_length, lorax_batch_current_size, lorax_batch_current_max_tokens   gauges
//   lorax_batch_inference_count{method}, lorax_batch_inference_success{method},
//   lorax_batch_inference_failure{method}                   counters: engine steps by method
//       (prefill: a step that reads prompt tokens, decode: the others)
//   lorax_batch_inference_duration{method}                  histogram, seconds per engine step
//   lorax_batch_next_size                                   histogram: requests admitted together
//       into the batch (buckets 1..1024, as LoRAX's)
//   lorax_batch_concat{reason}                              counter: admissions that joined a
//       running batch; reason "chunking" with chunked prefill, else "wait_exceeded" (LoRAX's
//       third reason, "backpressure", belongs to a minimum batch size this engine does not have)
//
// and this server's own: per-adapter request counts and gauges (loaded, active, waiting, load
// time, cache hits and misses), per-adapter speculative decoding (steps that verified drafts,
// drafts proposed and accepted, acceptance rate), time to first token, inter-token latency, KV
// blocks, engine token and step counters.
//
// Request series are recorded here as requests run, step series as the engine steps (the service
// reports each step to observe_step()); the engine's gauges and counters are read from the
// service and the adapters' from ServedAdapters at scrape time. Thread-safe: HTTP threads record
// concurrently while /metrics renders.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine_service.h"
#include "server/server_context.h"

namespace lorax {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // ascending; +Inf is implied
  void observe(double value);
  // Appends NAME_bucket{LABELS,le=...} (cumulative), NAME_sum{LABELS} and NAME_count{LABELS}
  // lines; `labels` is empty or `key="value"` pairs joined by commas.
  void render(const std::string& name, std::string& out, const std::string& labels = "") const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last one is +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

// What is known about one adapter at scrape time (ServedAdapters::stats()).
struct AdapterStats {
  bool loaded = false;      // its weights are in memory now
  bool pinned = false;      // preloaded or loaded through the API: never evicted
  double load_seconds = 0;  // its last load from disk
  uint64_t cache_hits = 0;  // requests that found it loaded
  uint64_t cache_misses = 0;
};

// One finished generation request, as LoRAX's router records it.
struct RequestRecord {
  double total_s = 0, validation_s = 0, queue_s = 0, inference_s = 0, per_token_s = 0;
  int64_t generated_tokens = 0;
};

class Metrics {
 public:
  explicit Metrics(const ServerLimits& limits);

  // `adapter`: "base", an adapter id or "unknown" (never raw client input: label values must
  // stay few). `outcome`: "success" or an outcome_label().
  void count_request(const std::string& adapter, const std::string& outcome);
  void observe_success(const RequestRecord& record);
  // After validation: the prompt's length and the tokens the request may generate.
  void observe_admitted(int64_t input_tokens, int64_t max_new_tokens, int64_t sequences);
  void observe_time_to_first_token(double seconds);
  void observe_inter_token_latency(double seconds);
  void observe_skipped_tokens(int64_t skipped);  // per engine step of a request (LoRAX's)
  // One engine step of a request that verified speculative drafts.
  void observe_speculation(const std::string& adapter, int64_t proposed, int64_t accepted);
  // One engine step (the service's step observer). `chunked`: the engine runs chunked prefill.
  void observe_step(const StepReport& report, bool chunked);

  // Per-adapter request gauges: a sequence waits from submission to its first token, is active
  // from then to its end.
  void sequence_submitted(const std::string& adapter);
  void sequence_started(const std::string& adapter);  // first token
  void sequence_ended(const std::string& adapter, bool started);

  std::string render(const ServiceStats& stats,
                     const std::map<std::string, AdapterStats>& adapters) const;

 private:
  void render_requests(std::string& out) const;
  void render_adapters(const std::map<std::string, AdapterStats>& adapters, std::string& out) const;
  void render_steps(const ServiceStats& stats, std::string& out) const;

  mutable std::mutex mutex_;
  uint64_t requests_ = 0;
  uint64_t successes_ = 0;
  std::map<std::string, uint64_t> failures_;                          // err -> count
  std::map<std::pair<std::string, std::string>, uint64_t> outcomes_;  // (adapter, outcome)
  std::map<std::string, int64_t> waiting_, active_;                   // per adapter
  struct Speculation {
    uint64_t steps = 0, proposed = 0, accepted = 0;
  };
  std::map<std::string, Speculation> speculation_;  // per adapter
  Histogram duration_, validation_, queue_, inference_, per_token_;
  Histogram input_length_, max_new_tokens_, generated_tokens_, skipped_tokens_, input_count_;
  Histogram time_to_first_token_, inter_token_latency_;
  // Engine steps, index 0 prefill and 1 decode.
  Histogram step_duration_[2];
  uint64_t step_failures_[2] = {0, 0};
  Histogram next_batch_size_;
  std::map<std::string, uint64_t> concat_;  // reason -> count
};

// LoRAX's err label of a failed request's outcome label.
const char* failure_label(const std::string& outcome);

// A label value escaped as the text format requires (backslash, double quote, newline).
std::string escape_label_value(const std::string& value);

}  // namespace lorax
