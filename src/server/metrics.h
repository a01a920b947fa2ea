// Server metrics in the Prometheus text exposition format (version 0.0.4).
//
// Request counts and latency histograms are recorded here as requests run; the engine's gauges
// and counters (queue, batch, KV blocks, token counts) are read from the service at scrape time.
// Thread-safe: HTTP threads record concurrently while /metrics renders.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine_service.h"

namespace lorax {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // ascending; +Inf is implied
  void observe(double value);
  // Appends NAME_bucket{le=...} (cumulative), NAME_sum and NAME_count lines.
  void render(const std::string& name, std::string& out) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last one is +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();

  // `adapter`: "base", a registered id or "unknown" (never raw client input: label values must
  // stay few). `outcome`: "success" or an outcome_label().
  void count_request(const std::string& adapter, const std::string& outcome);
  void observe_time_to_first_token(double seconds);
  void observe_inter_token_latency(double seconds);
  void observe_request_duration(double seconds);

  std::string render(const ServiceStats& stats) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;  // (adapter, outcome)
  Histogram time_to_first_token_;
  Histogram inter_token_latency_;
  Histogram request_duration_;
};

// A label value escaped as the text format requires (backslash, double quote, newline).
std::string escape_label_value(const std::string& value);

}  // namespace lorax
