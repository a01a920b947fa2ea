// One generation request's record: its id (in every log line about it), adapter and outcome.
// Written to the log and counted in lorax_request_count exactly once, when the record is
// destroyed, so a stream that ends because the client left is recorded too.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "server/api_error.h"
#include "server/generation_run.h"
#include "server/metrics.h"

namespace lorax {

class RequestLog {
 public:
  RequestLog(Metrics& metrics, uint64_t id, std::string endpoint);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  uint64_t id() const { return id_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  void set_adapter(std::string label) { adapter_ = std::move(label); }
  // The request was answered: `run` is the sequence answered (its timings are the request's),
  // `generated_tokens` counts those of every sequence of the request.
  void succeed(const GenerationRun& run, int64_t generated_tokens, const char* finish_reason);
  // A LoRAX request's end: its run's token counts and finish reason.
  void succeed(const GenerationRun& run);
  void fail(const ApiError& error, int status);

 private:
  Metrics& metrics_;
  const uint64_t id_;
  const std::string endpoint_;
  std::string adapter_ = "unknown";
  std::string outcome_ = "client_disconnected";  // until told otherwise
  std::string detail_;
  RequestRecord record_;   // set on success
  bool internal_ = false;  // an internal error: logged as an error, not a warning
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace lorax
