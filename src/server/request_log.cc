#include "server/request_log.h"

#include <cstdio>

#include "core/log.h"
#include "server/response_headers.h"

namespace lorax {

RequestLog::RequestLog(Metrics& metrics, uint64_t id, std::string endpoint)
    : metrics_(metrics), id_(id), endpoint_(std::move(endpoint)) {}

void RequestLog::succeed(const GenerationRun& run, int64_t generated_tokens,
                         const char* finish_reason) {
  outcome_ = "success";
  detail_ = std::to_string(run.prompt_tokens()) + " prompt + " + std::to_string(generated_tokens) +
            " generated tokens, finish " + finish_reason;
  const RequestPhases p = request_phases(started_, run);
  record_ = {p.total_s,     p.validation_s, p.queue_s,
             p.inference_s, p.per_token_s,  int64_t(run.tokens().size())};
}

void RequestLog::succeed(const GenerationRun& run) {
  succeed(run, int64_t(run.tokens().size()), lorax_finish_reason(run.end()));
}

void RequestLog::fail(const ApiError& error, int status) {
  outcome_ = outcome_label(error.kind());
  internal_ = error.kind() == ErrorKind::Internal;
  detail_ = std::to_string(status) + " " + error.what();
}

RequestLog::~RequestLog() {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  metrics_.count_request(adapter_, outcome_);
  if (outcome_ == "success") {
    record_.total_s = seconds;
    metrics_.observe_success(record_);
  }
  char millis[32];
  std::snprintf(millis, sizeof(millis), "%.1f ms", seconds * 1000.0);
  const std::string prefix =
      "request " + std::to_string(id_) + " " + endpoint_ + " adapter=" + adapter_ + ": ";
  const std::string line =
      prefix + outcome_ + (detail_.empty() ? "" : ", " + detail_) + ", " + millis;
  if (outcome_ == "success")
    log_info(line);
  else if (internal_)
    log_error(line);
  else
    log_warn(line);
}

}  // namespace lorax
